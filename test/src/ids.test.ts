import assert from 'node:assert/strict'
import { actorId, freshActorId, isTopicSafeId } from '../../src/ids.js'

describe('actor ids', () => {
  it('look like the Wactorz seed\'s (8 base32 characters of the second, 8 random hex digits) and are topic-safe', () => {
    const id = actorId(Date.UTC(2026, 11, 7))
    assert.match(id, /^[0-9A-HJKMNP-TV-Z]{8}-[0-9a-f]{8}$/)
    assert.ok(isTopicSafeId(id))
    assert.equal(actorId(Date.UTC(2026, 11, 7)).slice(0, 8), id.slice(0, 8), 'the same second, the same prefix')
  })

  it('a drawn id that is taken is drawn again, as often as it takes', () => {
    const draws = ['A-1', 'A-1', 'A-2', 'A-1', 'A-3']
    let i = 0
    const draw = (): string => draws[i++] as string
    const taken = new Set(['A-1', 'A-2'])
    assert.equal(freshActorId(0, (id) => taken.has(id), draw), 'A-3')
    assert.equal(i, 5)
  })

  it('100 000 ids drawn in one second are all different', () => {
    const seen = new Set<string>()
    for (let k = 0; k < 100_000; k++) seen.add(freshActorId(1_000, (id) => seen.has(id)))
    assert.equal(seen.size, 100_000)
  })
})
