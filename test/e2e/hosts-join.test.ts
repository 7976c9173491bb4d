import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../../src/clock.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { assertError, call } from '../helpers/components.js'
import { runCli, type CliRun } from '../helpers/cli.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { startNatsServer } from '../helpers/nats-server.js'
import { fromSeed } from '@nats-io/nkeys'
import { WebSocket } from 'ws'

/** `colony --join` as users run it, over a data dir that survives a kill -9; resolves once it is ready. */
async function startJoined (dataDir: string, url: string, token?: string, extra: string[] = []): Promise<CliRun & { http: string }> {
  const args = ['--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--join', url, ...(token === undefined ? [] : ['--token', token]), ...extra]
  const run = runCli(args, { COLONY_HOSTS_JOIN_HEARTBEAT_MS: '100', COLONY_AUTH_SCRYPT_N: '4096' })
  const http = await new Promise<string>((resolve, reject) => {
    run.lines.on('line', (line: string) => {
      if (line.startsWith('colony ') && line.includes(' ready')) resolve(/REST (http:\/\/\S+)\/api/.exec(line)?.[1] ?? '')
    })
    void run.exited.then(({ code }) => reject(new Error(`colony exited with ${code}: ${run.stderr.join('\n')}`)))
  })
  return { ...run, http }
}

/** The API key a joined Colony handed over (sealed in the first one's store), read back as the first one uses it. */
function apiKeyOf (colony: TestColony, hostId: string): string {
  return colony.rt.services.hosts.target({ teamId: null, isAdmin: true }, hostId).apiKey
}

/** Resolves on the child's first output line that contains `text` (one printed already counts). */
function waitLine (run: CliRun, text: string): Promise<void> {
  if ([...run.stdout, ...run.stderr].some((line) => line.includes(text))) return Promise.resolve()
  return new Promise((resolve) => {
    const on = (line: string): void => {
      if (line.includes(text)) { run.lines.off('line', on); resolve() }
    }
    run.lines.on('line', on)
  })
}

/** Opens an exec stream, sends its start frame, and collects every frame until the server closes the socket. */
async function streamExec (url: string, start: object): Promise<Array<Record<string, unknown>>> {
  const ws = new WebSocket(url)
  const frames: Array<Record<string, unknown>> = []
  ws.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>))
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  ws.send(JSON.stringify(start))
  await closed
  return frames
}

