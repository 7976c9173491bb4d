import assert from 'node:assert/strict'
import { KERNEL_SETTINGS, loadConfig as loadSections, readDefaults } from '../../src/config.js'
import { SETTINGS, loadConfig } from '../../src/assembly.js'
import { defaultsOf, int, section, text, type ConfigInput } from '../../src/settings.js'
import { ColonyError } from '../../src/errors.js'

/** `section.key` for every setting in a config-shaped object. */
function settingNames (config: ConfigInput): string[] {
  return Object.entries(config).flatMap(([name, values]) => Object.keys(values).map((key) => `${name}.${key}`)).sort()
}

describe('config: declared settings and config/default.json', () => {
  const declared = defaultsOf(SETTINGS)
  const file = readDefaults()
  const regenerate = `config/default.json should be:\n${JSON.stringify(declared, null, 2)}`

  it('every declared setting is in config/default.json', () => {
    const missing = settingNames(declared).filter((name) => !settingNames(file).includes(name))
    assert.deepEqual(missing, [], regenerate)
  })

  it('config/default.json holds no setting that no owner declares', () => {
    const stray = settingNames(file).filter((name) => !settingNames(declared).includes(name))
    assert.deepEqual(stray, [], regenerate)
  })

  it('config/default.json holds each setting at its declared default', () => {
    for (const [name, values] of Object.entries(declared)) {
      for (const [key, value] of Object.entries(values)) {
        assert.deepEqual(file[name]?.[key], value, `${name}.${key}: default.json has ${JSON.stringify(file[name]?.[key])}, its owner declares ${JSON.stringify(value)}`)
      }
    }
  })

  it('the declared defaults pass their own rules and checks', () => {
    assert.deepEqual(loadConfig({ env: {} }), declared)
  })

  it('the kernel declares its own sections; the bridges and actor kinds bring theirs through the assembly', () => {
    const kernel = KERNEL_SETTINGS.map((s) => s.name)
    for (const name of ['http', 'mqtt', 'data', 'store', 'auth', 'oauth', 'actors', 'supervisor', 'wasm', 'log']) assert.ok(kernel.includes(name as never), name)
    for (const name of ['nats', 'ws', 'monitor', 'haMap']) {
      assert.ok(!kernel.includes(name as never), `${name} is not the kernel's`)
      assert.ok(SETTINGS.some((s) => s.name === name), `${name} reaches the loader through the assembly`)
    }
  })

  it('a kernel-only loader knows nothing of the bridges\' sections', () => {
    assert.throws(() => loadSections(KERNEL_SETTINGS, { env: { COLONY_NATS_URL: 'nats://127.0.0.1:4222' } }), (err: unknown) => {
      assert.ok(err instanceof ColonyError)
      assert.deepEqual(err.details?.problems, ['unknown environment variable COLONY_NATS_URL'])
      return true
    })
  })

  it('refuses two owners declaring the same section', () => {
    const a = section('twice', { x: int(1, { min: 0, max: 2 }) })
    const b = section('twice', { y: text('y') })
    assert.throws(() => loadSections([a, b], { env: {} }), /two owners declare the config section "twice"/)
  })

  it('a section\'s check sees every section and runs after the rules', () => {
    const seen: unknown[] = []
    const probe = section('probe', { n: int(1, { min: 0, max: 10 }) }, (values, problems, config) => {
      seen.push(values.n, config.other?.s)
      if (values.n === 0) problems.push('probe.n must not be 0 here')
    })
    const other = section('other', { s: text('hello') })
    assert.throws(() => loadSections([probe, other], { env: {}, overrides: { probe: { n: 0 }, other: { s: '' } } }), (err: unknown) => {
      assert.ok(err instanceof ColonyError)
      assert.deepEqual(err.details?.problems, ['other.s must be a non-empty string', 'probe.n must not be 0 here'])
      return true
    })
    assert.deepEqual(seen, [0, ''])
  })
})
