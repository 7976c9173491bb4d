import { readFileSync } from 'node:fs'
import { ComponentsApi, MqttInvoker } from './lib/components-api.js'
import { HttpClient } from './lib/http-client.js'
import { combine, sequential, type LatencyStats } from './lib/latency.js'
import { Scope, startWorker, threadsCpuUs, type Worker } from './lib/proc.js'
import { median, pairedDiff, pairedRatio, rotate, roundsOf, type Bench, type Cell, type Table, type Verdict } from './lib/report.js'
import { FIXTURES, fixturePath, type Fixture } from './lib/wasm-fixtures.js'
import type { ColonyInfo, InvokeLoopArgs } from './workers/colony.js'
import type { HttpEchoInfo } from './workers/http-echo.js'
import type { CallArgs, EngineCallArgs, InstantiateResult } from './workers/wasm-engine.js'

/**
 * Component invocation and start-up. Latency of `add(2, 3)`, one call in flight: (a) jco's glue called on the
 * same thread (the floor), (b) the engine (worker-thread round trip), (c) REST invoke-and-await and (d) MQTT
 * request/reply against a real Colony, and a bare node:http server answering the same bytes (the REST baseline),
 * each in its own process, the order rotated per round. `invokeComponent` called inside Colony splits (c) and (d)
 * into runtime and transport, and the serving process's CPU per call separates work from waiting for a core.
 * Then, per fixture, the cold start (a fresh Colony and data dir: upload to first result) and the warm
 * instantiation of an already compiled component.
 */
const WARMUP = 300
/**
 * Before its first round each path makes this many calls untimed. Colony's request path reaches its steady speed
 * only after several thousand requests (V8 optimizes the functions of a path one request at a time): REST p50 in
 * blocks of 1 000 calls ran 907, 537, 269, 232, 212 ... 160-260 µs, the bare echo 402, 239, 130, 98 ... 84-110 µs.
 * After 300 calls both sides were still being compiled, and their ratio followed how far each had got.
 */
const STEADY_WARMUP = 10_000
const SAMPLES = 2000
const INSTANTIATIONS = 10
const ADD: CallArgs = { fixture: 'adder', fn: 'add', params: [2, 3], warmup: WARMUP, samples: SAMPLES }

type Key = 'direct' | 'instance' | 'pool' | 'runtime' | 'rest' | 'mqtt' | 'echo'
const PATHS: Record<Key, string> = {
  direct: '(a) direct call, same thread',
  instance: '(b) WasmInstance.call (worker thread)',
  pool: '(b) InstancePool + prepare/finishCall',
  runtime: 'invokeComponent in Colony (no transport)',
  rest: '(c) REST invoke-and-await',
  mqtt: '(d) MQTT agents/{id}/invoke',
  echo: 'bare node:http echo (REST baseline)',
}

