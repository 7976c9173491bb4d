import assert from 'node:assert/strict'
import mqemitter from 'mqemitter'
import { cacheMatches } from '../../../src/broker/mq.js'

/** Emits on `topic` and resolves with the names of the listeners that got it, in call order. */
async function heard (mq: mqemitter.MQEmitter, topic: string, log: string[]): Promise<string[]> {
  log.length = 0
  await new Promise<void>((resolve) => mq.emit({ topic }, () => resolve()))
  return [...log].sort()
}

describe('the cache of topic matches', () => {
  it('follows every subscribe and unsubscribe: a topic seen before is matched afresh after a change', async () => {
    const mq = mqemitter({ concurrency: 10, matchEmptyLevels: true })
    cacheMatches(mq)
    const log: string[] = []
    const listener = (name: string) => (_message: unknown, done: () => void): void => { log.push(name); done() }
    const plus = listener('plus')
    const hash = listener('hash')
    const exact = listener('exact')
    await new Promise<void>((resolve) => mq.on('agents/+/heartbeat', plus, () => resolve()))
    assert.deepEqual(await heard(mq, 'agents/a/heartbeat', log), ['plus'])
    assert.deepEqual(await heard(mq, 'agents/a/heartbeat', log), ['plus'], 'the cached match')
    await new Promise<void>((resolve) => mq.on('agents/#', hash, () => resolve()))
    assert.deepEqual(await heard(mq, 'agents/a/heartbeat', log), ['hash', 'plus'])
    await new Promise<void>((resolve) => mq.on('agents/a/heartbeat', exact, () => resolve()))
    assert.deepEqual(await heard(mq, 'agents/a/heartbeat', log), ['exact', 'hash', 'plus'])
    await new Promise<void>((resolve) => mq.removeListener('agents/+/heartbeat', plus, () => resolve()))
    assert.deepEqual(await heard(mq, 'agents/a/heartbeat', log), ['exact', 'hash'])
    assert.deepEqual(await heard(mq, 'agents/b/heartbeat', log), ['hash'])
    await new Promise<void>((resolve) => mq.removeListener('agents/#', hash, () => resolve()))
    assert.deepEqual(await heard(mq, 'agents/b/heartbeat', log), [])
    assert.deepEqual(await heard(mq, 'agents/a/heartbeat', log), ['exact'])
    await new Promise<void>((resolve) => mq.close(() => resolve()))
  })
})
