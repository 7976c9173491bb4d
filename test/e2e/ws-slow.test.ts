import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import type { AlertPayload } from '../../src/wire/payloads.js'
import { startColony, type TestColony } from '../helpers/runtime.js'

const BUDGET = 64 * 1024
const FRAME_PAD = 'z'.repeat(2000)
/** Per client: the budget, plus a frame the socket may take past its high-water mark and the drop notice. */
const PER_CLIENT_BOUND = BUDGET + 8 * 1024

/** A real ws client whose socket stops reading once open: TCP backpressure builds up to the server. */
class PausedClient {
  readonly closed: Promise<{ code: number, reason: string }>
  frames = 0
  notices = 0

  private constructor (readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = (data as Buffer).toString()
      if (text.startsWith('{"topic":"$colony/ws/dropped"')) this.notices++
      else this.frames++
    })
    ws.on('error', () => undefined)
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  static async open (url: string): Promise<PausedClient> {
    const ws = new WebSocket(url)
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const client = new PausedClient(ws)
    client.socket.pause()
    return client
  }

  get socket (): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket
  }

  resume (): void {
    this.socket.resume()
  }
}

describe('/ws slow readers: a byte budget per client, closed with 1013 when they stay over, one alert per episode', () => {
  let colony: TestColony
  const alerts: AlertPayload[] = []
  const opened: PausedClient[] = []

  before(async () => {
    colony = await startColony({ config: { ws: { maxQueuedBytes: BUDGET, slowClientTimeoutMs: 800, maxQueuedMessages: 1_000_000 } } })
    colony.rt.broker.bus.subscribe('agents/ws-bridge/alert', (m) => {
      const alert = JSON.parse(m.payload.toString()) as AlertPayload
      if (alert.code === 'ws_slow_consumer') alerts.push(alert)
    })
  })
  afterEach(() => { for (const c of opened.splice(0)) c.ws.terminate() })
  after(async () => { await colony?.close() })

  const metric = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(colony.rt.metrics.render())?.[1])

  /** Waits for a server-side counter (no event to await: it is read the way an operator would, by scraping). */
  async function metricReaches (name: string, test: (v: number) => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (!test(metric(name))) {
      if (performance.now() > deadline) throw new Error(`${name} stayed at ${metric(name)}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** Publishes `megabytes` of 2 KB messages, paced like real traffic; returns the highest buffered-bytes gauge seen. */
  async function flood (megabytes: number, stopWhen?: () => boolean): Promise<number> {
    let highest = 0
    const count = Math.ceil(megabytes * 1024 * 1024 / FRAME_PAD.length)
    for (let seq = 0; seq < count; seq++) {
      colony.rt.broker.bus.publish('flood/x', { seq, pad: FRAME_PAD })
      if (seq % 50 === 49) {
        await new Promise((resolve) => setImmediate(resolve))
        highest = Math.max(highest, metric('colony_ws_buffered_bytes'))
        if (stopWhen?.() === true) break
      }
    }
    return highest
  }

  async function paused (n: number): Promise<PausedClient[]> {
    const clients = await Promise.all(Array.from({ length: n }, () => PausedClient.open(`${colony.rt.urls.ws}?topics=flood/%23`)))
    opened.push(...clients)
    return clients
  }

  it('20 clients that stop reading: server-side bytes stay under the budget, each is closed with 1013, one alert, all released after', async function () {
    this.timeout(60_000)
    const before = alerts.length
    const slow = await paused(20)
    // Until every one is cut: loopback may buffer tens of MB per socket in the kernel (tcp_rmem) first.
    const highest = await flood(400, () => metric('colony_ws_slow_closed_total') >= 20)
    assert.ok(highest > 0, 'the paused clients did back up into the server')
    assert.ok(highest <= slow.length * PER_CLIENT_BOUND, `buffered ${highest} bytes for ${slow.length} clients, over ${PER_CLIENT_BOUND} each`)
    assert.ok(metric('colony_ws_dropped_total') > 0)

    await metricReaches('colony_ws_slow_closed_total', (v) => v >= 20, 10_000)
    // Reading again, each finds its backlog and then the close frame.
    for (const c of slow) c.resume()
    const closes = await Promise.all(slow.map((c) => c.closed))
    for (const { code, reason } of closes) {
      assert.equal(code, 1013)
      assert.match(reason, /slow consumer/)
    }
    assert.equal(alerts.length - before, 1, 'one alert for the whole episode')
    assert.equal(alerts.at(-1)?.severity, 'warning')

    await metricReaches('colony_ws_clients', (v) => v === 0, 5000)
    assert.equal(metric('colony_ws_buffered_bytes'), 0)
    assert.equal(metric('colony_ws_slow_clients'), 0)
    assert.ok(colony.logs.some((l) => l.msg === 'slow /ws consumers: episode over (caught up or gone)' && l.closed === 20))
  })

  it('a client that never reads again is cut when the close grace ends, and its bytes are released', async function () {
    this.timeout(30_000)
    const before = alerts.length
    const closedBefore = metric('colony_ws_slow_closed_total')
    const [slow] = await paused(1)
    // Loopback may buffer tens of MB in the kernel (tcp_rmem) before the server holds anything: flood until it is cut.
    await flood(400, () => metric('colony_ws_slow_closed_total') > closedBefore)
    await metricReaches('colony_ws_slow_closed_total', (v) => v === closedBefore + 1, 10_000)
    // It never reads: the server destroys its socket after the grace, and nothing is held for it any more.
    await metricReaches('colony_ws_clients', (v) => v === 0, 10_000)
    assert.equal(metric('colony_ws_buffered_bytes'), 0)
    assert.equal(alerts.length - before, 1, 'a new episode, a new alert')
    slow!.resume()
    const { code } = await slow!.closed
    assert.notEqual(code, 1000)
  })

  it('a client that falls behind and catches up in time loses frames, is told how many, and stays connected', async function () {
    this.timeout(30_000)
    const closedBefore = metric('colony_ws_slow_closed_total')
    const [late] = await paused(1)
    // Only until it is over its budget (well before slowClientTimeoutMs), then it reads again.
    await flood(32, () => metric('colony_ws_slow_clients') >= 1)
    assert.ok(metric('colony_ws_slow_clients') >= 1, 'it is over its budget')
    late!.resume()
    // The stream is quiet now: the server notices it caught up without a new message to flush.
    await metricReaches('colony_ws_slow_clients', (v) => v === 0, 5000)
    // Past slowClientTimeoutMs (800 ms): a client that caught up is not closed (nothing to await: it must not happen).
    await new Promise((resolve) => setTimeout(resolve, 1200))
    assert.equal(late!.ws.readyState, WebSocket.OPEN)
    assert.equal(metric('colony_ws_slow_closed_total'), closedBefore)
    // One more message once it has caught up: the drop notice is written before it.
    colony.rt.broker.bus.publish('flood/x', { last: true })
    await new Promise<void>((resolve) => late!.ws.on('message', (d) => { if ((d as Buffer).toString().includes('"last":true')) resolve() }))
    assert.ok(late!.notices >= 1, 'told about the dropped frames')
    assert.equal(late!.ws.readyState, WebSocket.OPEN)
  })
})

describe('/ws slow readers with ws.overflow: close', () => {
  let colony: TestColony
  const alerts: AlertPayload[] = []

  before(async () => {
    colony = await startColony({ config: { ws: { maxQueuedBytes: BUDGET, overflow: 'close', slowClientTimeoutMs: 60_000 } } })
    colony.rt.broker.bus.subscribe('agents/ws-bridge/alert', (m) => {
      const alert = JSON.parse(m.payload.toString()) as AlertPayload
      if (alert.code === 'ws_slow_consumer') alerts.push(alert)
    })
  })
  after(async () => { await colony?.close() })

  const metric = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(colony.rt.metrics.render())?.[1])

  it('each client is closed with 1013 the moment it goes over; one alert for them all', async function () {
    this.timeout(60_000)
    const slow = await Promise.all(Array.from({ length: 5 }, () => PausedClient.open(`${colony.rt.urls.ws}?topics=flood/%23`)))
    try {
      for (let seq = 0; metric('colony_ws_slow_closed_total') < slow.length && seq < 200_000; seq++) {
        colony.rt.broker.bus.publish('flood/x', { seq, pad: FRAME_PAD })
        if (seq % 50 === 49) await new Promise((resolve) => setImmediate(resolve))
      }
      assert.equal(metric('colony_ws_slow_closed_total'), slow.length)
      for (const c of slow) c.resume()
      for (const { code } of await Promise.all(slow.map((c) => c.closed))) assert.equal(code, 1013)
      assert.equal(alerts.length, 1)
      assert.match(alerts[0]?.message ?? '', /ws\.overflow: close/)
    } finally {
      for (const c of slow) c.ws.terminate()
    }
  })
})