/** Each path's stats round by round (a verdict pairs two paths' rounds: see `pairedRatio`). */
async function latencies (engine: Worker, rounds: number, scope: Scope, notes: string[]): Promise<Map<Key, LatencyStats[]>> {
  const colony = startWorker('colony', 'colony-wasm')
  scope.defer(() => colony.kill())
  const info = await colony.ready<ColonyInfo>()
  const api = new ComponentsApi(info.httpUrl)
  scope.defer(() => api.close())
  const id = await api.upload('adder', readFileSync(fixturePath('adder')))
  const first = await api.invoke(id, 'add', [2, 3])
  if (first.result.value[0] !== 5) throw new Error(`add(2, 3) answered ${JSON.stringify(first.result)}`)

  // The baseline answers exactly what Colony answered, after reading and parsing the same request body.
  const restBody = Buffer.from(JSON.stringify({ params: [2, 3] }))
  const json = { 'content-type': 'application/json' }
  const reference = await api.http.send('POST', api.invokeUrl(id, 'add'), restBody, json)
  const echo = startWorker('http-echo', 'http-echo')
  scope.defer(() => echo.kill())
  await echo.ready()
  const served = await echo.request<HttpEchoInfo>('serve', { bodyBase64: reference.body.toString('base64') })
  const echoClient = new HttpClient()
  scope.defer(() => echoClient.close())
  const mqttInvoker = await MqttInvoker.connect(info.mqttUrl, id)
  scope.defer(() => mqttInvoker.close())

  const post = (client: HttpClient, url: string) => async (): Promise<void> => {
    const r = await client.send('POST', url, restBody, json)
    if (r.status !== 200) throw new Error(`POST ${url} answered ${r.status}`)
  }
  // Calls made from here are timed here; the server's CPU is the run time of its threads (nanoseconds, from /proc).
  const cpuOf = (pid: number) => (): number => threadsCpuUs(pid)
  const run: Record<Key, (warmup: number) => Promise<LatencyStats>> = {
    direct: (warmup) => engine.request('direct', { ...ADD, warmup }),
    instance: (warmup) => engine.request('engine', { ...ADD, warmup, via: 'instance' } satisfies EngineCallArgs),
    pool: (warmup) => engine.request('engine', { ...ADD, warmup, via: 'pool' } satisfies EngineCallArgs),
    runtime: (warmup) => colony.request('invokeLoop', { componentId: id, fn: ADD.fn, params: ADD.params, warmup, samples: SAMPLES } satisfies InvokeLoopArgs),
    rest: (warmup) => sequential(post(api.http, api.invokeUrl(id, 'add')), warmup, SAMPLES, cpuOf(info.pid)),
    mqtt: (warmup) => sequential(() => mqttInvoker.invoke('add', [2, 3]), warmup, SAMPLES, cpuOf(info.pid)),
    echo: (warmup) => sequential(post(echoClient, `http://127.0.0.1:${served.port}/`), warmup, SAMPLES, cpuOf(served.pid)),
  }
  const keys = Object.keys(PATHS) as Key[]
  const runs = new Map<Key, LatencyStats[]>()
  for (let round = 0; round < rounds; round++) {
    for (const k of rotate(keys, round)) {
      process.stderr.write(`[bench] wasm: round ${round + 1}/${rounds}, ${PATHS[k]}\n`)
      runs.set(k, [...(runs.get(k) ?? []), await run[k](round === 0 ? STEADY_WARMUP : WARMUP)])
    }
  }
  await mqttInvoker.close()
  if (!await echo.close()) notes.push('the echo server did not exit by itself')
  if (!await colony.close()) notes.push('the Colony runtime did not exit by itself after close()')
  return new Map(keys.map((k) => [k, runs.get(k) ?? []]))
}

interface ColdRun { uploadMs: number, linkMs: number, invokeMs: number, totalMs: number }

/** A fresh Colony (fresh data dir: no transpile cache) per measurement, so each upload is the first of its process. */
async function coldStart (fixture: Fixture, bytes: Uint8Array, scope: Scope, notes: string[]): Promise<ColdRun> {
  const colony = startWorker('colony', `colony-cold-${fixture.name}`)
  scope.defer(() => colony.kill())
  const api = new ComponentsApi((await colony.ready<ColonyInfo>()).httpUrl)
  scope.defer(() => api.close())
  const t0 = performance.now()
  const id = await api.upload(fixture.name, bytes)
  const t1 = performance.now()
  if (fixture.keyvalue === true) await api.linkKeyvalue(id)
  const t2 = performance.now()
  const reply = await api.invoke(id, fixture.fn, fixture.params)
  const t3 = performance.now()
  if (reply.result.value[0] !== fixture.expected) throw new Error(`${fixture.name}: ${fixture.fn} answered ${JSON.stringify(reply.result.value)}`)
  api.close()
  if (!await colony.close()) notes.push(`the Colony runtime of the ${fixture.name} cold start did not exit by itself`)
  return { uploadMs: t1 - t0, linkMs: t2 - t1, invokeMs: t3 - t2, totalMs: t3 - t0 }
}

