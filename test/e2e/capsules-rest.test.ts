import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { WebSocket } from 'ws'
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools'
import { ManualClock } from '../../src/clock.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { assertError, call, fixture } from '../helpers/components.js'
import { signup } from '../helpers/identity.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { HELLO_WAT } from '../helpers/wasi-modules.js'

interface Frames { frames: any[], ws: WebSocket, next: (test: (f: any) => boolean) => Promise<any>, closed: Promise<number> }

async function openWs (url: string): Promise<Frames> {
  const ws = new WebSocket(url)
  const frames: any[] = []
  const waiting: Array<{ test: (f: any) => boolean, resolve: (f: any) => void }> = []
  ws.on('message', (data) => {
    const f = JSON.parse((data as Buffer).toString('utf8'))
    frames.push(f)
    for (const w of [...waiting]) {
      if (w.test(f)) {
        waiting.splice(waiting.indexOf(w), 1)
        w.resolve(f)
      }
    }
  })
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const next = (test: (f: any) => boolean): Promise<any> => {
    const seen = frames.find(test)
    if (seen !== undefined) {
      frames.splice(frames.indexOf(seen), 1)
      return Promise.resolve(seen)
    }
    return new Promise((resolve) => waiting.push({ test, resolve: (f) => { frames.splice(frames.indexOf(f), 1); resolve(f) } }))
  }
  return { frames, ws, next, closed }
}

