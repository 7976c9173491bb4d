import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation'
import { ComponentCompiler, type Compiled } from '../../../src/wasm/compiler.js'
import { inspectComponent } from '../../../src/wasm/inspect.js'
import { WasmInstance, type InstanceOptions } from '../../../src/wasm/instance.js'
import { finishCall, prepareCall } from '../../../src/components/invoke.js'
import { InstancePool } from '../../../src/wasm/pool.js'
import { adapterFor } from '../../../src/wasm/adapters.js'
import '../../../src/wasm/adapters/keyvalue.js'
import type { ComponentMetadata } from '../../../src/wasm/types.js'
import { createLogger } from '../../../src/log.js'
import { ready, serve } from '../lib/child.js'
import { ownCpu, sequential, sequentialSync, summarize, type LatencyStats } from '../lib/latency.js'
import { fixturePath } from '../lib/wasm-fixtures.js'

/**
 * The engine without the runtime around it: a fixture compiled by Colony's ComponentCompiler (patched glue, cores
 * compiled once), then called either directly on this thread (the floor: jco's glue and the guest, nothing else)
 * or through a WasmInstance / InstancePool (a worker thread round trip, what a component actor does).
 */
export interface CallArgs { fixture: string, fn: string, params: unknown[], warmup: number, samples: number }
export interface EngineCallArgs extends CallArgs { via: 'instance' | 'pool' }
export interface InstantiateArgs { fixture: string, count: number }
/** Per instantiation of an already compiled component (µs, like every latency here). */
export interface InstantiateResult { worker: LatencyStats, inThread: LatencyStats }

interface Loaded { compiled: Compiled, metadata: ComponentMetadata }
type Glue = {
  instantiate(get: (name: string) => WebAssembly.Module, imports: Record<string, unknown>): Promise<Record<string, unknown>>
}

const cacheDir = mkdtempSync(join(tmpdir(), 'colony-bench-wasm-'))
process.on('exit', () => rmSync(cacheDir, { recursive: true, force: true }))
const compiler = new ComponentCompiler(cacheDir, createLogger({ level: 'warn' }))
const loaded = new Map<string, Promise<Loaded>>()
const instances = new Set<WasmInstance>()
const pools = new Set<InstancePool>()

function load (fixture: string): Promise<Loaded> {
  let p = loaded.get(fixture)
  if (p === undefined) {
    const bytes = readFileSync(fixturePath(fixture))
    p = Promise.all([compiler.prepare(bytes), inspectComponent(bytes)]).then(([compiled, metadata]) => ({ compiled, metadata }))
    loaded.set(fixture, p)
  }
  return p
}

/** A keyvalue provider in a Map, answering the host calls the keyvalue adapter makes (counter needs one). */
function keyvalueHost (): (method: string, args: unknown[]) => unknown {
  const data = new Map<string, Uint8Array>()
  return (method, args) => {
    const key = `${String(args[0])}/${String(args[1])}`
    if (method === 'get') return data.get(key)
    if (method === 'set') data.set(key, args[2] as Uint8Array)
    return undefined
  }
}

function linkedOf (metadata: ComponentMetadata): string[] {
  return metadata.imports.filter((i) => i.startsWith('wasi:keyvalue/'))
}

function instanceOptions (metadata: ComponentMetadata): InstanceOptions {
  const host = keyvalueHost()
  return {
    linked: linkedOf(metadata),
    hostCall: (r) => host(r.method, r.args),
    memoryLimitBytes: 256 * 1024 * 1024,
    startTimeoutMs: 30_000,
    hostCallTimeoutMs: 10_000,
  }
}

/** Instantiates on this thread as the worker does (same glue, same shim), minus the output capture. */
async function inThread ({ compiled, metadata }: Loaded): Promise<Record<string, unknown>> {
  const glue = await import(pathToFileURL(compiled.gluePath).href) as Glue
  const imports = new WASIShim({ sandbox: { preopens: {}, env: {}, args: ['component'], enableNetwork: false } }).getImportObject() as Record<string, unknown>
  const host = keyvalueHost()
  for (const iface of linkedOf(metadata)) imports[iface.slice(0, iface.indexOf('@'))] = adapterFor(iface)?.((m, a) => host(m, a))
  return await glue.instantiate((name) => compiled.cores.get(name) as WebAssembly.Module, imports)
}

async function direct (a: CallArgs): Promise<LatencyStats> {
  const l = await load(a.fixture)
  const exports = await inThread(l)
  const call = prepareCall(l.metadata, a.fn, a.params)
  const fn = call.path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], exports) as (...args: unknown[]) => unknown
  return sequentialSync(() => fn(...call.args), a.warmup, a.samples)
}

async function engine (a: EngineCallArgs): Promise<LatencyStats> {
  const l = await load(a.fixture)
  const call = prepareCall(l.metadata, a.fn, a.params)
  if (a.via === 'instance') {
    const instance = await WasmInstance.start(l.compiled, instanceOptions(l.metadata))
    instances.add(instance)
    try {
      return await sequential(() => instance.call(call.path, call.args, 30_000, call.returnsResult), a.warmup, a.samples, ownCpu)
    } finally {
      instances.delete(instance)
      await instance.terminate()
    }
  }
  // What the component actor does per invocation: resolve and convert the JSON params, the pool, the JSON result.
  const pool = new InstancePool(l.compiled, instanceOptions(l.metadata), 1000)
  pools.add(pool)
  try {
    await pool.scaleTo(1)
    return await sequential(async () => {
      const c = prepareCall(l.metadata, a.fn, a.params)
      return finishCall(c, await pool.call(c.path, c.args, 30_000, c.returnsResult))
    }, a.warmup, a.samples, ownCpu)
  } finally {
    pools.delete(pool)
    await pool.close()
  }
}

async function instantiate (a: InstantiateArgs): Promise<InstantiateResult> {
  const l = await load(a.fixture)
  await inThread(l) // the glue module's first import is not an instantiation
  const worker: number[] = []
  const local: number[] = []
  for (let i = 0; i < a.count; i++) {
    let t = performance.now()
    const instance = await WasmInstance.start(l.compiled, instanceOptions(l.metadata))
    worker.push((performance.now() - t) * 1000)
    await instance.terminate()
    t = performance.now()
    await inThread(l)
    local.push((performance.now() - t) * 1000)
  }
  return { worker: summarize(worker), inThread: summarize(local) }
}

serve({
  prepare: async (a) => {
    const t = performance.now()
    await load((a as { fixture: string }).fixture)
    return performance.now() - t
  },
  direct: (a) => direct(a as CallArgs),
  engine: (a) => engine(a as EngineCallArgs),
  instantiate: (a) => instantiate(a as InstantiateArgs),
}, async () => {
  await Promise.all([...pools].map((p) => p.close()))
  await Promise.all([...instances].map((i) => i.terminate()))
  rmSync(cacheDir, { recursive: true, force: true })
})

ready({ pid: process.pid })
