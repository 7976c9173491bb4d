import { EventEmitter } from 'node:events'
import { Worker } from 'node:worker_threads'
import { ColonyError } from '../errors.js'
import type { Compiled } from './compiler.js'
import { answer, createRpcBuffer, takeRequest, type RpcRequest, type RpcResponse } from './rpc.js'
import type { CallJournal } from './host-journal.js'
import type { CallOutcome, ReplayCall, WorkerInit } from './worker.js'

export interface InstanceOptions {
  env?: Record<string, string>
  args?: string[]
  /** Guest path -> host directory (none by default: the guest sees no filesystem). */
  preopens?: Record<string, string>
  /** Interfaces served by linked providers. */
  linked?: string[]
  /** Answers the instance's host calls to linked providers (may await an actor). */
  hostCall?: (request: RpcRequest) => unknown
  /** Linear memory the instance may use; past it the instance is stopped after the call. */
  memoryLimitBytes: number
  startTimeoutMs: number
  hostCallTimeoutMs: number
}

interface InstanceEvents {
  log: [stream: 'stdout' | 'stderr', text: string]
  exit: [reason: string]
}

const WORKER_URL = new URL('./worker.js', import.meta.url)

/**
 * One component instance in its own worker thread. Calls run one at a time. A call that outlives its timeout, or
 * leaves the instance over its memory budget, ends the worker: the instance is then dead and its owner starts a
 * fresh one; the runtime never is.
 */
