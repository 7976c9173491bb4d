import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools'
import { WebSocket } from 'ws'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll, startOnDataDir } from '../helpers/cli.js'
import { signup } from '../helpers/identity.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { assertError, call, fixture } from '../helpers/components.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { catWat, HELLO_WAT, HOG_WAT, SPIN_WAT, symlinkWat } from '../helpers/wasi-modules.js'

/** The wasi driver (`capsules.driver: wasi`): a capsule is a directory, its processes WebAssembly modules. */
describe('capsules on the wasi driver (WebAssembly modules over a directory)', function () {
  this.timeout(60_000)
  let colony: TestColony
  let base: string

  beforeEach(async () => {
    colony = await startColony({ config: { capsules: { driver: 'wasi' } } })
    base = colony.rt.urls.http
  })
  afterEach(async () => { await colony?.close() })

  const capsule = async (body: unknown = {}): Promise<string> => {
    const res = await call('POST', `${base}/v1/capsules`, body)
    assert.equal(res.status, 201, JSON.stringify(res.body))
    return res.body.id
  }
  const exec = (id: string, cmd: string, args: string[] = [], extra: Record<string, unknown> = {}) => call('POST', `${base}/v1/capsules/${id}/exec`, { cmd, args, ...extra })
  const upload = async (id: string, path: string, bytes: Uint8Array): Promise<void> => {
    const form = new FormData()
    form.set('path', path)
    form.set('file', new Blob([bytes]), 'f')
    const res = await fetch(`${base}/v1/capsules/${id}/files/write`, { method: 'POST', body: form })
    assert.equal(res.status, 204, await res.text())
  }
  const readBack = (id: string, path: string) => call('POST', `${base}/v1/capsules/${id}/files/read`, { path })
  const capsuleRoot = (id: string): string => `${colony.dataDir}/capsules/${id}/root`

  it('runs a module by name from PATH or by path; a missing command is 127, a component 126; network and terminals are 501', async () => {
    const id = await capsule()
    await upload(id, '/usr/bin/hello.wasm', await parse(HELLO_WAT))
    const byName = await exec(id, 'hello')
    assert.deepEqual({ out: byName.body.stdout, code: byName.body.exit_code }, { out: 'hello from wasi\n', code: 0 })
    assert.equal((await exec(id, '/usr/bin/hello.wasm')).body.stdout, 'hello from wasi\n')
    await upload(id, '/home/user/tools/hello.wasm', await parse(HELLO_WAT))
    assert.equal((await exec(id, './tools/hello.wasm')).body.stdout, 'hello from wasi\n', 'a relative path is from the working directory (the home)')

    const missing = await exec(id, 'ls', ['-la'])
    assert.deepEqual({ code: missing.body.exit_code, err: missing.body.stderr }, { code: 127, err: 'ls: command not found\n' })
    await upload(id, '/usr/bin/comp.wasm', await parse('(component)'))
    const component = await exec(id, 'comp')
    assert.equal(component.body.exit_code, 126)
    assert.match(component.body.stderr, /component/)
    await upload(id, '/usr/bin/text.wasm', Buffer.from('not wasm'))
    assert.equal((await exec(id, 'text')).body.exit_code, 126)

    const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/capsules/${id}/pty`)
    const frame = new Promise<any>((resolve) => ws.once('message', (data) => resolve(JSON.parse((data as Buffer).toString('utf8')))))
    const closed = new Promise((resolve) => ws.once('close', resolve))
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    ws.send(JSON.stringify({ type: 'start' }))
    const refused = await frame
    assert.equal(refused.type, 'error')
    assert.match(refused.data, /no terminals/)
    ws.close()
    await closed

    assertError(await call('POST', `${base}/v1/capsules`, { network: true }), 501, 'capsule_unsupported')
    assert.deepEqual((await call('GET', `${base}/v1/capsules`)).body.map((c: any) => c.id), [id], 'the refused capsule left nothing')
    assertError(await call('POST', `${base}/v1/capsules/${id}/exec`, {}), 400, 'invalid_body')
    assertError(await exec('cl-nope', 'hello'), 404, 'capsule_not_found')
  })

  it('the files API and the modules see the same files, and neither reaches the host', async () => {
    const id = await capsule()
    await upload(id, '/home/user/in.txt', Buffer.from('inside'))
    await upload(id, '/usr/bin/cat-in.wasm', await parse(catWat('home/user/in.txt')))
    assert.equal((await exec(id, 'cat-in')).body.stdout, 'inside')

    // A module cannot open the host's files: the WASI layer refuses a path or a link that climbs out of its `/`.
    await upload(id, '/usr/bin/cat-up.wasm', await parse(catWat('../../../etc/hostname')))
    const climbed = await exec(id, 'cat-up')
    assert.notEqual(climbed.body.exit_code, 0)
    assert.equal(climbed.body.stdout, '')
    // Node's WASI would follow a link that climbs out, so modules may make none, absolute or relative.
    for (const [target, link] of [['/etc', 'home/user/abs-link'], ['../../../../../../../../etc', 'home/user/up-link'], ['in.txt', 'home/user/in-link']]) {
      await upload(id, '/usr/bin/mklink.wasm', await parse(symlinkWat(target as string, link as string)))
      assert.equal((await exec(id, 'mklink')).body.exit_code, 10 + 63, `EPERM for a link to ${target}`)
    }
    const listed = await call('POST', `${base}/v1/capsules/${id}/files/list`, { path: '/home/user' })
    assert.deepEqual(listed.body.entries.map((e: any) => e.name).sort(), ['in.txt'], 'no link was made')
    // The files API resolves inside the capsule: its /etc, which has no hostname; writes land there too.
    assertError(await readBack(id, '/etc/hostname'), 404, 'file_not_found')
    assertError(await readBack(id, '/home/user/../../../../etc/hostname'), 404, 'file_not_found')
    const marker = `colony-wasi-${process.pid}-${Date.now()}`
    await upload(id, `/../../../etc/${marker}`, Buffer.from('x'))
    assert.equal(existsSync(`/etc/${marker}`), false, 'the host is unchanged')
    assert.equal(readFileSync(`${capsuleRoot(id)}/etc/${marker}`, 'utf8'), 'x')
  })

  it('pause stops a spinning module (stopped, no CPU), resume continues it; a timeout kills it; hibernate and resume keep the files', async () => {
    const id = await capsule()
    await upload(id, '/usr/bin/spin.wasm', await parse(SPIN_WAT))
    const started = await exec(id, 'spin', [], { background: true, tag: 'spin' })
    assert.equal(started.status, 202, JSON.stringify(started.body))
    const pid: number = started.body.pid
    const stat = (): { state: string, cpu: number } => {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
      return { state: f[0] as string, cpu: Number(f[11]) + Number(f[12]) }
    }
    // It spins: its CPU time moves (clock ticks of 10 ms).
    const first = stat().cpu
    while (stat().cpu < first + 5) await new Promise((resolve) => setTimeout(resolve, 10)) // CPU time has no event to await

    assert.equal((await call('POST', `${base}/v1/capsules/${id}/pause`)).body.status, 'paused')
    assertError(await exec(id, 'spin'), 409, 'capsule_not_running')
    const frozen = stat()
    assert.equal(frozen.state, 'T', 'stopped')
    await new Promise((resolve) => setTimeout(resolve, 300)) // wall time must pass to show no CPU is used
    assert.equal(stat().cpu, frozen.cpu, 'no CPU while paused')
    assert.equal((await call('POST', `${base}/v1/capsules/${id}/resume`)).body.status, 'running')
    const resumed = stat().cpu
    while (stat().cpu < resumed + 5) await new Promise((resolve) => setTimeout(resolve, 10)) // CPU time has no event to await
    assert.equal((await call('DELETE', `${base}/v1/capsules/${id}/processes/spin`)).status, 204)

    const slow = await exec(id, 'spin', [], { timeout_sec: 1 })
    assert.deepEqual({ timedOut: slow.body.timed_out, code: slow.body.exit_code }, { timedOut: true, code: 124 })

    await upload(id, '/home/user/kept.txt', Buffer.from('kept'))
    assert.equal((await call('POST', `${base}/v1/capsules/${id}/hibernate`)).body.status, 'hibernated')
    assert.equal((await call('POST', `${base}/v1/capsules/${id}/resume`)).body.status, 'running')
    assert.equal((await fetch(`${base}/v1/capsules/${id}/files/read`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '/home/user/kept.txt' }) })).status, 200)
    assert.equal((await call('DELETE', `${base}/v1/capsules/${id}`)).status, 204)
    assert.equal(existsSync(capsuleRoot(id)), false, 'destroy removes the directory')
  })

  it('memory over the limit is an OOM kill: an alert, and Colony lives', async () => {
    const id = await capsule({ memory_mb: 64 })
    await upload(id, '/usr/bin/hog.wasm', await parse(HOG_WAT))
    const mqtt: Recorder = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.subscribe(`agents/${id}/alert`)
      const from = mqtt.mark
      const hog = await exec(id, 'hog', [], { timeout_sec: 30 })
      assert.equal(hog.body.exit_code, 137, JSON.stringify(hog.body))
      await mqtt.next((m) => m.json?.code === 'capsule_oom', { from, what: 'the OOM alert' })
    } finally {
      await mqtt.close()
    }
    assert.equal((await call('GET', `${base}/api/health`)).status, 200)
    assert.equal((await call('GET', `${base}/v1/capsules/${id}`)).body.status, 'running')
  })

  it('sessions (wasmrun) run their WASI modules on the wasi driver too', async () => {
    const created = await call('POST', `${base}/api/v1/sessions`)
    assert.equal(created.status, 200, JSON.stringify(created.body))
    const url = `${base}/api/v1/sessions/${created.body.session_id}`
    const wasm = Buffer.from(await parse(HELLO_WAT))
    await call('POST', `${url}/files`, { path: '/bin/hello.wasm', content: wasm.toString('base64'), encoding: 'base64' })
    const ran = await call('POST', `${url}/exec`, { wasm_path: 'bin/hello.wasm' })
    assert.deepEqual({ out: ran.body.stdout, code: ran.body.exit_code }, { out: 'hello from wasi\n', code: 0 })
    assert.equal((await call('POST', `${url}/exec`, { wasm_path: 'bin/hello.wasm', function: 'add', args: ['2', '40'] })).body.stdout, '42\n')
    // The module sees the session's root (the home) as `/`.
    await call('POST', `${url}/files`, { path: 'note.txt', content: 'from the session' })
    await call('POST', `${url}/files`, { path: 'bin/cat.wasm', content: Buffer.from(await parse(catWat('note.txt'))).toString('base64'), encoding: 'base64' })
    assert.equal((await call('POST', `${url}/exec`, { wasm_path: 'bin/cat.wasm' })).body.stdout, 'from the session')
    // A wasi:cli/run component runs too, as Colony's component actors do, over the same directory.
    await call('POST', `${url}/files`, { path: 'bin/hello-component.wasm', content: Buffer.from(await fixture('hello')).toString('base64'), encoding: 'base64' })
    const component = await call('POST', `${url}/exec`, { wasm_path: 'bin/hello-component.wasm' })
    assert.deepEqual({ out: component.body.stdout, err: component.body.stderr, code: component.body.exit_code }, { out: 'hello from colony\n', err: 'a line on stderr\n', code: 0 })
    const command = await call('POST', `${url}/exec`, { command: 'echo hi' })
    assert.equal(command.body.exit_code, 127, 'no shell on the wasi driver')
  })
})

describe('wasi capsules survive kill -9 of Colony', () => {
  let dataDir: string
  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'colony-wasi-kill-')) })
  afterEach(() => {
    killAll()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('a running capsule runs again with its files and modules; a paused one comes back hibernated and resumes', async function () {
    this.timeout(60_000)
    const env = { COLONY_CAPSULES_DRIVER: 'wasi' }
    let colony = await startOnDataDir(dataDir, env)
    const alice = await signup(colony.http, 'alice')
    const c = { token: alice.token }
    const create = async (): Promise<string> => {
      const res = await call('POST', `${colony.http}/v1/capsules`, {}, c)
      assert.equal(res.status, 201, JSON.stringify(res.body))
      return res.body.id
    }
    const running = await create()
    const paused = await create()
    const hello = Buffer.from(await parse(HELLO_WAT)).toString('base64')
    for (const id of [running, paused]) {
      const form = new FormData()
      form.set('path', '/usr/bin/hello.wasm')
      form.set('file', new Blob([Buffer.from(hello, 'base64')]), 'hello.wasm')
      const res = await fetch(`${colony.http}/v1/capsules/${id}/files/write`, { method: 'POST', body: form, headers: { authorization: `Bearer ${alice.token}` } })
      assert.equal(res.status, 204, await res.text())
    }
    const spin = new FormData()
    spin.set('path', '/usr/bin/spin.wasm')
    spin.set('file', new Blob([await parse(SPIN_WAT)]), 'spin.wasm')
    assert.equal((await fetch(`${colony.http}/v1/capsules/${running}/files/write`, { method: 'POST', body: spin, headers: { authorization: `Bearer ${alice.token}` } })).status, 204)
    const spinning = await call('POST', `${colony.http}/v1/capsules/${running}/exec`, { cmd: 'spin', background: true }, c)
    assert.equal(spinning.status, 202, JSON.stringify(spinning.body))
    assert.equal((await call('POST', `${colony.http}/v1/capsules/${paused}/pause`, undefined, c)).body.status, 'paused')

    colony.child.kill('SIGKILL')
    await colony.exited
    // The module's process dies with Colony (its parent-death signal); waited for, bounded by the test's timeout.
    while (existsSync(`/proc/${spinning.body.pid as number}`) && !readFileSync(`/proc/${spinning.body.pid as number}/stat`, 'utf8').includes(') Z')) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    colony = await startOnDataDir(dataDir, env)
    const status = async (id: string): Promise<string> => (await call('GET', `${colony.http}/v1/capsules/${id}`, undefined, c)).body.status
    assert.equal(await status(running), 'running')
    assert.equal(await status(paused), 'hibernated')
    const ran = await call('POST', `${colony.http}/v1/capsules/${running}/exec`, { cmd: 'hello' }, c)
    assert.equal(ran.body.stdout, 'hello from wasi\n')
    assert.equal((await call('POST', `${colony.http}/v1/capsules/${paused}/resume`, undefined, c)).body.status, 'running')
    assert.equal((await call('POST', `${colony.http}/v1/capsules/${paused}/exec`, { cmd: 'hello' }, c)).body.stdout, 'hello from wasi\n')
  })
})