describe('capsules over REST (Wrenn) and sessions (wasmrun), in a real sandbox', function () {
  this.timeout(60_000)
  let colony: TestColony
  let base: string
  const capsule = async (body: unknown = {}): Promise<string> => {
    const res = await call('POST', `${base}/v1/capsules`, body)
    assert.equal(res.status, 201, JSON.stringify(res.body))
    return res.body.id
  }
  const exec = (id: string, cmd: string, args: string[] = [], extra: Record<string, unknown> = {}) => call('POST', `${base}/v1/capsules/${id}/exec`, { cmd, args, ...extra })
  const sh = async (id: string, script: string): Promise<any> => {
    const res = await exec(id, '/bin/sh', ['-c', script])
    assert.equal(res.status, 200, JSON.stringify(res.body))
    return res.body
  }

  describe('with the real clock', () => {
    beforeEach(async () => {
      colony = await startColony()
      base = colony.rt.urls.http
    })
    afterEach(async () => { await colony?.close() })

    it('create, list, get, exec (argv, exit code, env, base64, timeout), destroy', async () => {
      const id = await capsule({ envs: { GREETING: 'hi' } })
      assert.match(id, /^cl-[0-9a-z]{25}$/)
      const got = await call('GET', `${base}/v1/capsules/${id}`)
      assert.equal(got.body.status, 'running')
      assert.deepEqual((await call('GET', `${base}/v1/capsules`)).body.map((c: any) => c.id), [id])

      const echo = await exec(id, 'echo', ['a b', '$HOME'])
      assert.deepEqual({ out: echo.body.stdout, code: echo.body.exit_code, enc: echo.body.encoding }, { out: 'a b $HOME\n', code: 0, enc: 'utf-8' })
      assert.equal((await sh(id, 'echo $GREETING; exit 3')).exit_code, 3)
      assert.equal((await sh(id, 'echo $GREETING')).stdout, 'hi\n')
      const binary = await sh(id, 'printf "\\377\\376"')
      assert.equal(binary.encoding, 'base64')
      assert.deepEqual(Buffer.from(binary.stdout, 'base64'), Buffer.from([0xff, 0xfe]))
      const slow = await exec(id, '/bin/sh', ['-c', 'echo started; sleep 30 & sleep 30'], { timeout_sec: 1 })
      assert.equal(slow.body.timed_out, true)
      assert.equal(slow.body.stdout, 'started\n')
      assert.ok(slow.body.duration_ms < 10_000)
      assert.equal((await sh(id, 'ps -e -o args= | grep -c "^sleep 30" || true')).stdout.trim(), '0', 'the whole tree was killed')

      assert.equal((await call('DELETE', `${base}/v1/capsules/${id}`)).status, 204)
      assertError(await call('GET', `${base}/v1/capsules/${id}`), 404, 'capsule_not_found')
    })

    it('files: write, read, list, mkdir, remove; a symlink or hard link to a host file reads the capsule\'s view only', async () => {
      const id = await capsule()
      const form = new FormData()
      form.set('path', '/home/user/dir/hello.txt')
      form.set('file', new Blob([Buffer.from('hello capsule')]), 'hello.txt')
      const written = await fetch(`${base}/v1/capsules/${id}/files/write`, { method: 'POST', body: form })
      assert.equal(written.status, 204, await written.text())
      const read = await fetch(`${base}/v1/capsules/${id}/files/read`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '/home/user/dir/hello.txt' }) })
      assert.equal(await read.text(), 'hello capsule')
      const listed = await call('POST', `${base}/v1/capsules/${id}/files/list`, { path: '/home/user', depth: 2 })
      assert.deepEqual(listed.body.entries.map((e: any) => [e.path, e.type]).sort(), [['/home/user/dir', 'directory'], ['/home/user/dir/hello.txt', 'file']])
      const made = await call('POST', `${base}/v1/capsules/${id}/files/mkdir`, { path: '/home/user/new/deep' })
      assert.equal(made.body.entry.type, 'directory')
      assertError(await call('POST', `${base}/v1/capsules/${id}/files/mkdir`, { path: '/home/user/new/deep' }), 409, 'file_exists')
      assert.equal((await call('POST', `${base}/v1/capsules/${id}/files/remove`, { path: '/home/user/new' })).status, 204)
      assertError(await call('POST', `${base}/v1/capsules/${id}/files/read`, { path: '/home/user/new/deep' }), 404, 'file_not_found')
      assertError(await call('POST', `${base}/v1/capsules/${id}/files/read`, { path: '/home/user/dir' }), 400, 'file_invalid')

      // Whatever the capsule links to, the files API sees what the capsule sees: never Colony's data dir.
      const secret = colony.dataDir
      await sh(id, `ln -s ${secret} /home/user/link; ln -s /proc/1/root /home/user/proc-root; ln /etc/hostname /home/user/hard 2>/dev/null || true`)
      const viaLink = await call('POST', `${base}/v1/capsules/${id}/files/list`, { path: '/home/user/link' })
      assert.ok(viaLink.status === 404 || (viaLink.status === 200 && viaLink.body.entries.length === 0), JSON.stringify(viaLink.body))
      const viaProc = await call('POST', `${base}/v1/capsules/${id}/files/list`, { path: `/home/user/proc-root${secret}` })
      assert.ok(viaProc.status >= 400 || viaProc.body.entries.length === 0, JSON.stringify(viaProc.body))
      assertError(await call('POST', `${base}/v1/capsules/${id}/files/read`, { path: `${secret}/colony.db` }), 404, 'file_not_found')
      // A hard link made inside reads what the capsule itself reads, nothing more.
      const hard = await fetch(`${base}/v1/capsules/${id}/files/read`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '/home/user/hard' }) })
      if (hard.status === 200) assert.equal(await hard.text(), (await sh(id, 'cat /etc/hostname')).stdout)
      // Writing "outside" lands in the capsule's own layer: the host's /etc is unchanged.
      const marker = `colony-escape-${process.pid}`
      const outside = new FormData()
      outside.set('path', `/etc/${marker}`)
      outside.set('file', new Blob([Buffer.from('x')]), 'x')
      const wrote = await fetch(`${base}/v1/capsules/${id}/files/write`, { method: 'POST', body: outside })
      assert.ok(wrote.status === 204 || wrote.status >= 400, String(wrote.status))
      assert.equal(existsSync(`/etc/${marker}`), false, 'the host is unchanged')
      assertError(await call('POST', `${base}/v1/capsules/${id}/files/read`, { path: '/home/user/../../..' + secret + '/colony.db' }), 404, 'file_not_found')

      // Streaming: 8 MiB up and down again, byte for byte.
      const payload = Buffer.alloc(8 * 1024 * 1024)
      for (let i = 0; i < payload.length; i += 4096) payload.writeUInt32LE(i, i)
      const up = new FormData()
      up.set('path', '/home/user/stream/big.bin')
      up.set('file', new Blob([payload]), 'big.bin')
      const streamed = await fetch(`${base}/v1/capsules/${id}/files/stream/write`, { method: 'POST', body: up })
      assert.equal(streamed.status, 204, await streamed.text())
      const down = await fetch(`${base}/v1/capsules/${id}/files/stream/read`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '/home/user/stream/big.bin' }) })
      assert.equal(down.status, 200)
      assert.ok(Buffer.from(await down.arrayBuffer()).equals(payload), 'the same bytes came back')
      assertError(await call('POST', `${base}/v1/capsules/${id}/files/stream/read`, { path: '/home/user/nope' }), 404, 'file_not_found')
      const fileFirst = new FormData()
      fileFirst.set('file', new Blob([Buffer.from('x')]), 'x')
      fileFirst.set('path', '/home/user/x')
      const refused = await fetch(`${base}/v1/capsules/${id}/files/stream/write`, { method: 'POST', body: fileFirst })
      assert.equal(refused.status, 400)

      // 100 MiB + 1 byte is refused with 413 and nothing is written.
      const big = new FormData()
      big.set('path', '/home/user/big')
      big.set('file', new Blob([Buffer.alloc(100 * 1024 * 1024 + 1)]), 'big')
      const tooBig = await fetch(`${base}/v1/capsules/${id}/files/write`, { method: 'POST', body: big })
      assert.equal(tooBig.status, 413)
      assert.equal((await tooBig.json() as any).error.code, 'file_too_large')
      assertError(await call('POST', `${base}/v1/capsules/${id}/files/read`, { path: '/home/user/big' }), 404, 'file_not_found')
    })

    it('pause freezes a running loop, resume continues it; hibernate and resume keep the files', async () => {
      const id = await capsule()
      const started = await exec(id, '/bin/sh', ['-c', 'i=0; while true; do i=$((i+1)); echo $i > /home/user/count; sleep 0.05; done'], { background: true, tag: 'loop' })
      assert.equal(started.status, 202, JSON.stringify(started.body))
      assert.equal(started.body.tag, 'loop')
      const listed = await call('GET', `${base}/v1/capsules/${id}/processes`)
      assert.deepEqual(listed.body.processes.map((p: any) => [p.tag, p.cmd, p.pid]), [['loop', '/bin/sh', started.body.pid]])
      await sh(id, 'while [ ! -s /home/user/count ]; do sleep 0.02; done')
      const count = async (): Promise<number> => Number((await sh(id, 'cat /home/user/count')).stdout)
      // The loop may run while the pause and resume requests travel; on a loaded machine that is hundreds of ms.
      // Only the time between the pause answer and the resume request is frozen for sure, so the bound is the
      // loop's pace (one step per ≥ 50 ms) over the time that was not frozen, plus one step in flight.
      const t0 = performance.now()
      const before = await count()
      assert.equal((await call('POST', `${base}/v1/capsules/${id}/pause`)).body.status, 'paused')
      const frozenFrom = performance.now()
      assertError(await exec(id, 'true'), 409, 'capsule_not_running')
      await new Promise((resolve) => setTimeout(resolve, 1000)) // wall time must pass to show the loop does not move
      const frozenUntil = performance.now()
      assert.equal((await call('POST', `${base}/v1/capsules/${id}/resume`)).body.status, 'running')
      const atResume = await count()
      const notFrozenMs = performance.now() - t0 - (frozenUntil - frozenFrom)
      const bound = Math.floor(notFrozenMs / 50) + 1
      assert.ok(atResume - before <= bound, `the loop advanced ${atResume - before} while frozen (allowed ${bound} for ${Math.round(notFrozenMs)} ms not frozen)`)
      await sh(id, 'sleep 0.3')
      assert.ok(await count() > atResume, 'the loop runs again after resume')

      assert.equal((await call('POST', `${base}/v1/capsules/${id}/hibernate`)).body.status, 'hibernated')
      assert.equal((await call('POST', `${base}/v1/capsules/${id}/resume`)).body.status, 'running')
      assert.ok(await count() >= atResume, 'the file survived hibernation')
      assert.equal((await sh(id, 'ps -e -o args= | grep -c "^/bin/sh -c i=0" || true')).stdout.trim(), '0', 'hibernation stopped the processes')
      const again = await exec(id, 'sleep', ['300'], { background: true })
      assert.equal((await call('DELETE', `${base}/v1/capsules/${id}/processes/${again.body.tag}`)).status, 204)
      await sh(id, 'while ps -e -o args= | grep -q "^sleep 300"; do sleep 0.02; done')
      assertError(await call('DELETE', `${base}/v1/capsules/${id}/processes/proc-nothere`), 404, 'process_not_found')
    })

    it('PTY: bash, resize, Ctrl-C, disconnect, reconnect by tag, exit code; exec/stream frames', async () => {
      const id = await capsule()
      const wsUrl = `${base.replace('http', 'ws')}/v1/capsules/${id}`
      const t = await openWs(`${wsUrl}/pty`)
      t.ws.send(JSON.stringify({ type: 'start', cmd: '/bin/bash', args: ['--norc', '-i'], cols: 100, rows: 30 }))
      const started = await t.next((f) => f.type === 'started')
      assert.match(started.tag, /^pty-[0-9a-f]{8}$/)
      let screen = ''
      const output = (text: string) => t.next((f) => {
        if (f.type === 'output') screen += Buffer.from(f.data, 'base64').toString('utf8')
        return screen.includes(text)
      })
      const input = (s: string) => t.ws.send(JSON.stringify({ type: 'input', data: Buffer.from(s).toString('base64') }))
      t.ws.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }))
      input('stty size\n')
      await output('40 120')
      input('sleep 30\n')
      // Ctrl-C once the sleep runs (sent earlier, it would reach bash instead and the sleep would run its 30 s).
      await sh(id, 'while ! ps -e -o args= | grep -q "^sleep 30"; do sleep 0.02; done')
      input('\x03')
      input('echo after-interrupt\n')
      await output('after-interrupt')
      assert.equal((await sh(id, 'ps -e -o args= | grep -c "^sleep 30" || true')).stdout.trim(), '0', 'Ctrl-C stopped the sleep')
      t.ws.close()
      await t.closed

      const again = await openWs(`${wsUrl}/pty`)
      again.ws.send(JSON.stringify({ type: 'connect', tag: started.tag }))
      let replay = ''
      await again.next((f) => { if (f.type === 'output') replay += Buffer.from(f.data, 'base64').toString('utf8'); return replay.includes('after-interrupt') })
      again.ws.send(JSON.stringify({ type: 'input', data: Buffer.from('exit 7\n').toString('base64') }))
      assert.equal((await again.next((f) => f.type === 'exit')).exit_code, 7)
      await again.closed

      const s = await openWs(`${wsUrl}/exec/stream`)
      s.ws.send(JSON.stringify({ type: 'start', cmd: '/bin/sh', args: ['-c', 'echo out; echo err >&2; exit 4'] }))
      assert.equal(typeof (await s.next((f) => f.type === 'start')).pid, 'number')
      assert.equal((await s.next((f) => f.type === 'stdout')).data, 'out\n')
      assert.equal((await s.next((f) => f.type === 'stderr')).data, 'err\n')
      assert.equal((await s.next((f) => f.type === 'exit')).exit_code, 4)
      await s.closed
      assert.equal((await fetch(`${base}/v1/capsules/${id}/pty`)).status, 426)
    })

    it('snapshots: a capsule\'s files become a template; the source stays paused; a name clash is 409', async () => {
      const id = await capsule({ memory_mb: 256 })
      await sh(id, 'echo from-template > /home/user/marker')
      const snap = await call('POST', `${base}/v1/snapshots`, { sandbox_id: id, name: 'base-1' })
      assert.equal(snap.status, 201, JSON.stringify(snap.body))
      assert.deepEqual({ name: snap.body.name, type: snap.body.type, memory: snap.body.memory_mb }, { name: 'base-1', type: 'snapshot', memory: 256 })
      assert.equal((await call('GET', `${base}/v1/capsules/${id}`)).body.status, 'paused')
      assertError(await call('POST', `${base}/v1/snapshots`, { sandbox_id: id, name: 'base-1' }), 409, 'template_name_taken')
      assertError(await call('POST', `${base}/v1/snapshots`, { sandbox_id: id, name: 'minimal' }), 409, 'name_reserved')
      const child = await capsule({ template: 'base-1' })
      assert.equal((await sh(child, 'cat /home/user/marker')).stdout, 'from-template\n')
      assert.deepEqual((await call('GET', `${base}/v1/snapshots?type=snapshot`)).body.map((t: any) => t.name), ['base-1'])
      assertError(await call('DELETE', `${base}/v1/snapshots/base-1`), 409, 'template_in_use')
      await call('DELETE', `${base}/v1/capsules/${child}`)
      assert.equal((await call('DELETE', `${base}/v1/snapshots/base-1`)).status, 204)
      assertError(await call('POST', `${base}/v1/capsules`, { template: 'base-1' }), 404, 'template_not_found')
    })

    it('sessions (wasmrun): files, env, a WASI module\'s stdout, a command, limits and errors', async () => {
      const created = await call('POST', `${base}/api/v1/sessions`)
      assert.equal(created.status, 200, JSON.stringify(created.body))
      const sid = created.body.session_id
      assert.match(sid, /^[0-9a-f]{32}$/)
      const url = `${base}/api/v1/sessions/${sid}`
      const wasm = Buffer.from(await parse(HELLO_WAT))
      assert.deepEqual((await call('POST', `${url}/files`, { path: '/bin/hello.wasm', content: wasm.toString('base64'), encoding: 'base64' })).body, { message: 'Written: bin/hello.wasm' })
      const ran = await call('POST', `${url}/exec`, { wasm_path: 'bin/hello.wasm' })
      assert.deepEqual({ out: ran.body.stdout, code: ran.body.exit_code }, { out: 'hello from wasi\n', code: 0 })
      assert.equal((await call('POST', `${url}/exec`, { wasm_path: 'bin/hello.wasm', function: 'add', args: ['2', '40'] })).body.stdout, '42\n')
      // A wasi:cli/run component runs in the sandbox too (jco and preview2-shim are bound in read-only).
      await call('POST', `${url}/files`, { path: 'bin/hello-component.wasm', content: Buffer.from(await fixture('hello')).toString('base64'), encoding: 'base64' })
      const component = await call('POST', `${url}/exec`, { wasm_path: 'bin/hello-component.wasm' })
      assert.deepEqual({ out: component.body.stdout, err: component.body.stderr, code: component.body.exit_code }, { out: 'hello from colony\n', err: 'a line on stderr\n', code: 0 })
      await call('POST', `${url}/env`, { NAME: 'colony' })
      assert.deepEqual((await call('GET', `${url}/env`)).body, { env: { NAME: 'colony' } })
      assert.equal((await call('POST', `${url}/exec`, { command: 'echo hello $NAME > note.txt; cat note.txt' })).body.stdout, 'hello colony\n')
      assert.deepEqual((await call('GET', `${url}/files?path=note.txt`)).body, { path: 'note.txt', content: 'hello colony\n' })
      const listing = (await call('GET', `${url}/files?path=/&list=true`)).body
      assert.deepEqual(listing.entries.map((e: any) => [e.name, e.is_dir]).sort(), [['bin', true], ['note.txt', false]])
      const slow = await call('POST', `${url}/exec`, { command: 'echo partial; sleep 20', timeout: 1 })
      assert.deepEqual({ code: slow.body.exit_code, out: slow.body.stdout, error: slow.body.error }, { code: -1, out: 'partial\n', error: 'Execution timed out after 1s' })
      assertError(await call('GET', `${url}/files?path=../etc/passwd`), 400, 'invalid_path')
      assertError(await call('POST', `${url}/exec`, {}), 400, 'invalid_body')
      assertError(await call('GET', `${base}/api/v1/sessions/${'0'.repeat(32)}`), 404, 'session_not_found')
      assert.equal((await call('GET', `${base}/api/v1/sessions`)).body.count, 1)
      assert.deepEqual((await call('DELETE', url)).body, { message: `Session ${sid} destroyed` })
      assertError(await call('GET', url), 404, 'session_not_found')
    })

    it('bad input: unknown capsule, exec without cmd, malformed JSON, wrong types; another team gets 404; nothing changes', async () => {
      const id = await capsule()
      assertError(await call('GET', `${base}/v1/capsules/cl-nope`), 404, 'capsule_not_found')
      assertError(await exec('cl-nope', 'true'), 404, 'capsule_not_found')
      assertError(await call('POST', `${base}/v1/capsules/${id}/exec`, { args: ['x'] }), 400, 'invalid_body')
      assertError(await call('POST', `${base}/v1/capsules/${id}/exec`, { cmd: 5 }), 400, 'invalid_body')
      const malformed = await fetch(`${base}/v1/capsules/${id}/exec`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"cmd":' })
      assert.equal(malformed.status, 400)
      assertError(await call('POST', `${base}/v1/capsules`, { memory_mb: 'lots' }), 400, 'invalid_body')
      assertError(await call('POST', `${base}/v1/capsules/${id}/resume`), 409, 'capsule_invalid_state')
      const bob = await signup(base, 'bob')
      assertError(await call('GET', `${base}/v1/capsules/${id}`, undefined, { token: bob.token }), 404, 'capsule_not_found')
      assertError(await call('POST', `${base}/v1/capsules/${id}/exec`, { cmd: 'true' }, { token: bob.token }), 404, 'capsule_not_found')
      assert.deepEqual((await call('GET', `${base}/v1/capsules`, undefined, { token: bob.token })).body, [])
      assert.equal((await call('GET', `${base}/v1/capsules/${id}`)).body.status, 'running')
    })

    it('isolation: no network when off, a fork bomb stops at the pids limit, an OOM kill is an alert and Colony lives', async () => {
      const server: Server = createServer((s) => s.end('reached'))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const port = (server.address() as { port: number }).port
      try {
        const id = await capsule({ memory_mb: 64 })
        const probe = await sh(id, `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected || echo refused`)
        assert.doesNotMatch(probe.stdout, /connected/)
        const bomb = await exec(id, '/bin/sh', ['-c', 'bomb() { bomb | bomb & }; bomb; sleep 1; echo survived'], { timeout_sec: 5 })
        assert.equal(bomb.status, 200)
        const mqtt: Recorder = await connect(colony.rt.urls.mqtt)
        try {
          await mqtt.subscribe(`agents/${id}/alert`)
          const from = mqtt.mark
          const hog = await exec(id, '/usr/bin/python3', ['-c', 'x = bytearray(512 * 1024 * 1024); print(len(x))'])
          assert.notEqual(hog.body.exit_code, 0)
          await mqtt.next((m) => m.json?.code === 'capsule_oom', { from, what: 'the OOM alert' })
        } finally {
          await mqtt.close()
        }
        assert.equal((await call('GET', `${base}/api/health`)).status, 200)
      } finally {
        server.close()
      }
    })
  })

  describe('with an injected clock', () => {
    let clock: ManualClock
    beforeEach(async () => {
      clock = new ManualClock(Date.now())
      colony = await startColony({ clock, config: { capsules: { maxSessions: 2, sessionIdleSec: 60 } } })
      base = colony.rt.urls.http
    })
    afterEach(async () => { await colony?.close() })

    it('TTL: a capsule idle for longer than timeout_sec is paused; a ping resets the clock', async () => {
      const id = await capsule({ timeout_sec: 10 })
      clock.advance(8_000)
      assert.equal((await call('POST', `${base}/v1/capsules/${id}/ping`)).status, 204)
      clock.advance(8_000)
      await colony.rt.services.capsules.reap()
      assert.equal((await call('GET', `${base}/v1/capsules/${id}`)).body.status, 'running', 'the ping counted as activity')
      clock.advance(4_000)
      await colony.rt.services.capsules.reap()
      assert.equal((await call('GET', `${base}/v1/capsules/${id}`)).body.status, 'paused')
      assertError(await call('POST', `${base}/v1/capsules/${id}/ping`), 409, 'capsule_not_running')
    })

    it('team stats: now, peaks and a series sampled every 10 s; a paused capsule reserves half its memory', async () => {
      const id = await capsule({ memory_mb: 256, vcpus: 2 })
      clock.advance(10_000)
      const running = (await call('GET', `${base}/v1/capsules/stats`)).body
      assert.deepEqual(running.current, { running_count: 1, paused_count: 0, vcpus_reserved: 2, memory_mb_reserved: 256 })
      assert.deepEqual(running.peaks, { running_count: 1, vcpus: 2, memory_mb: 256 })
      assert.deepEqual(running.series.running.at(-1), 1)
      assert.equal(running.series.labels.length, running.series.memory_mb.length)
      await call('POST', `${base}/v1/capsules/${id}/pause`)
      clock.advance(10_000)
      const paused = (await call('GET', `${base}/v1/capsules/stats?range=1h`)).body
      assert.deepEqual(paused.current, { running_count: 0, paused_count: 1, vcpus_reserved: 0, memory_mb_reserved: 128 })
      assert.deepEqual(paused.peaks, { running_count: 1, vcpus: 2, memory_mb: 256 }, 'the peak is kept')
      assertError(await call('GET', `${base}/v1/capsules/stats?range=2d`), 400, 'invalid_query')
    })

    it('sessions: the session limit is 429, an idle session is 410 and then 404', async () => {
      const first = (await call('POST', `${base}/api/v1/sessions`)).body.session_id
      assert.equal((await call('POST', `${base}/api/v1/sessions`)).status, 200)
      assertError(await call('POST', `${base}/api/v1/sessions`), 429, 'session_limit')
      clock.advance(61_000)
      assertError(await call('GET', `${base}/api/v1/sessions/${first}`), 410, 'session_expired')
      assertError(await call('GET', `${base}/api/v1/sessions/${first}`), 404, 'session_not_found')
      assert.equal((await call('GET', `${base}/api/v1/sessions`)).body.count, 0, 'expired sessions are not listed')
      assert.equal((await call('POST', `${base}/api/v1/sessions`)).status, 200, 'expired ones no longer count toward the limit')
    })
  })
})
