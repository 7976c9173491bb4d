import assert from 'node:assert/strict'
import { ManualClock } from '../../../src/clock.js'
import { hostHeartbeat } from '../../../bridges/nats/heartbeat.js'
import { startNatsServer, type NatsServer } from '../../helpers/nats-server.js'
import { startColony, type TestColony } from '../../helpers/runtime.js'
import { Wash } from '../../helpers/wash.js'

describe('NATS bridge: the host heartbeat runs on the injected clock', () => {
  it('beats once per interval as the clock moves, keeps its phase, and not at all once stopped', () => {
    const clock = new ManualClock(0)
    const beats: number[] = []
    const heartbeat = hostHeartbeat(clock, 100, () => beats.push(clock.now()))
    clock.advance(99)
    assert.deepEqual(beats, [])
    clock.advance(1)
    assert.deepEqual(beats, [100])
    clock.advance(250)
    assert.deepEqual(beats, [100, 200, 300])
    heartbeat.stop()
    clock.advance(1000)
    assert.deepEqual(beats, [100, 200, 300])
    assert.equal(clock.pending, 0, 'no timer left behind')
  })

  it('after a stall skips the missed beats instead of sending them in a burst, and keeps the phase', () => {
    const clock = new ManualClock(0)
    const beats: number[] = []
    // A clock that jumps: every timer fires late, as after a blocked event loop.
    const late = { now: () => clock.now(), clearTimeout: (h: unknown) => clock.clearTimeout(h), setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms === 100 ? 350 : ms) }
    const heartbeat = hostHeartbeat(late, 100, () => beats.push(clock.now()))
    clock.advance(350)
    assert.deepEqual(beats, [350])
    clock.advance(50)
    assert.deepEqual(beats, [350, 400], 'the next beat is on the original phase')
    heartbeat.stop()
  })
})

describe('NATS bridge: a Colony on a ManualClock sends host_heartbeat when the clock moves', function () {
  this.timeout(20_000)
  let nats: NatsServer
  let wash: Wash
  let colony: TestColony | undefined

  before(async () => {
    nats = await startNatsServer()
    wash = await Wash.connect(nats.url)
  })
  after(async () => {
    await colony?.close()
    await wash?.close()
    await nats?.stop()
  })

  it('a minute-long interval beats at once when the clock is advanced by it (a timer of its own would wait the minute)', async () => {
    const clock = new ManualClock(Date.now())
    const minuteMs = 60_000
    colony = await startColony({ clock, config: { nats: { url: nats.url, heartbeatIntervalMs: minuteMs } } })
    const hostId = (await wash.event('host_started')).source
    // The beat sent on joining, before any interval passed.
    await wash.event('host_heartbeat', (e) => e.source === hostId)
    const from = wash.mark
    clock.advance(3 * minuteMs)
    const beats = (): number => wash.seen('host_heartbeat', from).filter((e) => e.source === hostId).length
    await wash.event('host_heartbeat', () => beats() >= 3, { from, timeoutMs: 5000 })
    assert.equal(beats(), 3, 'one beat per interval passed')
  })
})
