/**
 * The worker thread that hosts one component instance. It runs off the main thread so that a call running too
 * long can be stopped (the main thread terminates the worker) without taking the runtime down. Messages:
 *   parent -> worker: { type: 'call', id, path: [exportKey, jsName] | [jsName], args, returnsResult, journal? }
 *                     | { type: 'batch', id, calls: ReplayCall[] } (replay many recorded calls in one message)
 *   worker -> parent: { type: 'ready' } | { type: 'failed', message } | { type: 'result', id, outcome }
 *                     | { type: 'log', stream, text } | { type: 'rpc' } (a host call waits in the shared buffer)
 */
import { parentPort, workerData } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation'
import { streams } from '@bytecodealliance/preview2-shim/io'
import { monotonicClock } from '@bytecodealliance/preview2-shim/clocks'
import { callHost } from './rpc.js'
import { adapterFor } from './adapters.js'
import { JournalRun, type CallJournal, type Divergence, type HostCallRecord } from './host-journal.js'
import { fromJsonSafe, toJsonSafe } from './journal-codec.js'
import { journalWasi } from './journal-wasi.js'
// Each registers the guest-side import object of an interface a provider can serve.
import './adapters/keyvalue.js'
import './adapters/logging.js'
import './adapters/messaging.js'

export interface WorkerInit {
  gluePath: string
  cores: Record<string, WebAssembly.Module>
  env: Record<string, string>
  args: string[]
  /** Guest path -> host directory; empty: no filesystem at all. */
  preopens: Record<string, string>
  /** Interfaces served by linked providers through synchronous host calls. */
  linked: string[]
  rpcBuffer: SharedArrayBuffer
  hostCallTimeoutMs: number
}

/** Set on the outcome of a journaled call only. */
export interface JournalOutcome {
  /** The host calls executed live during the call, in order (when the journal records); replayed ones are not here. */
  hostCalls?: HostCallRecord[]
  /** How many of the journal's replay records the call consumed. */
  replayed?: number
}

export type CallOutcome = JournalOutcome & (
  | { ok: true, value: unknown, stdout: string, stderr: string, memoryBytes: number }
  /** A `result<_, E>` function that returned its error: `err` is the E payload (jco throws it). */
  | { ok: true, err: unknown, stdout: string, stderr: string, memoryBytes: number }
  | { ok: false, kind: 'trap' | 'exit' | 'missing', message: string, stdout: string, stderr: string, memoryBytes: number }
  /** A replay left its recording; the guest was stopped by a throwing import and the instance is unusable. */
  | { ok: false, kind: 'diverged', message: string, divergence: Divergence, stdout: string, stderr: string, memoryBytes: number }
)

/** One recorded call of a batch replay: it must make exactly the host calls recorded for it. */
export interface ReplayCall { path: string[], args: unknown[], returnsResult: boolean, hostCalls: HostCallRecord[] }

type ProviderResult = { ok: unknown } | { err: string }

const init = workerData as WorkerInit
const port = parentPort
if (port === null) throw new Error('the component worker must run in a worker thread')

class GuestExit extends Error {
  constructor (readonly code: number) {
    super(`the component called exit(${code})`)
  }
}

/** Per-call capture of what the guest writes, also streamed to the parent line by line for `agents/{id}/logs`. */
const captured = { stdout: [] as Buffer[], stderr: [] as Buffer[] }
/** Off during a batch replay: that output was streamed when the calls first ran (it stays in each outcome). */
let streamOutput = true

class CaptureStream extends (streams.OutputStream as unknown as new () => object) {
  constructor (private readonly which: 'stdout' | 'stderr') {
    super()
  }

  checkWrite (): bigint { return 1n << 20n }
  write (bytes: Uint8Array): void { this.push(bytes) }
  blockingWriteAndFlush (bytes: Uint8Array): void { this.push(bytes) }
  flush (): void {}
  blockingFlush (): void {}
  writeZeroes (n: bigint): void { this.push(new Uint8Array(Number(n))) }
  blockingWriteZeroesAndFlush (n: bigint): void { this.push(new Uint8Array(Number(n))) }
  subscribe (): unknown { return (monotonicClock as { subscribeDuration(ns: bigint): unknown }).subscribeDuration(0n) }

