import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { startColony, type TestColony } from '../helpers/runtime.js'

const HEADERS_MS = 600
const BODY_MS = 600
/** How late a cut may come: timers on a loaded 2-core machine, plus the 408 write and the close. */
const SLACK_MS = 2500

/** A raw client socket that records what it received and when it was closed. */
class RawClient {
  readonly openedAt = performance.now()
  received = ''
  closedAt: number | undefined
  readonly closed: Promise<void>
  private trickle: NodeJS.Timeout | undefined

  private constructor (readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.received += chunk.toString('latin1') })
    socket.on('error', () => undefined)
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.closedAt = performance.now()
      clearInterval(this.trickle)
      resolve()
    }))
  }

  static open (port: number, first?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        if (first !== undefined) socket.write(first)
        resolve(new RawClient(socket))
      })
      socket.once('error', reject)
    })
  }

  /** Slowloris: one more header line every `everyMs`, never the blank line that ends the headers. */
  trickleHeaders (everyMs: number): void {
    let n = 0
    this.trickle = setInterval(() => { if (!this.socket.destroyed) this.socket.write(`X-Slow-${n++}: 1\r\n`) }, everyMs)
  }

  get lifetimeMs (): number {
    return (this.closedAt ?? performance.now()) - this.openedAt
  }

  destroy (): void {
    clearInterval(this.trickle)
    this.socket.destroy()
  }
}

function assertCutInTime (clients: RawClient[], limitMs: number, what: string): void {
  for (const c of clients) {
    assert.ok(c.closedAt !== undefined, `${what}: still open`)
    assert.ok(c.lifetimeMs >= limitMs - 50, `${what}: cut after ${Math.round(c.lifetimeMs)} ms, before its ${limitMs} ms`)
    assert.ok(c.lifetimeMs <= limitMs + SLACK_MS, `${what}: cut only after ${Math.round(c.lifetimeMs)} ms (limit ${limitMs} ms)`)
  }
}

