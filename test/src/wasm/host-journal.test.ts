/**
 * The host-call journal on real instances (a component in its worker thread): record the non-deterministic host
 * calls of a call, replay them into a fresh instance, detect divergence, batch replay.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finishCall, prepareCall } from '../../../src/components/invoke.js'
import { ColonyError } from '../../../src/errors.js'
import { createLogger } from '../../../src/log.js'
import { ComponentCompiler, type Compiled } from '../../../src/wasm/compiler.js'
import type { HostCallRecord } from '../../../src/wasm/host-journal.js'
import { inspectComponent } from '../../../src/wasm/inspect.js'
import { WasmInstance, type InstanceOptions } from '../../../src/wasm/instance.js'
import { canonicalJson, fromJsonSafe, toJsonSafe } from '../../../src/wasm/journal-codec.js'
import type { CallOutcome } from '../../../src/wasm/worker.js'
import { fixture, type Fixture } from '../../helpers/components.js'

const CLOCKRAND = 'colony:clockrand/api'
const MEMCOUNTER = 'colony:memcounter/api'
const COUNTER = 'colony:counter/api'
const KEYVALUE = 'wasi:keyvalue/store@0.2.0-draft'
const TIMEOUT = 10_000

interface Sample { wallSeconds: bigint, wallNanoseconds: number, monotonic: bigint, random: bigint }

/** A keyvalue provider in a Map, answering the host calls the keyvalue adapter makes; `calls` counts them. */
function keyvalueProvider (fail?: string) {
  const data = new Map<string, Uint8Array>()
  const provider = {
    data,
    calls: 0,
    hostCall: (r: { method: string, args: unknown[] }): unknown => {
      provider.calls++
      if (fail !== undefined) throw new Error(fail)
      const key = `${String(r.args[0])}/${String(r.args[1])}`
      if (r.method === 'get') return data.get(key)
      if (r.method === 'set') data.set(key, r.args[2] as Uint8Array)
      return undefined
    },
  }
  return provider
}

function value (outcome: CallOutcome): unknown {
  assert.ok(outcome.ok, `the call failed: ${'message' in outcome ? outcome.message : ''}`)
  assert.ok('value' in outcome)
  return outcome.value
}

/** What a store would keep: the records after a trip through JSON text. */
function stored (records: HostCallRecord[] | undefined): HostCallRecord[] {
  assert.ok(records !== undefined, 'the call recorded its host calls')
  return JSON.parse(JSON.stringify(records)) as HostCallRecord[]
}

function diverged (outcome: CallOutcome): Extract<CallOutcome, { kind: 'diverged' }> {
  assert.equal(outcome.ok, false)
  assert.equal((outcome as { kind: string }).kind, 'diverged', `expected a divergence, got ${JSON.stringify(outcome, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v)}`)
  return outcome as Extract<CallOutcome, { kind: 'diverged' }>
}

