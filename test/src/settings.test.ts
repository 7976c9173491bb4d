import assert from 'node:assert/strict'
import { bool, defaultsOf, int, ms, oneOf, section, show, text, type SettingsOf } from '../../src/settings.js'
import type { ColonyConfig } from '../../src/config.js'

const sample = section('sample', {
  count: int(3, { min: 0, max: 10 }),
  waitMs: ms(1000, 1),
  enabled: bool(true),
  mode: oneOf(['fast', 'safe'], 'safe'),
  name: text('colony', { hint: 'a name' }),
})
type Sample = SettingsOf<typeof sample>

describe('settings: one declaration gives the rules, the defaults and the type', () => {
  it('the type is derived from the rules (an enum is its union of values)', () => {
    const value: Sample = { count: 1, waitMs: 2, enabled: false, mode: 'fast', name: 'x' }
    // @ts-expect-error -- 'quick' is not one of the declared values; the build fails if this ever compiles
    const wrongMode: Sample['mode'] = 'quick'
    // @ts-expect-error -- an int setting is a number
    const wrongCount: Sample['count'] = '1'
    assert.deepEqual([value.mode, wrongMode, wrongCount], ['fast', 'quick', '1'])
  })

  it('sections declared by bridges and actor kinds are part of ColonyConfig, typed by their owners', () => {
    const nats: ColonyConfig['nats']['lattice'] = 'default'
    const overflow: ColonyConfig['ws']['overflow'] = 'close'
    // @ts-expect-error -- ws.overflow is drop or close
    const wrong: ColonyConfig['ws']['overflow'] = 'block'
    assert.deepEqual([nats, overflow, wrong], ['default', 'close', 'block'])
  })

  it('the defaults are the declared ones, section by section', () => {
    assert.deepEqual(defaultsOf([sample, section('other', { on: bool(false) })]), {
      sample: { count: 3, waitMs: 1000, enabled: true, mode: 'safe', name: 'colony' },
      other: { on: false },
    })
  })

  it('ms defaults to at most a day', () => {
    assert.deepEqual(ms(5, 1), { type: 'int', default: 5, min: 1, max: 86_400_000 })
  })

  it('show quotes a value and cuts it short', () => {
    assert.equal(show('abc'), '"abc"')
    assert.equal(show(undefined), 'undefined')
    assert.equal(show('x'.repeat(100)).length, 60)
  })
})
