/**
 * The namespace capsule driver against the real thing: bubblewrap, overlayfs and cgroups on this host (root).
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile, stat, readdir } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { ColonyError, ERROR_CODES } from '../../../src/errors.js'
import type { CapsuleSandbox, CapsuleSpec, ExecResult } from '../../../src/capsules/driver.js'
import { NamespaceDriver } from '../../../src/capsules/namespace/driver.js'
import { maskedPaths } from '../../../src/capsules/namespace/rootfs.js'
import { encodeExec, encodeLeaf, enterBinary, execServer } from '../../../src/capsules/namespace/enter.js'

const CGROUP_PARENT = 'colony-capsules-test'

function cgroupDirs (id: string): string[] {
  return ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'].map((c) => `/sys/fs/cgroup/${c}/${CGROUP_PARENT}/${id}`)
}

/** Running (a zombie Node has not reaped yet is dead). */
function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** The parent of a host process. */
function parentOf (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
}

function hostProcessesOf (id: string): string[] {
  return execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`--hostname ${id} `))
}

function text (r: ExecResult): string { return r.stdout.toString() }

describe('capsules: the namespace driver', function () {
  this.timeout(20_000)
  let driver: NamespaceDriver
  let root: string
  const sandboxes: CapsuleSandbox[] = []

  function spec (over: Partial<CapsuleSpec> = {}): CapsuleSpec {
    const id = over.id ?? `cl-${randomBytes(8).toString('hex')}`
    return { id, dir: join(root, id), layers: [], memoryMb: 256, vcpus: 1, pidsMax: 64, network: false, env: {}, ...over }
  }

  async function make (over: Partial<CapsuleSpec> = {}): Promise<CapsuleSandbox> {
    const sandbox = await driver.create(spec(over))
    sandboxes.push(sandbox)
    return sandbox
  }

  async function sh (sandbox: CapsuleSandbox, script: string, extra: Partial<Parameters<CapsuleSandbox['exec']>[0]> = {}): Promise<ExecResult> {
    return await sandbox.exec({ cmd: 'sh', args: ['-c', script], timeoutMs: 10_000, maxOutputBytes: 1 << 20, ...extra })
  }

  before(async () => {
    driver = new NamespaceDriver({ cgroupParent: CGROUP_PARENT, oomPollMs: 100 })
    await driver.check()
    root = await mkdtemp(join(tmpdir(), 'colony-capsules-'))
  })

  afterEach(async () => {
    for (const s of sandboxes.splice(0)) await s.destroy()
  })

  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('has error codes for a host without capsules and a capsule that is not running', () => {
    assert.equal(ERROR_CODES.capsule_unavailable.status, 503)
    assert.equal(new ColonyError('capsule_not_running').status, 409)
  })

  it('a host without bubblewrap refuses every capsule with capsule_unavailable naming it, and runs nothing', async () => {
    const bare = await mkdtemp(join(tmpdir(), 'colony-no-tools-'))
    try {
      const without = new NamespaceDriver({ cgroupParent: CGROUP_PARENT, searchPath: [bare] })
      const refused = (err: unknown): boolean => err instanceof ColonyError && err.code === 'capsule_unavailable' && err.status === 503 && /bwrap \(Debian package bubblewrap\)/.test(err.message)
      await assert.rejects(without.check(), refused)
      const s = spec()
      await assert.rejects(without.create(s), refused)
      assert.equal(existsSync(s.dir), false, 'nothing of the capsule was made')
    } finally {
      await rm(bare, { recursive: true, force: true })
    }
  })

  it('hides every top-level entry of the host but the system trees, the shadow files and extra paths', async () => {
    const hidden = await maskedPaths({ base: '/', hidden: ['/usr/share/colony-data', '/work/x'], etcUnreadable: ['/etc/ssl/private'], network: false })
    for (const p of ['root', 'home', 'tmp', 'var', 'run', 'work', 'etc/shadow', 'etc/gshadow', 'etc/ssl/private', 'usr/share/colony-data']) {
      assert.ok(hidden.includes(p), p)
    }
    for (const p of ['usr', 'etc', 'bin', 'proc', 'dev', 'work/x']) assert.ok(!hidden.includes(p), p)
  })

  it('the build compiled capsule-enter (scripts/setup.sh installs gcc)', () => {
    assert.ok(enterBinary() !== undefined, 'dist/native/capsule-enter')
  })

  describe('the exec server', () => {
    it('starts the init, so Colony forks nothing for it; a server that dies alone takes no capsule with it', async () => {
      const server = await execServer()
      assert.ok(server !== undefined)
      const capsule = await make()
      // pid 1 of the capsule ← bwrap ← the server's handler ← the server ← this process.
      const bwrap = parentOf((capsule as unknown as { nsPid: number }).nsPid)
      const handler = parentOf(bwrap)
      assert.equal(readFileSync(`/proc/${bwrap}/comm`, 'utf8').trim(), 'bwrap')
      assert.equal(parentOf(parentOf(handler)), process.pid)
      const died = new Promise<void>((resolve) => { server.onDeath(resolve) })
      process.kill(parentOf(handler), 'SIGKILL')
      await died
      assert.ok(alive(handler) && alive(bwrap))
      assert.equal(text(await sh(capsule, 'echo still')), 'still\n')
      await capsule.destroy()
      assert.deepEqual(hostProcessesOf(capsule.id), [])
      assert.equal(alive(bwrap), false)
    })

    it('serves no process of another user namespace (as every capsule process is)', async () => {
      const server = await execServer()
      assert.ok(server !== undefined)
      const capsule = await make()
      const marker = `/tmp/colony-served-${randomBytes(4).toString('hex')}`
      const { procsFiles } = (capsule as unknown as { newLeaf: () => { procsFiles: string[] } }).newLeaf()
      const request = Buffer.concat([encodeLeaf({ procsFiles }),
        encodeExec({ nsPid: (capsule as unknown as { nsPid: number }).nsPid, cwd: '/', argv: ['touch', marker], env: { PATH: '/usr/bin:/bin' } })])
      // A client in a user namespace of its own: what it gets back, as hex.
      const client = `const s = require('net').createConnection(${JSON.stringify(server.socketPath)}); let n = 0
        s.on('data', (b) => { n += b.length }); s.on('close', () => { console.log(n) }); s.on('error', () => {})
        s.end(Buffer.from(${JSON.stringify(request.toString('hex'))}, 'hex'))`
      const answered = execFileSync('unshare', ['--user', '--map-root-user', process.execPath, '-e', client], { encoding: 'utf8' })
      assert.equal(answered.trim(), '0')
      assert.equal((await capsule.exec({ cmd: 'ls', args: [marker], timeoutMs: 5000, maxOutputBytes: 100 })).exitCode, 2)
    })
  })

  // The same behaviour through capsule-enter (the default) and through the chain of tools (without the binary).
  for (const viaTools of [false, true]) describe(viaTools ? 'exec through the chain of tools (no capsule-enter)' : 'exec', () => {
    let capsule: CapsuleSandbox

    before(async () => {
      const d = viaTools ? new NamespaceDriver({ cgroupParent: CGROUP_PARENT, oomPollMs: 100, enterBinary: false }) : driver
      capsule = await d.create(spec({ env: { FROM_SPEC: 'spec', SHARED: 'spec' } }))
    })

    after(async () => { await capsule.destroy() })

    it('runs argv without a shell and returns its output and exit code', async () => {
      const r = await capsule.exec({ cmd: 'echo', args: ['hello', '$HOME', ';', 'ls'], timeoutMs: 5000, maxOutputBytes: 1000 })
      assert.equal(text(r), 'hello $HOME ; ls\n')
      assert.equal(r.exitCode, 0)
      assert.equal(r.timedOut, false)
      assert.equal(r.truncated, false)
      assert.ok(r.durationMs >= 0)
    })

    it('reports exit codes, 128 + n after signal n, 127 for a missing command', async () => {
      assert.equal((await sh(capsule, 'exit 7')).exitCode, 7)
      assert.equal((await sh(capsule, 'kill -TERM $$')).exitCode, 143)
      const missing = await capsule.exec({ cmd: 'no-such-command', args: [], timeoutMs: 5000, maxOutputBytes: 1000 })
      assert.equal(missing.exitCode, 127)
    })

    it('runs as uid 1000 with no capability, default env under spec env under request env, cwd home by default', async () => {
      const r = await sh(capsule, 'id -u; id -un; grep CapEff /proc/self/status; pwd; echo "$HOME $USER $LOGNAME $PATH"; echo "$FROM_SPEC $SHARED $FROM_REQ"; grep NoNewPrivs /proc/self/status',
        { env: { SHARED: 'req', FROM_REQ: 'req' } })
      const lines = text(r).split('\n')
      assert.match(lines[6] ?? '', /NoNewPrivs:\s+1$/)
      assert.equal(lines[0], '1000')
      assert.equal(lines[1], 'user')
      assert.match(lines[2] ?? '', /CapEff:\s+0+$/)
      assert.equal(lines[3], '/home/user')
      assert.equal(lines[4], '/home/user user user /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
      assert.equal(lines[5], 'spec req req')
      assert.equal(text(await capsule.exec({ cmd: 'pwd', args: [], cwd: '/tmp', timeoutMs: 5000, maxOutputBytes: 100 })), '/tmp\n')
      assert.notEqual((await capsule.exec({ cmd: 'pwd', args: [], cwd: '/nowhere', timeoutMs: 5000, maxOutputBytes: 100 })).exitCode, 0)
    })

    it('kills the whole process tree on timeout (124)', async () => {
      const r = await sh(capsule, 'sleep 30 & sleep 30 & echo started; wait', { timeoutMs: 300 })
      assert.equal(r.exitCode, 124)
      assert.equal(r.timedOut, true)
      assert.equal(text(r), 'started\n')
      assert.ok(r.durationMs < 5000, `${r.durationMs}`)
      assert.doesNotMatch(text(await capsule.exec({ cmd: 'ps', args: ['ax'], timeoutMs: 5000, maxOutputBytes: 10000 })), /sleep 30/)
    })

    it('kills what a finished command left behind', async () => {
      const r = await sh(capsule, 'sleep 30 >/dev/null 2>&1 & echo $!')
      assert.equal(r.exitCode, 0)
      assert.doesNotMatch(text(await capsule.exec({ cmd: 'ps', args: ['ax'], timeoutMs: 5000, maxOutputBytes: 10000 })), /sleep 30/)
    })

    it('cuts stdout and stderr at maxOutputBytes', async () => {
      const r = await sh(capsule, 'head -c 100000 /dev/zero; head -c 50 /dev/zero >&2', { maxOutputBytes: 1000 })
      assert.equal(r.stdout.length, 1000)
      assert.equal(r.stderr.length, 50)
      assert.equal(r.truncated, true)
      assert.equal(r.exitCode, 0)
    })

    it('feeds stdin', async () => {
      const input = randomBytes(300_000)
      const r = await capsule.exec({ cmd: 'sha256sum', args: [], stdin: input, timeoutMs: 5000, maxOutputBytes: 1000 })
      const expected = execFileSync('sha256sum', { input }).toString()
      assert.equal(text(r), expected)
    })

    it('streams a spawned process: stdout, stderr, stdin, exit', async () => {
      const proc = capsule.spawn({ cmd: 'sh', args: ['-c', 'echo out; echo err >&2; read x; echo "got $x"; exit 3'] })
      let out = ''
      let err = ''
      proc.on('stdout', (b) => { out += b.toString() })
      proc.on('stderr', (b) => { err += b.toString() })
      proc.write(Buffer.from('hi\n'))
      const [code] = await once(proc, 'exit') as [number, string | null]
      assert.equal(code, 3)
      assert.equal(out, 'out\ngot hi\n')
      assert.equal(err, 'err\n')
      const sleeper = capsule.spawn({ cmd: 'sleep', args: ['30'] })
      const exited = once(sleeper, 'exit')
      sleeper.kill('SIGTERM')
      assert.deepEqual((await exited)[0], 143)
    })

    it('gives plausible stats', async () => {
      await sh(capsule, 'head -c 2000000 /dev/urandom > /home/user/blob')
      const s = await capsule.stats()
      assert.ok(s.diskBytes >= 2_000_000, `disk ${s.diskBytes}`)
      assert.ok(s.memoryBytes > 0 && s.memoryBytes < 256 * 1024 * 1024, `memory ${s.memoryBytes}`)
      assert.ok(s.cpuNs > 0, `cpu ${s.cpuNs}`)
      assert.ok(s.pids >= 2 && s.pids < 10, `pids ${s.pids}`)
    })

    it('runs the next exec even when the handler kept ready for it was killed', async () => {
      // Every process in a process leaf (p<n>) while nothing runs: the exec handler kept ready, if any.
      const root = [`/sys/fs/cgroup/freezer/${CGROUP_PARENT}/${capsule.id}`, `/sys/fs/cgroup/${CGROUP_PARENT}/${capsule.id}`].find((d) => existsSync(d)) as string
      for (let round = 0; round < 3; round++) {
        for (const leaf of (await readdir(root)).filter((n) => /^p\d+$/.test(n))) {
          for (const pid of readFileSync(join(root, leaf, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '')) {
            try { process.kill(Number(pid), 'SIGKILL') } catch { /* gone */ }
          }
        }
        const r = await capsule.exec({ cmd: 'echo', args: ['still here'], timeoutMs: 5000, maxOutputBytes: 100 })
        assert.equal(text(r), 'still here\n')
        assert.equal(r.exitCode, 0)
      }
    })
  })

  describe('isolation', () => {
    let capsule: CapsuleSandbox
    let secretDir: string
    const rootSecret = `/root/colony-capsule-secret-${randomBytes(4).toString('hex')}`

    before(async () => {
      secretDir = await mkdtemp(join(tmpdir(), 'colony-secret-'))
      await writeFile(join(secretDir, 'secret.txt'), 'host secret')
      await writeFile(rootSecret, 'root secret')
      capsule = await driver.create(spec())
    })

    after(async () => {
      await capsule.destroy()
      await rm(secretDir, { recursive: true, force: true })
      await rm(rootSecret, { force: true })
    })

    it('cannot read host files by absolute path, .. traversal or /proc/1/root', async () => {
      const targets = [join(secretDir, 'secret.txt'), rootSecret, join(process.cwd(), 'package.json'), '/etc/shadow',
        `../../../..${join(secretDir, 'secret.txt')}`, `/proc/1/root${rootSecret}`, `/proc/self/root${join(secretDir, 'secret.txt')}`]
      for (const t of targets) {
        const r = await capsule.exec({ cmd: 'cat', args: [t], timeoutMs: 5000, maxOutputBytes: 1000 })
        assert.notEqual(r.exitCode, 0, t)
        assert.equal(r.stdout.length, 0, t)
      }
      const top = text(await capsule.exec({ cmd: 'ls', args: ['/', '/proc/1/root/', '/home', '/tmp', '/root', '/var'], timeoutMs: 5000, maxOutputBytes: 10000 }))
      assert.doesNotMatch(top, /work|secret|colony/)
    })

    it('cannot reach a host file through a symlink or a hard link made inside', async () => {
      const r = await sh(capsule, `ln -s ${rootSecret} /home/user/s; cat /home/user/s; ln ${join(secretDir, 'secret.txt')} /home/user/h; cat /home/user/h; ` +
        'ln /etc/hostname /home/user/hn && echo changed >> /home/user/hn; echo done')
      assert.doesNotMatch(text(r), /secret/)
      assert.match(text(r), /done/)
      assert.doesNotMatch(readFileSync('/etc/hostname', 'utf8'), /changed/)
    })

    it('writes land in its upper layer only', async () => {
      const name = `colony-capsule-${randomBytes(4).toString('hex')}`
      const r = await sh(capsule, `touch /etc/${name} && echo x > /usr/local/${name} && echo ok`)
      assert.equal(text(r), 'ok\n')
      assert.equal(existsSync(`/etc/${name}`), false)
      assert.equal(existsSync(`/usr/local/${name}`), false)
      assert.ok(existsSync(join(capsule.upperDir, 'etc', name)))
      const sysWrite = await sh(capsule, 'ls /sys; echo 1 > /sys/kernel/x')
      assert.notEqual(sysWrite.exitCode, 0)
      assert.equal(text(sysWrite), '')
    })

    it('has no network by default', async () => {
      const server: Server = createServer((socket) => { socket.end('hello') })
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      let connections = 0
      server.on('connection', () => { connections++ })
      try {
        const port = (server.address() as { port: number }).port
        const r = await capsule.exec({ cmd: 'bash', args: ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port} && cat <&3`], timeoutMs: 5000, maxOutputBytes: 1000 })
        assert.notEqual(r.exitCode, 0)
        assert.equal(connections, 0)
        const links = text(await capsule.exec({ cmd: 'cat', args: ['/proc/net/dev'], timeoutMs: 5000, maxOutputBytes: 10000 }))
        assert.deepEqual(links.split('\n').slice(2).filter((l) => l.trim().length > 0).map((l) => l.split(':')[0]?.trim()), ['lo'])
        const shared = await make({ network: true })
        const r2 = await shared.exec({ cmd: 'bash', args: ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port} && cat <&3`], timeoutMs: 5000, maxOutputBytes: 1000 })
        assert.equal(text(r2), 'hello')
      } finally {
        server.close()
      }
    })
  })

  describe('limits', () => {
    it('stops a fork bomb at pidsMax; the capsule and Colony carry on', async () => {
      const capsule = await make({ pidsMax: 24 })
      const r = await sh(capsule, 'f() { f | f & }; f; sleep 1; echo survived', { timeoutMs: 4000 })
      assert.match(r.stderr.toString(), /fork|Resource temporarily unavailable/i)
      const pidsMax = Number(readFileSync(`/sys/fs/cgroup/pids/${CGROUP_PARENT}/${capsule.id}/pids.max`, 'utf8'))
      assert.equal(pidsMax, 24)
      assert.equal(text(await capsule.exec({ cmd: 'echo', args: ['alive'], timeoutMs: 5000, maxOutputBytes: 100 })), 'alive\n')
    })

    it('OOM-kills a memory hog and reports it', async () => {
      const capsule = await make({ memoryMb: 48 })
      const oom = new Promise<void>((resolve) => {
        const on = (id: string): void => { if (id === capsule.id) { driver.events.off('oom', on); resolve() } }
        driver.events.on('oom', on)
      })
      const r = await sh(capsule, 'head -c 400000000 /dev/zero | tail > /dev/null; echo "tail: $?"', { timeoutMs: 10_000 })
      await oom
      assert.match(text(r), /tail: 137/)
      assert.equal(text(await capsule.exec({ cmd: 'echo', args: ['alive'], timeoutMs: 5000, maxOutputBytes: 100 })), 'alive\n')
    })
  })

  describe('lifecycle', () => {
    it('pause freezes every process (no progress, no CPU); resume continues', async () => {
      const capsule = await make()
      const loop = capsule.spawn({ cmd: 'sh', args: ['-c', 'i=0; while :; do i=$((i+1)); [ $((i % 2000)) = 0 ] && echo $i; done'] })
      let ticks = 0
      loop.on('stdout', () => { ticks++ })
      await once(loop, 'stdout')
      await capsule.pause()
      assert.equal(capsule.running, false)
      await assert.rejects(capsule.exec({ cmd: 'true', args: [], timeoutMs: 1000, maxOutputBytes: 10 }), { code: 'capsule_not_running' })
      const frozenAt = ticks
      const cpuBefore = (await capsule.stats()).cpuNs
      await new Promise((resolve) => setTimeout(resolve, 300)) // measuring that nothing happens needs a wait
      assert.equal(ticks, frozenAt)
      assert.equal((await capsule.stats()).cpuNs, cpuBefore)
      await capsule.resume()
      assert.equal(capsule.running, true)
      await once(loop, 'stdout')
      assert.ok(ticks > frozenAt)
      loop.kill()
      await once(loop, 'exit')
    })

    it('hibernate stops everything and keeps the files; resume starts it again', async () => {
      const capsule = await make()
      await sh(capsule, 'echo kept > /home/user/keep.txt; echo tmp > /tmp/t.txt')
      const sleeper = capsule.spawn({ cmd: 'sleep', args: ['1000'] })
      const exited = once(sleeper, 'exit')
      await capsule.hibernate()
      await exited
      assert.equal(capsule.running, false)
      assert.deepEqual(hostProcessesOf(capsule.id), [])
      assert.ok(cgroupDirs(capsule.id).every((d) => !existsSync(d)))
      assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(capsule.id))
      await assert.rejects(sh(capsule, 'true'), { code: 'capsule_not_running' })
      await capsule.resume()
      assert.equal(text(await sh(capsule, 'cat /home/user/keep.txt /tmp/t.txt')), 'kept\ntmp\n')
    })

    it('destroy leaves no process, cgroup, mount or file', async () => {
      const capsule = await make()
      const sleeper = capsule.spawn({ cmd: 'sh', args: ['-c', 'sleep 1000 & sleep 1000 & echo up; wait'] })
      await once(sleeper, 'stdout')
      const pids = readFileSync(`/sys/fs/cgroup/pids/${CGROUP_PARENT}/${capsule.id}/cgroup.procs`, 'utf8').trim().split('\n').map(Number)
      assert.ok(pids.length >= 5, `${pids.length}`)
      await capsule.destroy()
      assert.deepEqual(pids.filter(alive), [])
      assert.deepEqual(hostProcessesOf(capsule.id), [])
      assert.ok(cgroupDirs(capsule.id).every((d) => !existsSync(d)))
      assert.equal(existsSync(join(root, capsule.id)), false)
      await capsule.destroy() // again: nothing to do
      await assert.rejects(capsule.resume(), { code: 'capsule_not_found' })
    })

    it('reports a capsule whose init vanished; a new driver reopens it hibernated with its files', async () => {
      const s = spec()
      const capsule = await make(s)
      await sh(capsule, 'echo survived > /home/user/f')
      const vanished = new Promise<void>((resolve) => {
        const on = (id: string): void => { if (id === s.id) { driver.events.off('vanished', on); resolve() } }
        driver.events.on('vanished', on)
      })
      await sh(capsule, 'kill -KILL 2') // the init's sleep: pid 1 ends, and with it the pid namespace
      await vanished
      assert.equal(capsule.running, false)
      const other = new NamespaceDriver({ cgroupParent: CGROUP_PARENT })
      const reopened = await other.reopen(s)
      sandboxes.push(reopened)
      assert.equal(reopened.running, false)
      assert.ok((await stat(reopened.upperDir)).isDirectory())
      await reopened.resume()
      assert.equal(text(await sh(reopened, 'cat /home/user/f')), 'survived\n')
      await assert.rejects(other.reopen(spec()), { code: 'capsule_not_found' })
    })
  })

  describe('pty', () => {
    it('runs bash: resize, Ctrl-C, exit code', async () => {
      const capsule = await make()
      const term = capsule.pty({ cmd: 'bash', args: ['--norc', '--noprofile', '-i'], cols: 100, rows: 30, env: { PS1: 'PROMPT> ' } })
      let screen = ''
      const waiters: Array<{ re: RegExp, resolve: () => void }> = []
      term.on('data', (b) => {
        screen += b.toString()
        for (const w of waiters.splice(0)) {
          if (w.re.test(screen)) w.resolve()
          else waiters.push(w)
        }
      })
      const waitFor = async (re: RegExp): Promise<void> => {
        if (re.test(screen)) return
        await new Promise<void>((resolve) => waiters.push({ re, resolve }))
      }
      await waitFor(/PROMPT> /)
      term.write('stty size\r')
      await waitFor(/30 100/)
      term.resize(120, 40)
      term.write('stty size\r')
      await waitFor(/40 120/)
      // The job is the terminal's foreground group once it prints: Ctrl-C reaches it, not bash.
      term.write("sh -c 'echo ready-$((6*7)); exec sleep 30'; echo slept-$((40+2))\r")
      await waitFor(/ready-42/)
      term.write('\x03')
      term.write('echo after-$((1+1))\r')
      await waitFor(/after-2/)
      assert.doesNotMatch(screen, /slept-42/)
      const exited = once(term, 'exit')
      term.write('exit 3\r')
      assert.equal((await exited)[0], 3)
    })
  })

  it('refuses a spec with a bad id or a relative dir', async () => {
    await assert.rejects(driver.create(spec({ id: '../x' })), { code: 'invalid_body' })
    await assert.rejects(driver.create({ ...spec(), dir: 'relative/dir' }), { code: 'invalid_body' })
    assert.deepEqual(await readdir(root), [])
  })
})
