import assert from 'node:assert/strict'
import { createActor } from 'xstate'
import { lifecycleMachine, type LifecycleEvent } from '../../../src/actor/lifecycle.js'

/**
 * The lifecycle machine alone, driven by hooks whose start and stop the test settles by hand: which events
 * each state takes, which it ignores, and when the behaviour's start and stop run.
 */
function machine () {
  const calls: string[] = []
  const pending: Array<{ what: string, settle: (ok: boolean) => void }> = []
  const hook = (what: string) => () => new Promise<void>((resolve, reject) => {
    calls.push(what)
    pending.push({ what, settle: (ok) => { if (ok) resolve(); else reject(new Error(`${what} failed`)) } })
  })
  const actor = createActor(lifecycleMachine, { input: { start: hook('start'), stop: hook('stop') } })
  actor.start()
  const state = (): string => {
    const value = actor.getSnapshot().value
    return typeof value === 'string' ? value : `restarting.${(value as { restarting: string }).restarting}`
  }
  return {
    calls,
    state,
    send: (event: LifecycleEvent) => actor.send(event),
    /** Settles the oldest running hook and lets the machine take the result. */
    async settle (ok = true): Promise<void> {
      const next = pending.shift()
      assert.ok(next !== undefined, 'no hook is running')
      next.settle(ok)
      for (let i = 0; i < 10; i++) await Promise.resolve()
    },
    error: () => actor.getSnapshot().context.error,
    stop: () => actor.stop(),
  }
}

async function running () {
  const m = machine()
  await m.settle()
  assert.equal(m.state(), 'running')
  return m
}

describe('actor/lifecycle: the machine every actor shares', () => {
  it('starts in initializing, running once the behaviour started; a failed start is a crash with its error', async () => {
    const ok = machine()
    assert.equal(ok.state(), 'initializing')
    assert.deepEqual(ok.calls, ['start'])
    await ok.settle()
    assert.equal(ok.state(), 'running')
    ok.stop()

    const bad = machine()
    await bad.settle(false)
    assert.equal(bad.state(), 'failed')
    assert.match(String(bad.error()), /start failed/)
    bad.stop()
  })

  it('running <-> paused; events a state does not take are ignored', async () => {
    const m = await running()
    m.send({ type: 'RESUME' })
    m.send({ type: 'START' })
    assert.equal(m.state(), 'running')
    m.send({ type: 'PAUSE' })
    assert.equal(m.state(), 'paused')
    m.send({ type: 'PAUSE' })
    m.send({ type: 'START' })
    assert.equal(m.state(), 'paused')
    m.send({ type: 'RESUME' })
    assert.equal(m.state(), 'running')
    assert.deepEqual(m.calls, ['start'], 'pause and resume never restart the behaviour')
    m.stop()
  })

  it('STOP runs the behaviour stop once and ends in stopped, even when that stop fails', async () => {
    for (const ok of [true, false]) {
      const m = await running()
      m.send({ type: 'PAUSE' })
      m.send({ type: 'STOP' })
      assert.equal(m.state(), 'stopping')
      await m.settle(ok)
      assert.equal(m.state(), 'stopped')
      m.send({ type: 'RESUME' })
      m.send({ type: 'SUSPEND' })
      assert.equal(m.state(), 'stopped', 'stopped is final')
      assert.deepEqual(m.calls, ['start', 'stop'])
      m.stop()
    }
  })

  it('FAIL from any live state records the error; from failed, STOP ends it without another stop', async () => {
    const m = await running()
    const err = new Error('crash')
    m.send({ type: 'FAIL', error: err })
    assert.equal(m.state(), 'failed')
    assert.equal(m.error(), err)
    m.send({ type: 'PAUSE' })
    m.send({ type: 'RESUME' })
    assert.equal(m.state(), 'failed')
    m.send({ type: 'STOP' })
    assert.equal(m.state(), 'stopped')
    assert.deepEqual(m.calls, ['start'], 'the cell releases a crashed instance itself')
    m.stop()
  })

  it('a restart is two steps: SUSPEND releases the instance, START creates a new one; the error is cleared', async () => {
    const m = await running()
    m.send({ type: 'FAIL', error: new Error('crash') })
    m.send({ type: 'SUSPEND' })
    assert.equal(m.state(), 'restarting.releasing')
    assert.equal(m.error(), undefined)
    m.send({ type: 'START' })
    assert.equal(m.state(), 'restarting.releasing', 'START waits for the release')
    await m.settle()
    assert.equal(m.state(), 'restarting.down')
    m.send({ type: 'START' })
    assert.equal(m.state(), 'initializing')
    await m.settle()
    assert.equal(m.state(), 'running')
    assert.deepEqual(m.calls, ['start', 'stop', 'start'])
    m.stop()
  })

  it('a paused actor can be restarted, and a restarting one stopped', async () => {
    const m = await running()
    m.send({ type: 'PAUSE' })
    m.send({ type: 'SUSPEND' })
    await m.settle()
    assert.equal(m.state(), 'restarting.down')
    m.send({ type: 'STOP' })
    assert.equal(m.state(), 'stopping')
    await m.settle()
    assert.equal(m.state(), 'stopped')
    m.stop()
  })

  it('a STOP while starting goes to stopping at once and runs the stop (the cell makes that stop wait for the start)', async () => {
    const m = machine()
    m.send({ type: 'STOP' })
    assert.equal(m.state(), 'stopping')
    assert.deepEqual(m.calls, ['start', 'stop'])
    await m.settle() // the start: its result no longer matters
    assert.equal(m.state(), 'stopping')
    await m.settle() // the stop
    assert.equal(m.state(), 'stopped')
    assert.deepEqual(m.calls, ['start', 'stop'])
    m.stop()
  })
})
