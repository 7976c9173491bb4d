import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { envName, isLoopback, readDefaults, type ConfigInput, type LoadOptions } from '../../src/config.js'
import { loadConfig } from '../../src/assembly.js'
import { ColonyError } from '../../src/errors.js'

/** Runs loadConfig expecting failure; returns the problems of the one config_invalid error. */
function problemsOf (options: LoadOptions): string[] {
  let caught: unknown
  try {
    loadConfig(options)
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof ColonyError, `expected a ColonyError, got ${String(caught)}`)
  assert.equal(caught.code, 'config_invalid')
  const problems = caught.details?.problems
  assert.ok(Array.isArray(problems), 'details.problems is an array')
  for (const p of problems) assert.ok(caught.message.includes(p as string), `message lists "${String(p)}"`)
  return problems as string[]
}

function assertHas (problems: string[], pattern: RegExp): void {
  assert.ok(problems.some((p) => pattern.test(p)), `no problem matches ${String(pattern)} in:\n${problems.join('\n')}`)
}

describe('config', () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'colony-config-test-')) })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  function file (name: string, content: string): string {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }

  describe('defaults', () => {
    it('load, validate and equal config/default.json', () => {
      const config = loadConfig({ env: {} })
      assert.deepEqual(config, readDefaults())
      assert.equal(config.actors.heartbeatIntervalMs, 10_000)
      assert.equal(config.mqtt.wsPath, '/mqtt')
    })

    it('are not mutated by an earlier load with overrides', () => {
      loadConfig({ env: {}, overrides: { http: { port: 1234 } } })
      assert.equal(loadConfig({ env: {} }).http.port, readDefaults().http?.port)
    })
  })

  describe('precedence', () => {
    it('defaults < file < env < overrides', () => {
      const path = file('precedence.json', JSON.stringify({
        http: { port: 1111 },
        mqtt: { port: 2222 },
        ws: { flushIntervalMs: 5 },
      }))
      const config = loadConfig({
        file: path,
        env: { COLONY_MQTT_PORT: '3333', COLONY_WS_FLUSH_INTERVAL_MS: '6' },
        overrides: { ws: { flushIntervalMs: 7 } },
      })
      assert.equal(config.http.port, 1111)
      assert.equal(config.mqtt.port, 3333)
      assert.equal(config.ws.flushIntervalMs, 7)
      assert.equal(config.ws.path, '/ws')
      assert.equal(config.mqtt.host, '127.0.0.1')
    })

    it('ignores the process environment when env is given', () => {
      const previous = process.env.COLONY_HTTP_PORT
      process.env.COLONY_HTTP_PORT = '4444'
      try {
        assert.equal(loadConfig({ env: {} }).http.port, 8080)
        assert.equal(loadConfig({ env: { COLONY_HTTP_PORT: process.env.COLONY_HTTP_PORT } }).http.port, 4444)
      } finally {
        if (previous === undefined) delete process.env.COLONY_HTTP_PORT
        else process.env.COLONY_HTTP_PORT = previous
      }
    })
  })

  describe('environment', () => {
    it('names are COLONY_<SECTION>_<KEY> in upper snake case', () => {
      assert.equal(envName('actors', 'heartbeatIntervalMs'), 'COLONY_ACTORS_HEARTBEAT_INTERVAL_MS')
      assert.equal(envName('haMap', 'debounceMs'), 'COLONY_HA_MAP_DEBOUNCE_MS')
      assert.equal(envName('mqtt', 'wsPath'), 'COLONY_MQTT_WS_PATH')
    })

    it('every setting can be given as a string in its env var and round-trips to the default', () => {
      const defaults = readDefaults()
      const env: Record<string, string> = {}
      for (const [section, values] of Object.entries(defaults)) {
        for (const [key, value] of Object.entries(values)) env[envName(section, key)] = String(value)
      }
      const settings = Object.values(defaults).reduce((n, values) => n + Object.keys(values).length, 0)
      assert.equal(Object.keys(env).length, settings, 'every setting has its own env var name')
      assert.deepEqual(loadConfig({ env }), defaults)
    })

    it('coerces numbers and booleans', () => {
      const config = loadConfig({
        env: {
          COLONY_ACTORS_HEARTBEAT_INTERVAL_MS: '250',
          COLONY_HA_MAP_DEBOUNCE_MS: '0',
          COLONY_HTTP_PORT: ' 9090 ',
          COLONY_HTTP_TRUST_PROXY: 'yes',
          COLONY_SUPERVISOR_STRATEGY: 'rest_for_one',
          PATH: '/usr/bin',
        },
      })
      assert.equal(config.actors.heartbeatIntervalMs, 250)
      assert.equal(config.haMap.debounceMs, 0)
      assert.equal(config.http.port, 9090)
      assert.equal(config.http.trustProxy, true)
      assert.equal(config.supervisor.strategy, 'rest_for_one')
    })

    for (const [raw, expected] of [['true', true], ['1', true], ['YES', true], ['false', false], ['0', false], ['No', false]] as const) {
      it(`reads boolean "${raw}" as ${String(expected)}`, () => {
        const env = { COLONY_HTTP_TRUST_PROXY: raw }
        assert.equal(loadConfig({ env }).http.trustProxy, expected)
      })
    }

    it('skips variables whose value is undefined', () => {
      assert.equal(loadConfig({ env: { COLONY_HTTP_PORT: undefined } }).http.port, 8080)
    })

    it('reports an unknown COLONY_ variable, and values that do not coerce', () => {
      const problems = problemsOf({
        env: {
          COLONY_HTTP_PROT: '1',
          COLONY_ACTORS_HEARTBEAT_INTERVAL_MS: '1e3',
          COLONY_HTTP_PORT: 'eighty',
          COLONY_HTTP_TRUST_PROXY: 'maybe',
          COLONY_MQTT_PORT: '4.5',
        },
      })
      assert.equal(problems.length, 5, problems.join('\n'))
      assertHas(problems, /unknown environment variable COLONY_HTTP_PROT/)
      assertHas(problems, /actors\.heartbeatIntervalMs must be an integer \(got "1e3"\)/)
      assertHas(problems, /http\.port must be an integer \(got "eighty"\)/)
      assertHas(problems, /http\.trustProxy must be true or false \(got "maybe"\)/)
      assertHas(problems, /mqtt\.port must be an integer/)
    })
  })

  describe('validation', () => {
    it('reports every problem from file, env and overrides in one error', () => {
      const path = file('many.json', JSON.stringify({
        bogus: { a: 1 },
        http: { nope: true, port: '8080' },
        data: 'not-an-object',
      }))
      const problems = problemsOf({
        file: path,
        env: { COLONY_NOPE: 'x', COLONY_MQTT_MAX_PACKET_BYTES: '12' },
        overrides: { supervisor: { strategy: 'one-for-one' }, log: { level: 'verbose' }, ws: { overflow: 'block' } },
      })
      assertHas(problems, new RegExp(`file ${path}: unknown section "bogus"`))
      assertHas(problems, /unknown setting "http\.nope"/)
      assertHas(problems, /section "data" must be an object/)
      assertHas(problems, /http\.port must be an integer \(got "8080"\)/)
      assertHas(problems, /unknown environment variable COLONY_NOPE/)
      assertHas(problems, /mqtt\.maxPacketBytes must be between 1024 and 268435456 \(got 12\)/)
      assertHas(problems, /supervisor\.strategy must be one of one_for_one, one_for_all, rest_for_one \(got "one-for-one"\)/)
      assertHas(problems, /log\.level must be one of/)
      assertHas(problems, /ws\.overflow must be one of drop, close/)
      assert.equal(problems.length, 9, problems.join('\n'))
    })

    it('checks integer ranges at both ends', () => {
      assert.equal(loadConfig({ env: {}, overrides: { http: { port: 65535 }, mqtt: { port: 0 } } }).http.port, 65535)
      assert.equal(loadConfig({ env: {}, overrides: { actors: { heartbeatIntervalMs: 10 } } }).actors.heartbeatIntervalMs, 10)
      const problems = problemsOf({
        env: {},
        overrides: {
          http: { port: 65536 },
          mqtt: { port: -1 },
          actors: { heartbeatIntervalMs: 9, mailboxCapacity: 0 },
          haMap: { debounceMs: 60_001 },
          ws: { flushIntervalMs: 1.5 },
        },
      })
      assertHas(problems, /http\.port must be between 0 and 65535 \(got 65536\)/)
      assertHas(problems, /mqtt\.port must be between 0 and 65535 \(got -1\)/)
      assertHas(problems, /actors\.heartbeatIntervalMs must be between 10 and/)
      assertHas(problems, /actors\.mailboxCapacity must be between 1 and/)
      assertHas(problems, /haMap\.debounceMs must be between 0 and 60000/)
      assertHas(problems, /ws\.flushIntervalMs must be an integer \(got 1\.5\)/)
      assert.equal(problems.length, 6)
    })

    it('checks types, string patterns and non-empty strings', () => {
      const problems = problemsOf({
        env: {},
        overrides: {
          http: { host: 'bad host!', trustProxy: 'true' },
          mqtt: { wsPath: 'mqtt' },
          data: { dir: '' },
          haMap: { discoveryPrefix: 'home/assistant', maxEntities: null },
        },
      })
      assertHas(problems, /http\.host must be an IP address or host name \(got "bad host!"\)/)
      assertHas(problems, /http\.trustProxy must be true or false \(got "true"\)/)
      assertHas(problems, /mqtt\.wsPath must be a URL path starting with \//)
      assertHas(problems, /data\.dir must be a non-empty string/)
      assertHas(problems, /haMap\.discoveryPrefix must be one MQTT topic level/)
      assertHas(problems, /haMap\.maxEntities must be an integer \(got null\)/)
      assert.equal(problems.length, 6)
    })

    it('reports a file that is not valid JSON, together with the other problems', () => {
      const path = file('broken.json', '{"http": {"port": 1,}}')
      const problems = problemsOf({ file: path, env: { COLONY_HTTP_PORT: 'x' } })
      assertHas(problems, new RegExp(`config file ${path} is not valid JSON`))
      assertHas(problems, /http\.port must be an integer \(got "x"\)/)
      assert.equal(problems.length, 2)
    })

    it('reports a file that holds JSON but not an object', () => {
      const problems = problemsOf({ file: file('array.json', '[1, 2]'), env: {} })
      assertHas(problems, /must hold a JSON object/)
    })

    it('reports a missing file', () => {
      const missing = join(dir, 'does-not-exist.json')
      const problems = problemsOf({ file: missing, env: {} })
      assertHas(problems, new RegExp(`cannot read config file ${missing}.*ENOENT`))
    })

    it('treats names inherited from Object.prototype as unknown settings', () => {
      const problems = problemsOf({ env: {}, overrides: JSON.parse('{"http": {"constructor": 1, "toString": 2}}') as ConfigInput })
      assertHas(problems, /unknown setting "http\.constructor"/)
      assertHas(problems, /unknown setting "http\.toString"/)
    })

    it('a "__proto__" section in a file is reported and does not pollute Object.prototype', () => {
      const path = file('proto.json', '{"__proto__": {"__lookupSetter__": "polluted"}}')
      const proto = Object.prototype as unknown as Record<string, unknown>
      const descriptor = Object.getOwnPropertyDescriptor(Object.prototype, '__lookupSetter__') as PropertyDescriptor
      let problems: string[] | undefined
      let after: unknown
      try {
        try {
          loadConfig({ file: path, env: {} })
        } catch (err) {
          problems = (err as ColonyError).details?.problems as string[]
        }
        after = proto.__lookupSetter__
      } finally {
        Object.defineProperty(Object.prototype, '__lookupSetter__', descriptor)
      }
      assert.notEqual(after, 'polluted', 'Object.prototype.__lookupSetter__ was overwritten from the config file')
      assert.ok(problems !== undefined, 'loadConfig accepted a "__proto__" section')
      assertHas(problems, /unknown section "__proto__"/)
    })
  })

  describe('cross-field rules', () => {
    it('staleCriticalMs must be greater than staleWarningMs', () => {
      const ok = loadConfig({ env: {}, overrides: { monitor: { staleWarningMs: 1000, staleCriticalMs: 1001 } } })
      assert.equal(ok.monitor.staleCriticalMs, 1001)
      for (const critical of [1000, 999]) {
        const problems = problemsOf({ env: {}, overrides: { monitor: { staleWarningMs: 1000, staleCriticalMs: critical } } })
        assert.deepEqual(problems, ['monitor.staleCriticalMs must be greater than monitor.staleWarningMs'])
      }
    })

    it('mqtt.wsPath and ws.path must differ, wherever they are set', () => {
      assert.deepEqual(problemsOf({ env: {}, overrides: { mqtt: { wsPath: '/ws' } } }), ['mqtt.wsPath and ws.path must differ'])
      assert.deepEqual(problemsOf({ env: { COLONY_WS_PATH: '/mqtt' } }), ['mqtt.wsPath and ws.path must differ'])
      assert.equal(loadConfig({ env: { COLONY_WS_PATH: '/stream' } }).ws.path, '/stream')
    })
  })

  it('the result is deep-frozen', () => {
    const config = loadConfig({ env: {} })
    assert.ok(Object.isFrozen(config))
    for (const section of Object.values(config)) assert.ok(Object.isFrozen(section))
    assert.throws(() => { (config.http as { port: number }).port = 1 }, TypeError)
    assert.throws(() => { (config as unknown as Record<string, unknown>).extra = {} }, TypeError)
    assert.equal(config.http.port, 8080)
  })

  describe('isLoopback', () => {
    for (const address of ['localhost', '127.0.0.1', '127.1.2.3', '127.255.255.254', '::1', '::ffff:127.0.0.1']) {
      it(`${address} is loopback`, () => { assert.equal(isLoopback(address), true) })
    }
    for (const address of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'example.com', '127.0.0.1.nip.io', '']) {
      it(`${address || '(empty)'} is not loopback`, () => { assert.equal(isLoopback(address), false) })
    }
    it('recognises ::1 written out in full', () => {
      assert.equal(isLoopback('0:0:0:0:0:0:0:1'), true)
    })
  })
})
