import assert from 'node:assert/strict'
import { ManualClock } from '../../../src/clock.js'
import { affectedMembers, RestartBudget } from '../../../src/actor/restart-policy.js'

interface M { name: string, live: boolean }
const member = (name: string, live = true): M => ({ name, live })
const names = (ms: M[]): string[] => ms.map((m) => m.name)

describe('supervisor decisions (restart-policy)', () => {
  describe('affectedMembers', () => {
    // Start order a, b, c, d; c is cleanly stopped.
    const [a, b, c, d] = [member('a'), member('b'), member('c', false), member('d')] as [M, M, M, M]
    const group = [a, b, c, d]

    it('one_for_one restarts the crashed member only', () => {
      assert.deepEqual(names(affectedMembers('one_for_one', group, b)), ['b'])
    })

    it('one_for_all restarts every live member in start order, never a cleanly stopped one', () => {
      assert.deepEqual(names(affectedMembers('one_for_all', group, b)), ['a', 'b', 'd'])
    })

    it('rest_for_one restarts the crashed member and the live ones started after it', () => {
      assert.deepEqual(names(affectedMembers('rest_for_one', group, b)), ['b', 'd'])
      assert.deepEqual(names(affectedMembers('rest_for_one', group, d)), ['d'])
      assert.deepEqual(names(affectedMembers('rest_for_one', group, a)), ['a', 'b', 'd'])
    })

    it('the crashed member is included even when it no longer counts as live', () => {
      const failed = member('x', false)
      assert.deepEqual(names(affectedMembers('one_for_all', [a, failed], failed)), ['a', 'x'])
      assert.deepEqual(names(affectedMembers('rest_for_one', [failed, a], failed)), ['x', 'a'])
    })
  })

  describe('RestartBudget', () => {
    it('allows maxRestarts within the window, then gives up without counting the refusal', () => {
      const clock = new ManualClock()
      const budget = new RestartBudget({ maxRestarts: 3, restartWindowMs: 1000 }, clock)
      assert.deepEqual([budget.take(), budget.take(), budget.take()], [true, true, true])
      assert.equal(budget.take(), false)
      clock.advance(999)
      assert.equal(budget.take(), false, 'the first restart is still inside the window')
    })

    it('restarts older than the window no longer count (a sliding window, not a fixed one)', () => {
      const clock = new ManualClock()
      const budget = new RestartBudget({ maxRestarts: 2, restartWindowMs: 1000 }, clock)
      assert.equal(budget.take(), true) // t=0
      clock.advance(600)
      assert.equal(budget.take(), true) // t=600
      assert.equal(budget.take(), false)
      clock.advance(400) // t=1000: the one at 0 left the window, the one at 600 has not
      assert.equal(budget.take(), true)
      assert.equal(budget.take(), false)
      clock.advance(600) // t=1600: 600 left, 1000 remains
      assert.equal(budget.take(), true)
    })

    it('maxRestarts 0 gives up at the first crash', () => {
      const budget = new RestartBudget({ maxRestarts: 0, restartWindowMs: 1000 }, new ManualClock())
      assert.equal(budget.take(), false)
    })
  })
})
