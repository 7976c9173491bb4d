import assert from 'node:assert/strict'
import { connect as tcpConnect } from 'node:net'
import { connect } from '../helpers/mqtt.js'
import { killAll, runCli, startCli } from '../helpers/cli.js'
import { BRIDGE_ACTORS, SYSTEM_ACTORS } from '../helpers/runtime.js'

describe('the colony command', () => {
  afterEach(() => { killAll() })

  it('SIGTERM: every actor publishes its final stopped status and the process exits 0 within 5 s', async function () {
    this.timeout(20_000)
    const run = await startCli([], { COLONY_ACTORS_HEARTBEAT_INTERVAL_MS: '100' })
    const mqtt = await connect(run.urls.mqtt)
    try {
      await mqtt.subscribe('agents/+/status')
      const names = [...SYSTEM_ACTORS, ...BRIDGE_ACTORS]
      for (const name of names) await mqtt.next((m) => m.topic === `agents/${name}/status` && m.json?.state === 'running')
      const from = mqtt.mark
      const started = Date.now()
      const closed = new Promise<void>((resolve) => mqtt.client.once('close', () => resolve()))
      run.child.kill('SIGTERM')
      const { code } = await run.exited
      const elapsed = Date.now() - started
      assert.equal(code, 0)
      assert.ok(elapsed < 5000, `exited after ${elapsed} ms`)
      await closed
      const stopped = new Set(mqtt.received.filter((m) => m.index >= from && m.json?.state === 'stopped').map((m) => m.json.agentId))
      assert.deepEqual([...stopped].sort(), [...names].sort())
      assert.ok(run.stdout.some((l) => l.includes('"msg":"colony stopped"')))
    } finally {
      await mqtt.close()
      run.child.kill('SIGKILL')
    }
  })

  it('a second signal while a graceful shutdown waits for a slow client exits at once with 130', async function () {
    this.timeout(30_000)
    const run = await startCli([], { COLONY_MQTT_PERSIST_RETAINED: 'false' })
    const port = Number(new URL(run.urls.mqtt).port)
    // 64 MB of retained messages (more than the kernel's socket buffers can hold), then a subscriber that never reads
    // them: shutdown waits (up to 1 s) for its socket to drain, long enough for a second signal to land.
    const publisher = await connect(run.urls.mqtt)
    const big = Buffer.alloc(250_000, 0x61)
    for (let i = 0; i < 256; i++) await publisher.client.publishAsync(`big/${i}`, big, { qos: 1, retain: true })
    await publisher.close()
    const reader = tcpConnect(port, '127.0.0.1')
    await new Promise<void>((resolve) => reader.once('connect', () => resolve()))
    const connectPacket = Buffer.from([0x10, 14, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, 2, 0x72, 0x77])
    const subscribePacket = Buffer.from([0x82, 10, 0, 1, 0, 5, ...Buffer.from('big/#'), 0])
    const firstData = new Promise<void>((resolve) => reader.once('data', () => { reader.pause(); resolve() }))
    reader.write(Buffer.concat([connectPacket, subscribePacket]))
    await firstData
    const shuttingDown = new Promise<void>((resolve) => {
      const onLine = (line: string): void => { if (line.includes('"msg":"shutting down"')) { run.lines.off('line', onLine); resolve() } }
      run.lines.on('line', onLine)
    })
    run.child.kill('SIGTERM')
    await shuttingDown
    run.child.kill('SIGTERM')
    const { code } = await run.exited
    reader.destroy()
    assert.equal(code, 130)
    assert.ok(run.stdout.some((l) => l.includes('"msg":"second signal: exiting now"')))
    assert.ok(!run.stdout.some((l) => l.includes('"msg":"colony stopped"')), 'it did not wait for the graceful shutdown to finish')
  })

  it('reports every configuration problem at once and exits 2', async () => {
    const run = runCli(['--http-port', 'eighty', '--mqtt-port', '70000', '--log-level', 'loud'], {
      COLONY_ACTORS_MAILBOX_CAPACITY: '0',
      COLONY_NOPE_THING: '1',
    })
    const { code } = await run.exited
    assert.equal(code, 2)
    const text = run.stderr.join('\n')
    for (const expected of ['http.port must be an integer', 'mqtt.port must be between 0 and 65535', 'log.level must be one of',
      'actors.mailboxCapacity must be between 1', 'unknown environment variable COLONY_NOPE_THING', '[config_invalid]']) {
      assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`)
    }
  })

  it('refuses to bind a non-loopback address with authentication off', async () => {
    const run = runCli(['--host', '0.0.0.0', '--http-port', '0', '--mqtt-port', '0', '--data-dir', '/tmp/colony-never'], { COLONY_AUTH_MODE: 'off' })
    const { code } = await run.exited
    assert.equal(code, 1)
    assert.match(run.stderr.join('\n'), /refusing to listen on 0\.0\.0\.0 with auth.mode "off".*\[insecure_bind\]/)
  })

  it('a config file is read, and a bad one is reported', async () => {
    const run = runCli(['--config', '/nonexistent/colony.json'])
    assert.equal((await run.exited).code, 2)
    assert.match(run.stderr.join('\n'), /cannot read config file \/nonexistent\/colony.json/)
  })

  it('--help, --version and an unknown flag', async () => {
    const help = runCli(['--help'])
    assert.equal((await help.exited).code, 0)
    assert.match(help.stdout.join('\n'), /--mqtt-port N/)
    const version = runCli(['--version'])
    assert.equal((await version.exited).code, 0)
    assert.match(version.stdout.join(''), /^\d+\.\d+\.\d+$/)
    const bad = runCli(['--frobnicate'])
    assert.equal((await bad.exited).code, 2)
    assert.match(bad.stderr.join('\n'), /Unknown option '--frobnicate'/)
  })
})