function assert408 (c: RawClient, what: string): void {
  assert.match(c.received, /^HTTP\/1\.1 408 Request Timeout\r\n/, `${what}: ${c.received.slice(0, 80)}`)
  assert.match(c.received, /\r\nConnection: close\r\n/i)
  const body = JSON.parse(c.received.slice(c.received.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }
  assert.equal(body.error.code, 'request_timeout')
}

describe('HTTP deadlines: stalled headers and bodies are cut on time, whatever their number', () => {
  let colony: TestColony
  let port: number
  const clients: RawClient[] = []

  before(async () => {
    colony = await startColony({ config: { http: { headersTimeoutMs: HEADERS_MS, bodyTimeoutMs: BODY_MS } } })
    port = Number(new URL(colony.rt.urls.http).port)
  })
  afterEach(() => { for (const c of clients.splice(0)) c.destroy() })
  after(async () => { await colony?.close() })

  async function open (n: number, first?: string): Promise<RawClient[]> {
    const opened = await Promise.all(Array.from({ length: n }, () => RawClient.open(port, first)))
    clients.push(...opened)
    return opened
  }

  /** Plain requests keep being answered while the stalled sockets wait to be cut. */
  async function healthyMeanwhile (until: Promise<unknown>): Promise<number> {
    let answered = 0
    let done = false
    void until.then(() => { done = true })
    while (!done) {
      const res = await fetch(`${colony.rt.urls.http}/api/health`)
      assert.equal(res.status, 200)
      await res.arrayBuffer()
      answered++
    }
    return answered
  }

  it('200 slowloris sockets trickling headers and 20 silent ones: all cut with 408 in time, others served meanwhile', async function () {
    this.timeout(30_000)
    const slow = await open(200, 'GET /api/health HTTP/1.1\r\nHost: localhost\r\n')
    for (const c of slow) c.trickleHeaders(100)
    const silent = await open(20)
    const all = Promise.all([...slow, ...silent].map((c) => c.closed))
    const answered = await healthyMeanwhile(all)
    assert.ok(answered > 0)
    assertCutInTime(slow, HEADERS_MS, 'trickled headers')
    assertCutInTime(silent, HEADERS_MS, 'silent connection')
    for (const c of [...slow, ...silent]) assert408(c, 'headers timeout')
    assert.ok(colony.rt.http.deadlines.headerTimeouts >= 220)
  })

  it('200 unfinished chunked bodies and 20 short Content-Length bodies: 408 in time, others served meanwhile', async function () {
    this.timeout(30_000)
    const head = (te: string): string => `POST /api/actors HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${te}\r\n`
    const chunked = await open(200, `${head('Transfer-Encoding: chunked\r\n')}5\r\n{"kin\r\n`)
    const short = await open(20, `${head('Content-Length: 100\r\n')}{"kind":`)
    const all = Promise.all([...chunked, ...short].map((c) => c.closed))
    await healthyMeanwhile(all)
    assertCutInTime(chunked, BODY_MS, 'chunked body')
    assertCutInTime(short, BODY_MS, 'short body')
    for (const c of [...chunked, ...short]) assert408(c, 'body timeout')
  })

  it('a body the route never reads is cut too, after its answer', async () => {
    const [c] = await open(1, 'POST /api/nowhere HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n')
    await c!.closed
    assert.match(c!.received, /^HTTP\/1\.1 404 /)
    assertCutInTime([c!], BODY_MS, 'unread body')
  })

  it('upgrades to /ws and /mqtt that never finish their headers are cut with 408', async () => {
    const ws = await open(10, 'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n')
    const mqtt = await open(10, 'GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: mqtt\r\n')
    await Promise.all([...ws, ...mqtt].map((c) => c.closed))
    assertCutInTime([...ws, ...mqtt], HEADERS_MS, 'upgrade headers')
    for (const c of [...ws, ...mqtt]) assert408(c, 'upgrade headers')
  })

  it('a finished upgrade is not cut by the headers deadline', async () => {
    const { WebSocket } = await import('ws')
    const ws = new WebSocket(`${colony.rt.urls.ws}?topics=agents/main-actor/heartbeat`)
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    // Three beats (200 ms apart) span longer than HEADERS_MS; the stream must still be up.
    let beats = 0
    await new Promise<void>((resolve) => ws.on('message', () => { if (++beats === 5) resolve() }))
    assert.equal(ws.readyState, WebSocket.OPEN)
    const closed = new Promise((resolve) => ws.once('close', resolve))
    ws.close()
    await closed
  })

  it('a kept-alive connection whose next request stalls in its headers is cut with 408, the deadline counted from the last answer', async () => {
    const [c] = await open(1)
    // Half a deadline before the first request: a timer armed at the connection and not again would cut early.
    await new Promise((resolve) => setTimeout(resolve, HEADERS_MS / 2))
    c!.socket.write('GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n')
    while (!/\r\n\r\n\{/.test(c!.received)) await new Promise((resolve) => c!.socket.once('data', resolve))
    const answeredAt = performance.now()
    // A bodiless GET took no body timer; the connection's one headers timer is armed again after the answer.
    c!.socket.write('GET /api/health HTTP/1.1\r\nHost: localhost\r\n')
    await c!.closed
    // The 408 follows the JSON body of the 200 on the same line.
    const responses = c!.received.match(/HTTP\/1\.1 \d+/g) ?? []
    assert.deepEqual(responses, ['HTTP/1.1 200', 'HTTP/1.1 408'])
    const waited = (c!.closedAt as number) - answeredAt
    assert.ok(waited >= HEADERS_MS - 50 && waited <= HEADERS_MS + SLACK_MS, `cut ${Math.round(waited)} ms after the answer`)
  })

  it('a kept-alive connection: requests within the deadlines work; idle afterwards it is closed without a stray 408', async () => {
    const [c] = await open(1)
    const body = '{"kind":"nope"}'
    // A body in two pieces 200 ms apart is well inside BODY_MS.
    c!.socket.write(`POST /api/actors HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
    c!.socket.write(body.slice(5))
    await c!.closed
    const responses = c!.received.match(/^HTTP\/1\.1 \d+/gm) ?? []
    assert.deepEqual(responses, ['HTTP/1.1 400'], 'one answer (unknown kind), then a silent close when idle')
    assert.match(c!.received, /actor_kind_unknown/)
  })
})