  private push (bytes: Uint8Array): void {
    const chunk = Buffer.from(bytes)
    captured[this.which].push(chunk)
    if (streamOutput) port?.postMessage({ type: 'log', stream: this.which, text: chunk.toString('utf8') })
  }
}

/** The journal of the call running now; undefined outside journaled calls (the stateless pool never sets it). */
let journal: JournalRun | undefined
const currentJournal = (): JournalRun | undefined => journal

function importObject (): Record<string, unknown> {
  const shim = new WASIShim({ sandbox: { preopens: init.preopens, env: init.env, args: init.args, enableNetwork: false } })
  const imports = shim.getImportObject() as Record<string, unknown>
  const stdout = new CaptureStream('stdout')
  const stderr = new CaptureStream('stderr')
  imports['wasi:cli/stdout'] = { getStdout: () => stdout }
  imports['wasi:cli/stderr'] = { getStderr: () => stderr }
  // The shim's default calls process.exit(): here an exit ends the call, never the runtime.
  imports['wasi:cli/exit'] = {
    exit (status: { tag: string }) { throw new GuestExit(status.tag === 'err' ? 1 : 0) },
    exitWithCode (code: number) { throw new GuestExit(code) },
  }
  const wake = (): void => port?.postMessage({ type: 'rpc' })
  const live = (iface: string, method: string, args: unknown[]): unknown =>
    callHost(init.rpcBuffer, wake, { iface, method, args }, init.hostCallTimeoutMs)
  // Every linked-provider call passes here: the one place they are journaled, failures included (a replayed
  // failure fails again, with the recorded message).
  const host = (iface: string, method: string, args: unknown[]): unknown => {
    const run = journal
    if (run === undefined) return live(iface, method, args)
    const result = run.call<ProviderResult>(unversioned(iface), method, toJsonSafe(args), () => {
      try {
        return { ok: live(iface, method, args) }
      } catch (err) {
        return { err: (err as Error)?.message ?? String(err) }
      }
    }, encodeProviderResult, decodeProviderResult)
    if ('err' in result) throw new Error(result.err)
    return result.ok
  }
  for (const iface of init.linked) {
    const adapter = adapterFor(iface)
    if (adapter !== undefined) imports[unversioned(iface)] = adapter((method, args) => host(iface, method, args))
  }
  journalWasi(imports, currentJournal)
  return imports
}

function encodeProviderResult (result: ProviderResult): unknown {
  return 'err' in result ? { err: result.err } : { ok: toJsonSafe(result.ok) }
}

function decodeProviderResult (json: unknown): ProviderResult {
  const recorded = json as { ok?: unknown, err?: string }
  return typeof recorded.err === 'string' ? { err: recorded.err } : { ok: fromJsonSafe(recorded.ok) }
}

function unversioned (iface: string): string {
  const at = iface.indexOf('@')
  return at === -1 ? iface : iface.slice(0, at)
}

/** Linear memories of every core instance, read after each call to enforce the memory budget. */
const memories: WebAssembly.Memory[] = []

async function start (): Promise<Record<string, unknown>> {
  const glue = await import(pathToFileURL(init.gluePath).href) as {
    instantiate(get: (name: string) => WebAssembly.Module, imports: Record<string, unknown>,
      instantiateCore?: (m: WebAssembly.Module, i: Record<string, Record<string, unknown>>) => Promise<WebAssembly.Instance>): Promise<Record<string, unknown>>
  }
  return await glue.instantiate((name) => {
    const core = init.cores[name]
    if (core === undefined) throw new Error(`missing core module ${name}`)
    return core
  }, importObject(), async (module, imports) => {
    const instance = await WebAssembly.instantiate(module, imports)
    for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.push(value)
    return instance
  })
}

function memoryBytes (): number {
  return memories.reduce((sum, m) => sum + m.buffer.byteLength, 0)
}

function drain (): { stdout: string, stderr: string } {
  const out = { stdout: Buffer.concat(captured.stdout).toString('utf8'), stderr: Buffer.concat(captured.stderr).toString('utf8') }
  captured.stdout = []
  captured.stderr = []
  return out
}