export class WasmInstance extends EventEmitter<InstanceEvents> {
  private readonly worker: Worker
  private readonly rpcBuffer = createRpcBuffer()
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (o: CallOutcome | CallOutcome[]) => void, reject: (e: Error) => void }>()
  private dead: string | undefined
  private busy = false

  private constructor (compiled: Compiled, private readonly options: InstanceOptions) {
    super()
    const init: WorkerInit = {
      gluePath: compiled.gluePath,
      cores: Object.fromEntries(compiled.cores),
      env: options.env ?? {},
      args: options.args ?? ['component'],
      preopens: options.preopens ?? {},
      linked: options.linked ?? [],
      rpcBuffer: this.rpcBuffer,
      hostCallTimeoutMs: options.hostCallTimeoutMs,
    }
    this.worker = new Worker(WORKER_URL, { workerData: init, stdout: true, stderr: true })
    // Anything the glue itself prints is not the guest's output: keep it out of the runtime's stdout.
    this.worker.stdout.resume()
    this.worker.stderr.resume()
    this.worker.on('error', (err) => this.kill(`the worker failed: ${err.message}`))
    this.worker.on('exit', () => {
      this.kill('the worker exited')
      for (const { reject } of this.pending.values()) reject(new ColonyError('invoke_failed', `the instance stopped during the call: ${this.dead ?? 'exit'}`))
      this.pending.clear()
    })
  }

  /** Starts an instance; rejects with `invoke_failed` when instantiation fails (e.g. a missing import). */
  static async start (compiled: Compiled, options: InstanceOptions): Promise<WasmInstance> {
    const instance = new WasmInstance(compiled, options)
    await instance.ready()
    return instance
  }

  get alive (): boolean {
    return this.dead === undefined
  }

  get idle (): boolean {
    return this.alive && !this.busy
  }

  private ready (): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.terminate()
        reject(new ColonyError('invoke_failed', `the instance did not start within ${this.options.startTimeoutMs} ms`))
      }, this.options.startTimeoutMs)
      const onMessage = (m: { type: string, message?: string }): void => {
        if (m.type === 'ready') {
          clearTimeout(timer)
          this.worker.off('message', onMessage)
          this.worker.on('message', (msg: Message) => this.onMessage(msg))
          resolve()
        } else if (m.type === 'failed') {
          clearTimeout(timer)
          void this.terminate()
          reject(new ColonyError('invoke_failed', `the instance failed to start: ${m.message ?? 'unknown error'}`))
        } else if (m.type === 'rpc') {
          this.serveHostCall()
        }
      }
      this.worker.on('message', onMessage)
      this.worker.once('exit', () => {
        clearTimeout(timer)
        reject(new ColonyError('invoke_failed', 'the instance worker exited while starting'))
      })
    })
  }

  /**
   * Calls an export (`path` into jco's exports object) with jco-ready arguments. A timeout terminates the worker
   * and rejects with `invoke_timeout`; going over the memory budget rejects with `wasm_memory_exceeded`.
   * With a `journal`, the non-deterministic host calls are answered from `journal.replay` first (the call ends
   * `diverged` if it makes others), then run live, recorded into `outcome.hostCalls` when `journal.record`.
   */
  async call (path: string[], args: unknown[], timeoutMs: number, returnsResult = false, journal?: CallJournal): Promise<CallOutcome> {
    const message = journal === undefined ? { type: 'call', path, args, returnsResult } : { type: 'call', path, args, returnsResult, journal }
    const outcome = await this.send(message, timeoutMs, 'the call') as CallOutcome
    this.check(outcome)
    return outcome
  }

  /**
   * Replays recorded calls inside the worker from one message (no round trip per call): each must make exactly
   * its recorded host calls, answered from the recording. Stops after the first outcome that is not ok and
   * returns the outcomes up to it. `timeoutMs` bounds the whole batch. The calls' output is in their outcomes
   * only: no `log` events (it was emitted when the calls first ran).
   */
  async replayBatch (calls: ReplayCall[], timeoutMs: number): Promise<CallOutcome[]> {
    const outcomes = await this.send({ type: 'batch', calls }, timeoutMs, `a replay of ${calls.length} calls`) as CallOutcome[]
    const last = outcomes.at(-1)
    if (last !== undefined) this.check(last)
    return outcomes
  }

  private async send (message: Record<string, unknown>, timeoutMs: number, what: string): Promise<CallOutcome | CallOutcome[]> {
    if (this.dead !== undefined) throw new ColonyError('invoke_failed', `the instance is gone: ${this.dead}`)
    const id = this.nextId++
    this.busy = true
    try {
      return await new Promise<CallOutcome | CallOutcome[]>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending.delete(id)
          void this.terminate(`${what} ran over its ${timeoutMs} ms timeout`)
          reject(new ColonyError('invoke_timeout', `${what} did not finish within ${timeoutMs} ms; the instance was stopped`))
        }, timeoutMs)
        this.pending.set(id, {
          resolve: (o) => { clearTimeout(timer); this.pending.delete(id); resolve(o) },
          reject: (e) => { clearTimeout(timer); reject(e) },
        })
        this.worker.postMessage({ ...message, id })
      })
    } finally {
      this.busy = false
    }
  }

  /** Ends an instance left unusable by the call, or over its memory budget. */
  private check (outcome: CallOutcome): void {
    // jco refuses every call into an instance that trapped, one that called exit() unwound mid-call, and one that
    // diverged was stopped by a throwing import: all are replaced.
    if (!outcome.ok && outcome.kind !== 'missing') void this.terminate(`${outcome.kind === 'exit' ? 'exited' : outcome.kind === 'diverged' ? 'diverged' : 'trapped'}: ${outcome.message}`)
    if (outcome.memoryBytes > this.options.memoryLimitBytes) {
      void this.terminate(`memory ${outcome.memoryBytes} bytes is over the budget of ${this.options.memoryLimitBytes}`)
      throw new ColonyError('wasm_memory_exceeded',
        `the instance uses ${outcome.memoryBytes} bytes of linear memory, over its budget of ${this.options.memoryLimitBytes}; it was stopped`)
    }
  }

  private onMessage (m: Message): void {
    if (m.type === 'result') this.pending.get(m.id)?.resolve(m.outcome)
    else if (m.type === 'log') this.emit('log', m.stream, m.text)
    else if (m.type === 'rpc') this.serveHostCall()
  }

  private serveHostCall (): void {
    const request = takeRequest(this.rpcBuffer)
    if (request === undefined) return
    const hostCall = this.options.hostCall
    const reply = (response: RpcResponse): void => answer(this.rpcBuffer, response)
    if (hostCall === undefined) {
      reply({ ok: false, message: `no provider is linked for ${request.iface}` })
      return
    }
    Promise.resolve().then(() => hostCall(request)).then(
      (value) => reply({ ok: true, value }),
      (err: unknown) => reply({ ok: false, message: (err as Error)?.message ?? String(err) }),
    )
  }

  private kill (reason: string): void {
    if (this.dead !== undefined) return
    this.dead = reason
    this.emit('exit', reason)
  }

  async terminate (reason = 'stopped'): Promise<void> {
    this.kill(reason)
    await this.worker.terminate()
  }
}

type Message =
  | { type: 'result', id: number, outcome: CallOutcome | CallOutcome[] }
  | { type: 'log', stream: 'stdout' | 'stderr', text: string }
  | { type: 'rpc' }
