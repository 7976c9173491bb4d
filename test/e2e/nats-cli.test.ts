import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, type CliRun } from '../helpers/cli.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { Wash } from '../helpers/wash.js'

/** Resolves once the CLI says it is ready. */
function ready (run: CliRun): Promise<void> {
  return new Promise((resolve, reject) => {
    const onLine = (line: string): void => {
      if (!line.startsWith('colony ') || !line.includes(' ready')) return
      run.lines.off('line', onLine)
      resolve()
    }
    run.lines.on('line', onLine)
    void run.exited.then(({ code }) => reject(new Error(`colony exited with ${code}: ${run.stderr.join('\n')}`)))
  })
}

describe('NATS bridge: the colony CLI on a lattice', function () {
  this.timeout(30_000)
  let nats: NatsServer
  let wash: Wash
  let dataDir: string

  before(async () => {
    nats = await startNatsServer()
    wash = await Wash.connect(nats.url, 'lab')
    dataDir = mkdtempSync(join(tmpdir(), 'colony-nats-cli-'))
  })
  after(async () => {
    await wash?.close()
    await nats?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const start = async (): Promise<CliRun> => {
    const run = runCli(['--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--nats-url', nats.url, '--lattice', 'lab'])
    await ready(run)
    return run
  }

  it('--nats-url and --lattice join that lattice; the host id is generated once and kept; host.stop stops the process', async () => {
    let from = wash.mark
    const first = await start()
    const started = await wash.event('host_started', () => true, { from })
    const hostId = started.source
    assert.match(hostId, /^N[A-Z2-7]{55}$/)
    assert.equal(started.subject, 'wasmbus.evt.lab.host_started')
    assert.equal(statSync(join(dataDir, 'nats-host.nk')).mode & 0o777, 0o600, 'the host seed is private')

    // host.stop: acknowledged, announced, and the process exits cleanly.
    from = wash.mark
    const ack = await wash.request(`host.stop.${hostId}`, { host_id: hostId })
    assert.deepEqual({ success: ack.success, message: ack.message }, { success: true, message: 'successfully handled stop host' })
    await wash.event('host_stopped', (e) => e.source === hostId, { from })
    assert.deepEqual(await first.exited, { code: 0, signal: null })

    // Restarted on the same data dir, it is the same host.
    from = wash.mark
    const second = await start()
    try {
      assert.equal((await wash.event('host_started', () => true, { from })).source, hostId)
      const pinged = await wash.gather('host.ping', '', 500)
      assert.deepEqual(pinged.map((r) => r.response.id), [hostId])
    } finally {
      second.child.kill('SIGTERM')
      assert.equal((await second.exited).code, 0)
    }
  })

  it('SIGTERM while NATS is down: the bridge does not wait for a connection that is not there; exit 0', async () => {
    const own = await startNatsServer()
    const dir = mkdtempSync(join(tmpdir(), 'colony-nats-down-'))
    const run = runCli(['--http-port', '0', '--mqtt-port', '0', '--data-dir', dir, '--nats-url', own.url],
      { COLONY_NATS_RECONNECT_MAX_MS: '200' })
    try {
      const joined = new Promise<void>((resolve) => {
        const onLine = (line: string): void => { if (line.includes('joined the lattice')) resolve() }
        run.lines.on('line', onLine)
      })
      await ready(run)
      await joined
      const lost = new Promise<void>((resolve) => {
        run.lines.on('line', (line: string) => { if (line.includes('lost the NATS connection') || line.includes('nats_disconnected')) resolve() })
      })
      await own.kill()
      await lost
      const t0 = Date.now()
      run.child.kill('SIGTERM')
      assert.deepEqual(await run.exited, { code: 0, signal: null })
      assert.ok(Date.now() - t0 < 5000, `shut down in ${Date.now() - t0} ms`)
    } finally {
      run.child.kill('SIGKILL')
      await own.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('without a NATS URL the bridge is off and says so once; the runtime runs as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'colony-nats-off-'))
    const run = runCli(['--http-port', '0', '--mqtt-port', '0', '--data-dir', dir])
    try {
      await ready(run)
      const off = run.stdout.concat(run.stderr).filter((l) => l.includes('NATS bridge off'))
      assert.equal(off.length, 1)
    } finally {
      run.child.kill('SIGTERM')
      await run.exited
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