/**
 * Calls one export. A function returning `result<T, E>` returns T and, for an error, jco throws the E payload
 * itself (`undefined` when E is absent), not an Error: so for such a function a thrown non-Error (or an Error
 * carrying `payload`) is the guest's error value, anything else a trap. After a trap jco refuses further calls
 * on the instance; the parent replaces it.
 */
function call (exports: Record<string, unknown>, path: string[], args: unknown[], returnsResult: boolean): CallOutcome {
  let target: unknown = exports
  for (const key of path) target = (target as Record<string, unknown> | undefined)?.[key]
  if (typeof target !== 'function') return { ok: false, kind: 'missing', message: `the instance has no export ${path.join('.')}`, ...drain(), memoryBytes: memoryBytes() }
  try {
    const value = (target as (...a: unknown[]) => unknown)(...args)
    return { ok: true, value, ...drain(), memoryBytes: memoryBytes() }
  } catch (err) {
    if (err instanceof GuestExit) return { ok: false, kind: 'exit', message: err.message, ...drain(), memoryBytes: memoryBytes() }
    if (returnsResult && !(err instanceof Error)) return { ok: true, err, ...drain(), memoryBytes: memoryBytes() }
    if (returnsResult && err instanceof Error && Object.hasOwn(err, 'payload')) {
      return { ok: true, err: (err as Error & { payload: unknown }).payload, ...drain(), memoryBytes: memoryBytes() }
    }
    return { ok: false, kind: 'trap', message: (err as Error)?.message ?? String(err), ...drain(), memoryBytes: memoryBytes() }
  }
}

/**
 * A call under a journal. The divergence, if any, decides the outcome whatever the guest did after the throwing
 * import (a trap, usually). A call that traps or exits is not checked for unused records: it did not complete.
 */
function journaledCall (exports: Record<string, unknown>, c: { path: string[], args: unknown[], returnsResult: boolean }, run: JournalRun, record: boolean): CallOutcome {
  journal = run
  let outcome: CallOutcome
  try {
    outcome = call(exports, c.path, c.args, c.returnsResult)
  } finally {
    journal = undefined
  }
  if (outcome.ok) run.finish()
  if (run.diverged !== undefined) {
    return { ok: false, kind: 'diverged', message: run.diverged.message, divergence: run.diverged.divergence, stdout: outcome.stdout, stderr: outcome.stderr, memoryBytes: outcome.memoryBytes }
  }
  outcome.replayed = run.consumed
  if (record) outcome.hostCalls = run.recorded
  return outcome
}

/**
 * Replays recorded calls one after the other, stopping after the first outcome that is not ok. Their output is in
 * the outcomes but not streamed as `log` messages again.
 */
function replayBatch (exports: Record<string, unknown>, calls: ReplayCall[]): CallOutcome[] {
  const outcomes: CallOutcome[] = []
  streamOutput = false
  try {
    for (const c of calls) {
      const outcome = journaledCall(exports, c, new JournalRun(false, c.hostCalls, true), false)
      outcomes.push(outcome)
      if (!outcome.ok) break
    }
  } finally {
    streamOutput = true
  }
  return outcomes
}

type Request =
  | { type: 'call', id: number, path: string[], args: unknown[], returnsResult: boolean, journal?: CallJournal }
  | { type: 'batch', id: number, calls: ReplayCall[] }

start().then((exports) => {
  port.on('message', (m: Request) => {
    if (m.type === 'call') {
      const outcome = m.journal === undefined
        ? call(exports, m.path, m.args, m.returnsResult)
        : journaledCall(exports, m, new JournalRun(m.journal.record, m.journal.replay ?? [], false), m.journal.record)
      port.postMessage({ type: 'result', id: m.id, outcome })
    } else if (m.type === 'batch') {
      port.postMessage({ type: 'result', id: m.id, outcome: replayBatch(exports, m.calls) })
    }
  })
  port.postMessage({ type: 'ready', memoryBytes: memoryBytes() })
}, (err: unknown) => {
  port.postMessage({ type: 'failed', message: (err as Error)?.message ?? String(err) })
})