async function starts (engine: Worker, rounds: number, scope: Scope, notes: string[]): Promise<Table> {
  const rows: Cell[][] = []
  for (const fixture of FIXTURES) {
    const bytes = readFileSync(fixturePath(fixture.name))
    const cold: ColdRun[] = []
    const warm: InstantiateResult[] = []
    for (let round = 0; round < rounds; round++) {
      process.stderr.write(`[bench] wasm: round ${round + 1}/${rounds}, ${fixture.name} cold start and instantiation\n`)
      cold.push(await coldStart(fixture, bytes, scope, notes))
      warm.push(await engine.request<InstantiateResult>('instantiate', { fixture: fixture.name, count: INSTANTIATIONS }))
    }
    const m = (f: (r: ColdRun) => number): number => median(cold.map(f))
    rows.push([`${fixture.name} (${fixture.fn})`, bytes.length, m((r) => r.totalMs), m((r) => r.uploadMs),
      fixture.keyvalue === true ? m((r) => r.linkMs) : '-', m((r) => r.invokeMs),
      median(warm.map((w) => w.worker.p50Us)) / 1000, median(warm.map((w) => w.worker.p99Us)) / 1000,
      median(warm.map((w) => w.inThread.p50Us)) / 1000, cold.map((r) => Math.round(r.totalMs)).join('/')])
  }
  return {
    title: `Start-up per fixture, ms (median of ${rounds}; warm: ${INSTANTIATIONS} instantiations per round)`,
    columns: ['fixture (first call)', 'bytes', 'cold start', 'upload', 'link', 'first invoke', 'warm WasmInstance p50', 'p99', 'in-thread p50', 'cold runs'],
    rows,
    note: 'cold start = multipart upload (inspect, transpile, compile cores) + link (counter) + first invoke-and-await ' +
      '(actor, worker thread, instantiate, call), on a fresh Colony and data dir; warm = WasmInstance.start of a compiled ' +
      'component (worker thread + instantiate); in-thread = the glue\'s instantiate() on the calling thread',
  }
}

export const wasmBench: Bench = {
  name: 'wasm',
  description: 'component add() latency: direct, engine, REST, MQTT vs bare HTTP; cold and warm start per fixture',
  async run (options) {
    const scope = new Scope()
    const notes: string[] = []
    try {
      const engine = startWorker('wasm-engine', 'wasm-engine')
      scope.defer(() => engine.kill())
      await engine.ready()
      const lat = await latencies(engine, options.rounds, scope, notes)
      const startTable = await starts(engine, options.rounds, scope, notes)
      if (!await engine.close()) notes.push('the engine worker did not exit by itself')

      const get = (k: Key): LatencyStats => combine(lat.get(k) ?? [])
      const each = (k: Key, f: (s: LatencyStats) => number): number[] => roundsOf(lat, k, f)
      const p50 = (s: LatencyStats): number => s.p50Us
      const cpu = (s: LatencyStats): number => s.cpuUsPerCall
      const rows: Cell[][] = (Object.keys(PATHS) as Key[]).map((k) => [PATHS[k], get(k).p50Us, get(k).p99Us, get(k).meanUs, get(k).cpuUsPerCall, get(k).n])
      const overhead = pairedDiff(each('pool', p50), each('direct', p50))
      const verdicts: Verdict[] = [{
        name: 'engine overhead over the direct call, p50',
        ratio: overhead,
        targetMax: 200,
        unit: 'µs',
        detail: `InstancePool ${get('pool').p50Us.toFixed(1)} µs vs direct ${get('direct').p50Us.toFixed(1)} µs ` +
          `(bare WasmInstance.call ${get('instance').p50Us.toFixed(1)} µs)`,
      }, {
        name: 'REST invoke-and-await / bare node:http echo, p50',
        ratio: pairedRatio(each('rest', p50), each('echo', p50)),
        targetMax: 1.5,
        detail: `${get('rest').p50Us.toFixed(0)} vs ${get('echo').p50Us.toFixed(0)} µs; p99 ${get('rest').p99Us.toFixed(0)} vs ${get('echo').p99Us.toFixed(0)} µs`,
      }, {
        name: 'REST invoke-and-await / bare node:http echo, server CPU per call',
        ratio: pairedRatio(each('rest', cpu), each('echo', cpu)),
        detail: `${get('rest').cpuUsPerCall.toFixed(0)} vs ${get('echo').cpuUsPerCall.toFixed(0)} µs of server CPU per call`,
      }, {
        name: 'MQTT invoke / REST invoke-and-await, p50',
        ratio: pairedRatio(each('mqtt', p50), each('rest', p50)),
        detail: `${get('mqtt').p50Us.toFixed(0)} vs ${get('rest').p50Us.toFixed(0)} µs`,
      }]
      return {
        tables: [{
          title: `add(2, 3), one call in flight, µs (${STEADY_WARMUP} warm-up calls before the first round, ${WARMUP} before the others, ${SAMPLES} calls per round, median of ${options.rounds} rounds)`,
          columns: ['path', 'p50 µs', 'p99 µs', 'mean µs', 'CPU µs/call', 'calls'],
          rows,
          note: 'CPU µs/call: the serving process, all threads (for (a), (b) and invokeComponent it also runs the timing loop)',
        }, startTable],
        verdicts,
        notes,
      }
    } finally {
      await scope.close()
    }
  },
}
