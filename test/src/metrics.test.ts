import assert from 'node:assert/strict'
import { Metrics } from '../../src/metrics.js'

describe('Metrics', () => {
  it('renders nothing but a newline when empty', () => {
    assert.equal(new Metrics().render(), '\n')
  })

  it('renders HELP, TYPE and a plain sample', () => {
    const m = new Metrics()
    m.register('colony_actors', 'Actors in the registry', 'gauge', () => 12)
    assert.equal(m.render(), '# HELP colony_actors Actors in the registry\n# TYPE colony_actors gauge\ncolony_actors 12\n')
  })

  it('renders metrics in registration order, each with its HELP/TYPE block', () => {
    const m = new Metrics()
    m.register('b_total', 'B', 'counter', () => 2)
    m.register('a_total', 'A', 'counter', () => 1)
    assert.deepEqual(m.render().trimEnd().split('\n'), [
      '# HELP b_total B', '# TYPE b_total counter', 'b_total 2',
      '# HELP a_total A', '# TYPE a_total counter', 'a_total 1',
    ])
  })

  it('renders labelled samples, one line each', () => {
    const m = new Metrics()
    m.register('colony_actor_state', 'Actors by state', 'gauge', () => [
      [{ state: 'running', kind: 'echo' }, 3],
      [{ state: 'paused', kind: 'echo' }, 0],
    ])
    const lines = m.render().trimEnd().split('\n')
    assert.deepEqual(lines.slice(2), [
      'colony_actor_state{state="running",kind="echo"} 3',
      'colony_actor_state{state="paused",kind="echo"} 0',
    ])
  })

  it('a labelled metric with no samples renders only its HELP and TYPE', () => {
    const m = new Metrics()
    m.register('empty', 'Nothing yet', 'gauge', () => [])
    assert.equal(m.render(), '# HELP empty Nothing yet\n# TYPE empty gauge\n')
  })

  it('a sample with an empty label set has no braces', () => {
    const m = new Metrics()
    m.register('x', 'X', 'gauge', () => [[{}, 1]])
    assert.ok(m.render().endsWith('\nx 1\n'))
  })

  it('escapes backslash, double quote and newline in label values', () => {
    const m = new Metrics()
    m.register('x', 'X', 'gauge', () => [[{ path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb' }, 1]])
    const sample = m.render().trimEnd().split('\n')[2]
    assert.equal(sample, 'x{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb"} 1')
  })

  it('escapes backslash and newline in HELP, and leaves quotes alone', () => {
    const m = new Metrics()
    m.register('x', 'line one\nline "two" \\ end', 'counter', () => 0)
    assert.equal(m.render().split('\n')[0], '# HELP x line one\\nline "two" \\\\ end')
  })

  it('renders NaN, +Inf and -Inf as Prometheus spells them', () => {
    const m = new Metrics()
    m.register('nan', 'n', 'gauge', () => NaN)
    m.register('inf', 'i', 'gauge', () => [[{ sign: '+' }, Infinity], [{ sign: '-' }, -Infinity]])
    const lines = m.render().trimEnd().split('\n')
    assert.ok(lines.includes('nan NaN'))
    assert.ok(lines.includes('inf{sign="+"} +Inf'))
    assert.ok(lines.includes('inf{sign="-"} -Inf'))
  })

  it('renders fractional, negative and large numbers', () => {
    const m = new Metrics()
    m.register('v', 'v', 'gauge', () => [[{ k: 'a' }, 0.25], [{ k: 'b' }, -3], [{ k: 'c' }, 1.5e21]])
    const lines = m.render().trimEnd().split('\n').slice(2)
    assert.deepEqual(lines, ['v{k="a"} 0.25', 'v{k="b"} -3', 'v{k="c"} 1.5e+21'])
  })

  it('reads collectors at every render', () => {
    const m = new Metrics()
    let count = 0
    m.register('reads_total', 'r', 'counter', () => ++count)
    assert.ok(m.render().includes('reads_total 1\n'))
    assert.ok(m.render().includes('reads_total 2\n'))
  })

  it('refuses to register the same name twice', () => {
    const m = new Metrics()
    m.register('dup', 'first', 'gauge', () => 1)
    assert.throws(() => m.register('dup', 'second', 'counter', () => 2), /dup registered twice/)
    assert.ok(m.render().includes('# HELP dup first'))
  })

  for (const name of ['', '1abc', 'has-dash', 'has space', 'é']) {
    it(`refuses the invalid metric name ${JSON.stringify(name)}`, () => {
      assert.throws(() => new Metrics().register(name, 'h', 'gauge', () => 0), /invalid metric name/)
    })
  }

  it('accepts names with colons and underscores', () => {
    const m = new Metrics()
    m.register('_colony:rate_5m', 'h', 'gauge', () => 0)
    m.register('Colony_X', 'h', 'gauge', () => 0)
    assert.ok(m.render().includes('_colony:rate_5m 0'))
  })

  it('unregister removes the metric, and the name can be registered again', () => {
    const m = new Metrics()
    const unregister = m.register('gone', 'g', 'gauge', () => 1)
    m.register('kept', 'k', 'gauge', () => 2)
    unregister()
    assert.ok(!m.render().includes('gone'))
    assert.ok(m.render().includes('kept 2'))
    m.register('gone', 'g2', 'counter', () => 3)
    assert.ok(m.render().includes('# TYPE gone counter\ngone 3'))
  })

  it('a stale unregister (called twice) does not remove a later registration of the same name', () => {
    const m = new Metrics()
    const first = m.register('shared', 'first owner', 'gauge', () => 1)
    first()
    m.register('shared', 'second owner', 'gauge', () => 2)
    first() // e.g. a component whose stop() ran twice
    assert.ok(m.render().includes('shared 2'), 'the second owner\'s metric was removed by the first owner')
  })
})
