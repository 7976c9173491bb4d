import assert from 'node:assert/strict'
import { renderProfile, summarizeProfile } from './profile.js'

const LINES: Record<string, number> = { main: 1, parse: 9, write: 20 }
const frame = (id: number, functionName: string, children: number[] = [], url = 'file:///app/dist/src/x.js') =>
  ({ id, callFrame: { functionName, url, lineNumber: LINES[functionName] ?? 0 }, children })

describe('bench profile summary', () => {
  // (root) -> main -> parse -> parse (recursion), main -> write; plus idle samples that must not count.
  const profile = {
    nodes: [frame(1, '(root)', [2, 6], ''), frame(2, 'main', [3, 5]), frame(3, 'parse', [4]), frame(4, 'parse'), frame(5, 'write'), frame(6, '(idle)', [], '')],
    samples: [3, 4, 4, 5, 6, 6, 2],
    timeDeltas: [1000, 1000, 1000, 1000, 5000, 5000, 1000],
  }

  it('splits busy time into self and total shares, leaving idle out and counting a recursive function once', () => {
    const s = summarizeProfile(profile)
    assert.equal(s.busyMs, 5)
    const self = Object.fromEntries(s.self.map((f) => [f.name.split(' ')[0], f.selfPct]))
    assert.deepEqual(self, { parse: 60, write: 20, main: 20 })
    const total = Object.fromEntries(s.total.map((f) => [f.name.split(' ')[0], f.totalPct]))
    assert.deepEqual(total, { main: 100, parse: 60, write: 20 })
    assert.equal(s.self.find((f) => f.name.startsWith('parse'))?.name, 'parse src/x.js:10')
  })

  it('keeps the top N and renders both lists', () => {
    const s = summarizeProfile(profile, 1)
    assert.equal(s.self.length, 1)
    const text = renderProfile('worker.cpuprofile', s)
    assert.match(text, /worker\.cpuprofile: 5 ms busy/)
    assert.match(text, / 60\.0 % {2}parse/)
    assert.match(text, /100\.0 % {2}main/)
  })
})