describe('colony --join: a second Colony process as a host of the first', function () {
  this.timeout(90_000)
  let first: TestColony
  let clock: ManualClock
  let base: string
  let mqtt: Recorder
  let child: (CliRun & { http: string }) | undefined
  let dataDir: string

  beforeEach(async () => {
    clock = new ManualClock(Date.now())
    first = await startColony({ clock, config: { hosts: { jwtTtlMs: 60_000 } } })
    base = first.rt.urls.http
    mqtt = await connect(first.rt.urls.mqtt)
    await mqtt.subscribe('system/events/#', 'agents/+/spawn')
    dataDir = mkdtempSync(join(tmpdir(), 'colony-joined-'))
  })
  afterEach(async () => {
    if (child !== undefined && child.child.exitCode === null) {
      child.child.kill('SIGTERM')
      await child.exited
    }
    child = undefined
    await mqtt?.close()
    await first?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const host = async (id: string): Promise<any> => (await call('GET', `${base}/v1/hosts/${id}`)).body

  it('joins, beats, goes unreachable and offline when killed, online when back; its capsules are driven through the first one', async () => {
    const created = await call('POST', `${base}/v1/hosts`, { type: 'regular', provider: 'colony' })
    const id = created.body.host.id as string
    child = await startJoined(dataDir, base, created.body.registration_token)
    await mqtt.next((m) => m.topic === `agents/${id}/spawn`, { timeoutMs: 10_000, what: 'the host actor' })
    // It beats (the host service reports each beat to the host's actor).
    await new Promise<void>((resolve) => {
      let n = 0
      const on = (e: { type: string, id: string }): void => {
        if (e.type === 'beat' && e.id === id && ++n === 2) { first.rt.services.hosts.events.off('event', on); resolve() }
      }
      first.rt.services.hosts.events.on('event', on)
    })
    const h = await host(id)
    assert.deepEqual({ status: h.status, colony: h.colony, address: h.address }, { status: 'online', colony: true, address: child.http })
    const saved = join(dataDir, 'host-join.json')
    assert.equal(statSync(saved).mode & 0o777, 0o600)

    // Capsules on the joined Colony, through the first one's API.
    const made = await call('POST', `${base}/v1/capsules`, { host_id: id, envs: { WHERE: 'joined' } })
    assert.equal(made.status, 201, JSON.stringify(made.body))
    const cid = made.body.id as string
    assert.equal(made.body.host_id, id)
    const listed = (await call('GET', `${base}/v1/capsules`)).body
    assert.deepEqual(listed.map((c: any) => [c.id, c.host_id, c.status]), [[cid, id, 'running']])
    assert.deepEqual((await call('GET', `${child.http}/v1/capsules`)).body.map((c: any) => c.id), [cid], 'it runs on the joined Colony')
    const ran = await call('POST', `${base}/v1/capsules/${cid}/exec`, { cmd: '/bin/sh', args: ['-c', 'echo $WHERE; id -u'] })
    assert.equal(ran.status, 200, JSON.stringify(ran.body))
    assert.equal(ran.body.stdout, 'joined\n1000\n')
    // Its WebSockets are relayed to the joined Colony, frame for frame.
    const frames = await streamExec(`${base.replace('http', 'ws')}/v1/capsules/${cid}/exec/stream`, { type: 'start', cmd: '/bin/sh', args: ['-c', 'echo $WHERE; exit 3'] })
    assert.deepEqual(frames.filter((f) => f.type !== 'start'), [{ type: 'stdout', data: 'joined\n' }, { type: 'exit', exit_code: 3 }])
    assert.equal((await call('GET', `${base}/v1/capsules/${cid}`)).body.status, 'running')
    assert.deepEqual((await call('GET', `${base}/v1/hosts/${id}/delete-preview`)).body.sandbox_ids, [cid])
    const refused = assertError(await call('DELETE', `${base}/v1/hosts/${id}`), 409, 'has_active_sandboxes')
    assert.ok(refused)
    assert.deepEqual((await call('DELETE', `${base}/v1/hosts/${id}`)).body.error.sandbox_ids, [cid])
    assert.equal((await call('DELETE', `${base}/v1/capsules/${cid}`)).status, 204)
    assert.deepEqual((await call('GET', `${child.http}/v1/capsules`)).body, [], 'destroyed on the joined Colony')
    assert.deepEqual((await call('GET', `${base}/v1/capsules`)).body, [])
    const second = (await call('POST', `${base}/v1/capsules`, { host_id: id })).body.id as string

    // kill -9: no more beats. The first one's clock moves past the timeout: unreachable (host.down), then offline.
    const mark = mqtt.mark
    child.child.kill('SIGKILL')
    await child.exited
    clock.advance(120_000) // the monitor looks every 15 s; silent > 90 s
    assert.equal((await host(id)).status, 'unreachable')
    await mqtt.next((m) => m.topic === 'system/events/host.down' && m.json.resource.id === id, { from: mark, what: 'host.down' })
    assertError(await call('POST', `${base}/v1/capsules/${second}/exec`, { cmd: 'true' }), 503, 'host_unavailable')
    assert.equal((await call('GET', `${base}/v1/capsules`)).body[0].status, 'missing', 'the last known view, missing')
    clock.advance(600_000)
    assert.equal((await host(id)).status, 'offline')

    // Back, with its saved credentials (no token): online again (host.up), its capsule with it.
    const upMark = mqtt.mark
    const saved1 = JSON.parse(readFileSync(saved, 'utf8'))
    child = await startJoined(dataDir, base)
    const refreshed = waitLine(child, 'host credentials refreshed')
    await mqtt.next((m) => m.topic === 'system/events/host.up' && m.json.resource.id === id, { from: upMark, timeoutMs: 10_000, what: 'host.up' })
    assert.equal((await host(id)).status, 'online')
    const again = await call('POST', `${base}/v1/capsules/${second}/exec`, { cmd: 'echo', args: ['back'] })
    assert.equal(again.status, 200, JSON.stringify(again.body))
    assert.equal(again.body.stdout, 'back\n')

    // Its saved JWT (hosts.jwtTtlMs: 60 s here) expired while it was away: its first beat was 401, it refreshed (rotation).
    await refreshed
    assert.notEqual(JSON.parse(readFileSync(saved, 'utf8')).refresh_token, saved1.refresh_token, 'rotated')

    // A forced delete destroys its capsules on the joined Colony; the host's heartbeats then get 404 and it forgets its credentials.
    const handed = apiKeyOf(first, id)
    assert.equal((await call('GET', `${child.http}/v1/capsules`, undefined, { token: handed })).status, 200)
    const forgotten = waitLine(child, 'this host was deleted')
    assert.equal((await call('DELETE', `${base}/v1/hosts/${id}?force=true`)).status, 204)
    assert.deepEqual((await call('GET', `${child.http}/v1/capsules`)).body, [])
    assertError(await call('GET', `${base}/v1/capsules/${second}`), 404, 'capsule_not_found')
    await forgotten
    assert.equal(existsSync(saved), false)
    assertError(await call('GET', `${child.http}/v1/capsules`, undefined, { token: handed }), 401, 'unauthorized', 'the key it handed over is revoked')

    // No credential of the join in the first one's logs or MQTT, nor in the child's output.
    const creds = saved1
    const seen = [JSON.stringify(first.logs), mqtt.received.map((m) => m.payload.toString('utf8')).join('\n'), child.stdout.join('\n'), child.stderr.join('\n')].join('\n')
    for (const s of [creds.token, creds.refresh_token]) assert.equal(seen.includes(s), false)
  })

  it('on one NATS: the joined Colony registers its lattice host id, the one wasmCloud tools see', async () => {
    const nats = await startNatsServer()
    try {
      const created = await call('POST', `${base}/v1/hosts`, { type: 'regular' })
      const id = created.body.host.id as string
      child = await startJoined(dataDir, base, created.body.registration_token, ['--nats-url', nats.url])
      await mqtt.next((m) => m.topic === `agents/${id}/spawn`, { timeoutMs: 10_000, what: 'the host actor' })
      const seed = readFileSync(join(dataDir, 'nats-host.nk'), 'utf8').trim()
      const latticeId = fromSeed(new TextEncoder().encode(seed)).getPublicKey()
      assert.equal((await host(id)).lattice_host_id, latticeId)
    } finally {
      if (child !== undefined && child.child.exitCode === null) {
        child.child.kill('SIGTERM')
        await child.exited
      }
      await nats.stop()
    }
  })
})