describe('wasm/host-journal', function () {
  let dir: string
  let compiler: ComponentCompiler
  const compiled = new Map<Fixture, Promise<Compiled>>()
  const started: WasmInstance[] = []

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'colony-journal-'))
    compiler = new ComponentCompiler(dir, createLogger({ level: 'warn' }))
  })

  afterEach(async function () {
    await Promise.all(started.splice(0).map((i) => i.terminate()))
  })

  after(async function () {
    await rm(dir, { recursive: true, force: true })
  })

  async function start (name: Fixture, options: Partial<InstanceOptions> = {}): Promise<WasmInstance> {
    let c = compiled.get(name)
    if (c === undefined) {
      c = fixture(name).then((bytes) => compiler.prepare(bytes))
      compiled.set(name, c)
    }
    const instance = await WasmInstance.start(await c, {
      env: { FOO: 'bar', HOME: '/nowhere' },
      args: ['component', 'one'],
      memoryLimitBytes: 64 * 1024 * 1024,
      startTimeoutMs: 30_000,
      hostCallTimeoutMs: 5_000,
      ...options,
    })
    started.push(instance)
    return instance
  }

  describe('JSON-safe values', function () {
    it('round-trips bigints, bytes, undefined, special numbers and $-keys exactly', function () {
      const original = [
        2n ** 64n - 1n, -5n, Uint8Array.of(0, 255, 7), undefined, NaN, Infinity, -Infinity, -0, 1.5, 'text', true, null,
        { keys: ['a'], cursor: undefined, nested: { bytes: new Uint8Array(0), n: 3n } }, { $bytes: 'not bytes', $x: 1 }, [[undefined]],
      ]
      const json = JSON.parse(JSON.stringify(toJsonSafe(original))) as unknown
      const back = fromJsonSafe(json) as unknown[]
      assert.deepEqual(back.slice(0, 12), original.slice(0, 12))
      assert.ok(Object.is(back[7], -0))
      assert.deepEqual(back[12], { keys: ['a'], nested: { bytes: new Uint8Array(0), n: 3n } }, 'an undefined property is left out')
      assert.deepEqual(back[13], { $bytes: 'not bytes', $x: 1 })
      assert.deepEqual(back[14], [[undefined]])
      assert.deepEqual(toJsonSafe(Buffer.from('hi')), { $bytes: 'aGk=' })
    })

    it('refuses what cannot be recorded', function () {
      assert.throws(() => toJsonSafe(() => 1), TypeError)
      assert.throws(() => toJsonSafe(Symbol('s')), TypeError)
    })

    it('compares JSON canonically (key order does not matter, array order does)', function () {
      assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null } }), canonicalJson({ a: { c: null, d: [2, 1] }, b: 1 }))
      assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]))
    })
  })

  describe('record and replay', function () {
    it('records clocks and random in call order, JSON-safe, and a fresh instance replays the same values', async function () {
      const a = await start('clockrand')
      const first = await a.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: true })
      const sample = value(first) as Sample
      assert.equal(first.replayed, 0)
      assert.deepEqual(first.hostCalls?.map((c) => `${c.interface}.${c.function}`),
        ['wasi:clocks/wall-clock.now', 'wasi:clocks/monotonic-clock.now', 'wasi:random/random.get-random-u64'])
      assert.deepEqual(first.hostCalls?.[0], {
        interface: 'wasi:clocks/wall-clock', function: 'now', request: [],
        response: { seconds: String(sample.wallSeconds), nanoseconds: sample.wallNanoseconds },
      })
      assert.equal(first.hostCalls?.[1]?.response, String(sample.monotonic))
      assert.equal(first.hostCalls?.[2]?.response, String(sample.random))

      const b = await start('clockrand')
      const replay = await b.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: true, replay: stored(first.hostCalls) })
      assert.deepEqual(value(replay), sample)
      assert.equal(replay.replayed, 3)
      assert.deepEqual(replay.hostCalls, [], 'replayed calls are not recorded again')
      assert.notDeepEqual(value(await b.call([CLOCKRAND, 'sample'], [], TIMEOUT)), sample, 'live again after the replay')
    })

    it('replays random bytes, insecure random and the environment (whatever the new instance\'s env is)', async function () {
      const a = await start('clockrand')
      const bytes = await a.call([CLOCKRAND, 'randomBytes'], [32], TIMEOUT, false, { record: true })
      const insecure = await a.call([CLOCKRAND, 'insecure'], [], TIMEOUT, false, { record: true })
      const env = await a.call([CLOCKRAND, 'envVar'], ['FOO'], TIMEOUT, false, { record: true })
      const args = await a.call([CLOCKRAND, 'argCount'], [], TIMEOUT, false, { record: true })
      assert.deepEqual(bytes.hostCalls?.[0], {
        interface: 'wasi:random/random', function: 'get-random-bytes', request: ['32'],
        response: Buffer.from(value(bytes) as Uint8Array).toString('base64'),
      })
      assert.deepEqual(insecure.hostCalls?.map((c) => c.function), ['get-insecure-random-u64', 'insecure-seed'])
      assert.deepEqual(env.hostCalls?.[0]?.response, [['FOO', 'bar'], ['HOME', '/nowhere']])
      assert.deepEqual(args.hostCalls?.[0]?.response, ['component', 'one'])

      const b = await start('clockrand', { env: { FOO: 'changed' }, args: ['x'] })
      assert.equal(value(await b.call([CLOCKRAND, 'envVar'], ['FOO'], TIMEOUT)), 'changed')
      const again = async (path: string[], args2: unknown[], recorded: CallOutcome): Promise<unknown> =>
        value(await b.call(path, args2, TIMEOUT, false, { record: false, replay: stored(recorded.hostCalls) }))
      assert.deepEqual(await again([CLOCKRAND, 'randomBytes'], [32], bytes), value(bytes))
      assert.deepEqual(await again([CLOCKRAND, 'insecure'], [], insecure), value(insecure))
      assert.equal(await again([CLOCKRAND, 'envVar'], ['FOO'], env), 'bar')
      assert.equal(await again([CLOCKRAND, 'argCount'], [], args), 2)
    })

    it('continues live, and records, when the replay records run out mid-call', async function () {
      const a = await start('clockrand')
      const first = await a.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: true })
      const recorded = stored(first.hostCalls).slice(0, 2)
      const b = await start('clockrand')
      const resumed = await b.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: true, replay: recorded })
      const original = value(first) as Sample
      const now = value(resumed) as Sample
      assert.equal(now.wallSeconds, original.wallSeconds)
      assert.equal(now.monotonic, original.monotonic)
      assert.notEqual(now.random, original.random, 'the random number was drawn live')
      assert.equal(resumed.replayed, 2)
      assert.deepEqual(resumed.hostCalls, [{ interface: 'wasi:random/random', function: 'get-random-u64', request: [], response: String(now.random) }])
    })

    it('without record, a journaled call returns no host calls but still counts what it replayed', async function () {
      const a = await start('clockrand')
      const outcome = await a.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: false })
      assert.equal(outcome.hostCalls, undefined)
      assert.equal(outcome.replayed, 0)
    })

    it('without a journal, outcomes are as before: no hostCalls, no replayed, host calls live', async function () {
      const a = await start('clockrand')
      const outcome = await a.call([CLOCKRAND, 'sample'], [], TIMEOUT)
      assert.deepEqual(Object.keys(outcome).sort(), ['memoryBytes', 'ok', 'stderr', 'stdout', 'value'])
      const kv = keyvalueProvider()
      const c = await start('counter', { linked: [KEYVALUE], hostCall: kv.hostCall })
      const inc = await c.call([COUNTER, 'increment'], [], TIMEOUT)
      assert.equal(value(inc), 1)
      assert.deepEqual(Object.keys(inc).sort(), ['memoryBytes', 'ok', 'stderr', 'stdout', 'value'])
      assert.equal(kv.calls, 3)
    })
  })

  describe('divergence', function () {
    async function recordedSample (): Promise<HostCallRecord[]> {
      const a = await start('clockrand')
      return stored((await a.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: true })).hostCalls)
    }

    it('a different request: the call ends diverged and the instance is replaced', async function () {
      const a = await start('clockrand')
      const recorded = stored((await a.call([CLOCKRAND, 'randomBytes'], [5], TIMEOUT, false, { record: true })).hostCalls)
      const b = await start('clockrand')
      const outcome = diverged(await b.call([CLOCKRAND, 'randomBytes'], [6], TIMEOUT, false, { record: true, replay: recorded }))
      assert.equal(outcome.divergence.index, 0)
      assert.deepEqual(outcome.divergence.expected, recorded[0])
      assert.deepEqual(outcome.divergence.actual, { interface: 'wasi:random/random', function: 'get-random-bytes', request: ['6'] })
      assert.match(outcome.message, /^replay diverged: host call 0 is wasi:random\/random\.get-random-bytes\(\["6"\]\) but the recording has .*\["5"\]/)
      assert.equal(b.alive, false)
      await assert.rejects(b.call([CLOCKRAND, 'sample'], [], TIMEOUT), (err: unknown) => err instanceof ColonyError && err.code === 'invoke_failed')
    })

    it('a different function or interface', async function () {
      const recorded = await recordedSample()
      const b = await start('clockrand')
      const outcome = diverged(await b.call([CLOCKRAND, 'insecure'], [], TIMEOUT, false, { record: true, replay: recorded }))
      assert.deepEqual(outcome.divergence.actual, { interface: 'wasi:random/insecure', function: 'get-insecure-random-u64', request: [] })
      assert.equal(outcome.divergence.expected?.interface, 'wasi:clocks/wall-clock')
      const c = await start('clockrand')
      const swapped = recorded.map((r, i) => i === 1 ? { ...r, function: 'resolution' } : r)
      assert.equal(diverged(await c.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: false, replay: swapped })).divergence.index, 1)
    })

    it('fewer host calls than recorded', async function () {
      const recorded = await recordedSample()
      const b = await start('clockrand')
      const extra: HostCallRecord = { interface: 'wasi:random/random', function: 'get-random-u64', request: [], response: '7' }
      const outcome = diverged(await b.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: true, replay: [...recorded, extra] }))
      assert.equal(outcome.divergence.index, 3)
      assert.deepEqual(outcome.divergence.expected, extra)
      assert.equal(outcome.divergence.actual, undefined)
      assert.match(outcome.message, /fewer host calls than recorded: 3 of 4/)
      assert.equal(b.alive, false)
    })

    it('finishCall reports it as replay_diverged (500) with the divergence in details', async function () {
      const recorded = await recordedSample()
      const bytes = await fixture('clockrand')
      const call = prepareCall(await inspectComponent(bytes), 'insecure', [])
      const b = await start('clockrand')
      const outcome = await b.call(call.path, call.args, TIMEOUT, call.returnsResult, { record: false, replay: recorded })
      assert.throws(() => finishCall(call, outcome), (err: unknown) => {
        assert.ok(err instanceof ColonyError)
        assert.equal(err.code, 'replay_diverged')
        assert.equal(err.status, 500)
        assert.equal((err.details as { divergence: { index: number } }).divergence.index, 0)
        return true
      })
    })

    it('a corrupt recorded response traps the call instead of handing the guest garbage', async function () {
      const recorded = await recordedSample()
      const b = await start('clockrand')
      const corrupt = recorded.map((r, i) => i === 1 ? { ...r, response: 'not a number' } : r)
      const outcome = await b.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: false, replay: corrupt })
      assert.equal(outcome.ok, false)
      assert.equal((outcome as { kind: string }).kind, 'trap')
      assert.equal(b.alive, false)
    })
  })

  describe('linked providers', function () {
    it('records keyvalue calls with their values, and a replay never reaches the provider', async function () {
      const kv = keyvalueProvider()
      const a = await start('counter', { linked: [KEYVALUE], hostCall: kv.hostCall })
      const first = await a.call([COUNTER, 'increment'], [], TIMEOUT, false, { record: true })
      const second = await a.call([COUNTER, 'increment'], [], TIMEOUT, false, { record: true })
      assert.equal(value(second), 2)
      assert.deepEqual(stored(first.hostCalls), [
        { interface: 'wasi:keyvalue/store', function: 'open', request: ['counter'], response: { ok: { $undefined: true } } },
        { interface: 'wasi:keyvalue/store', function: 'get', request: ['counter', 'count'], response: { ok: { $undefined: true } } },
        { interface: 'wasi:keyvalue/store', function: 'set', request: ['counter', 'count', { $bytes: Buffer.from('1').toString('base64') }], response: { ok: { $undefined: true } } },
      ])
      assert.deepEqual(stored(second.hostCalls)[1]?.response, { ok: { $bytes: Buffer.from('1').toString('base64') } })

      const untouched = keyvalueProvider('the provider must not be called during a replay')
      const b = await start('counter', { linked: [KEYVALUE], hostCall: untouched.hostCall })
      const outcomes = [
        await b.call([COUNTER, 'increment'], [], TIMEOUT, false, { record: true, replay: stored(first.hostCalls) }),
        await b.call([COUNTER, 'increment'], [], TIMEOUT, false, { record: true, replay: stored(second.hostCalls) }),
      ]
      assert.deepEqual(outcomes.map(value), [1, 2])
      assert.equal(untouched.calls, 0)
    })

    it('records a provider failure and replays it as the same failure', async function () {
      const kv = keyvalueProvider('backend down')
      const a = await start('counter', { linked: [KEYVALUE], hostCall: kv.hostCall })
      const first = await a.call([COUNTER, 'get'], [], TIMEOUT, false, { record: true })
      assert.equal(first.ok, false, 'counter traps on a keyvalue error')
      assert.deepEqual(first.hostCalls, [{ interface: 'wasi:keyvalue/store', function: 'open', request: ['counter'], response: { err: 'backend down' } }])
      const untouched = keyvalueProvider('not called')
      const b = await start('counter', { linked: [KEYVALUE], hostCall: untouched.hostCall })
      const again = await b.call([COUNTER, 'get'], [], TIMEOUT, false, { record: true, replay: stored(first.hostCalls) })
      assert.equal(again.ok, false)
      assert.equal(again.replayed, 1)
      assert.equal(untouched.calls, 0)
    })

    it('a provider call that diverges stops the guest (the adapter does not turn it into an error value)', async function () {
      const kv = keyvalueProvider()
      const a = await start('counter', { linked: [KEYVALUE], hostCall: kv.hostCall })
      const recorded = stored((await a.call([COUNTER, 'increment'], [], TIMEOUT, false, { record: true })).hostCalls)
      const b = await start('counter', { linked: [KEYVALUE], hostCall: kv.hostCall })
      const wrongKey = recorded.map((r, i) => i === 1 ? { ...r, request: ['counter', 'other'] } : r)
      const outcome = diverged(await b.call([COUNTER, 'increment'], [], TIMEOUT, false, { record: false, replay: wrongKey }))
      assert.equal(outcome.divergence.index, 1)
      assert.deepEqual(outcome.divergence.actual, { interface: 'wasi:keyvalue/store', function: 'get', request: ['counter', 'count'] })
    })
  })

  describe('replayBatch', function () {
    it('replays many calls in one message, with the original results and output', async function () {
      const a = await start('memcounter')
      const calls: Array<{ path: string[], args: unknown[], returnsResult: boolean, hostCalls: HostCallRecord[] }> = []
      const results: unknown[] = []
      for (let i = 0; i < 50; i++) {
        const path = [MEMCOUNTER, i % 5 === 0 ? 'add' : 'increment']
        const args = i % 5 === 0 ? [BigInt(i)] : []
        const outcome = await a.call(path, args, TIMEOUT, false, { record: true })
        results.push(value(outcome))
        calls.push({ path, args, returnsResult: false, hostCalls: stored(outcome.hostCalls) })
      }
      const b = await start('memcounter')
      const logged: string[] = []
      b.on('log', (_stream, text) => logged.push(text))
      const outcomes = await b.replayBatch(calls, TIMEOUT)
      assert.deepEqual(outcomes.map(value), results)
      assert.equal(outcomes[1]?.stdout, `count=${String(results[1])}\n`)
      assert.deepEqual(logged, [], 'replayed output is not streamed again')
      assert.equal(value(await b.call([MEMCOUNTER, 'get'], [], TIMEOUT)), results.at(-1), 'the state is back')
      assert.equal(value(await b.call([MEMCOUNTER, 'increment'], [], TIMEOUT)), (results.at(-1) as bigint) + 1n)
      assert.deepEqual(logged, [`count=${String((results.at(-1) as bigint) + 1n)}\n`], 'live output is streamed as before')
    })

    it('feeds each call exactly its own host calls', async function () {
      const a = await start('clockrand')
      const recorded = []
      for (const [fn, args] of [['sample', []], ['randomBytes', [3]], ['envVar', ['FOO']], ['sample', []]] as Array<[string, unknown[]]>) {
        const outcome = await a.call([CLOCKRAND, fn], args, TIMEOUT, false, { record: true })
        recorded.push({ path: [CLOCKRAND, fn], args, returnsResult: false, hostCalls: stored(outcome.hostCalls), value: value(outcome) })
      }
      const b = await start('clockrand', { env: {} })
      const outcomes = await b.replayBatch(recorded, TIMEOUT)
      assert.deepEqual(outcomes.map(value), recorded.map((r) => r.value))
      assert.deepEqual(outcomes.map((o) => o.replayed), [3, 1, 1, 3])
      assert.ok(outcomes.every((o) => o.hostCalls === undefined))
    })

    it('stops at the first call that diverges: more host calls than recorded, or fewer', async function () {
      const a = await start('clockrand')
      const sample = stored((await a.call([CLOCKRAND, 'sample'], [], TIMEOUT, false, { record: true })).hostCalls)
      const ok = { path: [CLOCKRAND, 'sample'], args: [], returnsResult: false, hostCalls: sample }
      const tooMany = { ...ok, hostCalls: sample.slice(0, 2) }
      const b = await start('clockrand')
      const outcomes = await b.replayBatch([ok, tooMany, ok], TIMEOUT)
      assert.equal(outcomes.length, 2)
      assert.ok(outcomes[0]?.ok)
      const d = diverged(outcomes[1] as CallOutcome)
      assert.deepEqual(d.divergence, { index: 2, actual: { interface: 'wasi:random/random', function: 'get-random-u64', request: [] } })
      assert.match(d.message, /more host calls than recorded/)
      assert.equal(b.alive, false)

      const c = await start('clockrand')
      const tooFew = { ...ok, hostCalls: [...sample, sample[0] as HostCallRecord] }
      const fewer = await c.replayBatch([tooFew, ok], TIMEOUT)
      assert.equal(fewer.length, 1)
      assert.match(diverged(fewer[0] as CallOutcome).message, /fewer host calls than recorded: 3 of 4/)
    })

    it('stops at a trap or a missing export, and an empty batch is empty', async function () {
      const b = await start('memcounter')
      const inc = { path: [MEMCOUNTER, 'increment'], args: [], returnsResult: false, hostCalls: [] }
      assert.deepEqual(await b.replayBatch([], TIMEOUT), [])
      const outcomes = await b.replayBatch([inc, { ...inc, path: [MEMCOUNTER, 'nope'] }, inc], TIMEOUT)
      assert.equal(outcomes.length, 2)
      assert.equal((outcomes[1] as { kind: string }).kind, 'missing')
      assert.equal(b.alive, true, 'a missing export leaves the instance usable')
      assert.equal(value(await b.call([MEMCOUNTER, 'get'], [], TIMEOUT)), 1n)
    })

    it('a batch over its timeout stops the instance with invoke_timeout', async function () {
      const b = await start('memcounter')
      const inc = { path: [MEMCOUNTER, 'increment'], args: [], returnsResult: false, hostCalls: [] }
      await assert.rejects(b.replayBatch(new Array(300_000).fill(inc), 1), (err: unknown) => err instanceof ColonyError && err.code === 'invoke_timeout')
      assert.equal(b.alive, false)
    })
  })
})
