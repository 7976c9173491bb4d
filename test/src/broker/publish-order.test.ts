import assert from 'node:assert/strict'
import { PublishOrder } from '../../../src/broker/publish-order.js'

/** Runs the event loop until PublishOrder's deferred releases (one setImmediate each) have run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('PublishOrder', () => {
  it('a plain publish waits behind a retained one being stored, then goes on the next turn', async () => {
    const order = new PublishOrder()
    const client = {}
    const log: string[] = []
    let finish: (() => void) | undefined
    order.retained(client, (stored) => { log.push('store r1'); finish = stored })
    order.plain(client, () => log.push('p1'))
    assert.deepEqual(log, ['store r1'])
    finish?.()
    assert.deepEqual(log, ['store r1'], 'not in the same turn as the store answer')
    await turn()
    assert.deepEqual(log, ['store r1', 'p1'])
  })

  it('consecutive retained publishes are stored together; a retained one behind a held plain one waits its turn', async () => {
    const order = new PublishOrder()
    const client = {}
    const log: string[] = []
    const pending: Array<() => void> = []
    const retained = (name: string): void => order.retained(client, (stored) => { log.push(`store ${name}`); pending.push(stored) })
    retained('r1')
    retained('r2')
    order.plain(client, () => log.push('p1'))
    retained('r3')
    order.plain(client, () => log.push('p2'))
    assert.deepEqual(log, ['store r1', 'store r2'], 'r1 and r2 in one go')
    for (const stored of pending.splice(0)) stored()
    await turn()
    assert.deepEqual(log, ['store r1', 'store r2', 'p1', 'store r3'], 'p2 still waits for r3')
    for (const stored of pending.splice(0)) stored()
    await turn()
    assert.deepEqual(log, ['store r1', 'store r2', 'p1', 'store r3', 'p2'])
  })

  it('clients do not wait for each other, and a client with nothing held runs at once', () => {
    const order = new PublishOrder()
    const a = {}
    const b = {}
    const log: string[] = []
    order.retained(a, () => log.push('store a'))
    order.plain(b, () => log.push('b'))
    order.plain(a, () => log.push('a'))
    assert.deepEqual(log, ['store a', 'b'])
  })
})
