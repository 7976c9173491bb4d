/**
 * One durable worker in memory: a single component instance whose invocations run one at a time, in order, and
 * are written to the worker's oplog before anyone is told they happened. Recovery is replay: a fresh instance is
 * given the latest snapshot (when the component can load one) and then re-driven through every recorded
 * invocation, its host calls answered from the recording, so its memory ends up exactly as it was.
 *
 * Oplog shape of one invocation: `[ExportedFunctionInvoked, ImportedFunctionInvoked..., ExportedFunctionCompleted |
 * Error | Exited]`, appended as one block once the call returned, so blocks never interleave and a crash mid-call
 * leaves no trace of it. A fire-and-forget invocation is first made durable as `PendingWorkerInvocation` (that is
 * what its `{}` acknowledges) and runs again after a crash until its block is written.
 */
import { ColonyError, toColonyError } from '../errors.js'
import type { Clock } from '../clock.js'
import type { LoadedComponent } from '../components/registry.js'
import { finishCall, prepareCall, type InvokeOutcome, type PreparedCall } from '../components/invoke.js'
import { golemTyp, resolveFunction } from '../components/golem.js'
import type { WasmInstance } from '../wasm/instance.js'
import type { CallOutcome } from '../wasm/worker.js'
import type { HostCallRecord } from '../wasm/host-journal.js'
import type { ComponentMetadata } from '../wasm/types.js'
import { Oplog, type LogLevel, type OplogEntry, type PluginInstallation, type ValueAndType } from './oplog-entries.js'
import type { IndexedEntry } from './oplog-reader.js'
import { hostCallEntry, hostCallOf } from './host-call-entries.js'
import type { UpdateRecord, WorkerStatus } from '../store/index.js'
import { workerEvents, type WorkerEvent } from './events.js'
import type { InvocationResult, WorkerOplog } from './oplog-port.js'

export interface WorkerRef { componentId: string, workerName: string }

/** What the worker keeps in its row besides the oplog (status is "last known", as in Golem). */
export interface WorkerRowPatch {
  status?: WorkerStatus
  componentVersion?: number
  lastError?: string | null
  retryCount?: number
  updates?: UpdateRecord[]
}

export interface DurableWorkerOptions {
  ref: WorkerRef
  componentVersion: number
  status: WorkerStatus
  updates: UpdateRecord[]
  oplog: WorkerOplog
  /** A revision of the worker's component, compiled. */
  load (version: number): Promise<LoadedComponent>
  /** A fresh instance of a revision with the worker's args and env and its links (the actor knows those). */
  instantiate (component: LoadedComponent): Promise<WasmInstance>
  callTimeoutMs: number
  /** A snapshot is taken after this many oplog entries since the last one (when the component exports save-snapshot). */
  snapshotEvery: number
  clock: Clock
  emit (event: WorkerEvent): void
  /** Persists the row's fields that changed (status transitions, version, updates, last error). */
  persist (patch: WorkerRowPatch): void
}

const SAVE = 'golem:api/save-snapshot.{save}'
const LOAD = 'golem:api/load-snapshot.{load}'
/** Recorded invocations replayed per message to the instance's thread while recovering. */
const REPLAY_CHUNK = 512

interface Waiter { resolve (r: InvocationResult): void, reject (e: Error): void }

interface Invocation {
  kind: 'invoke'
  key: string
  call: PreparedCall
  /** The params as Golem typed values, as the oplog records them. */
  typed: ValueAndType[]
  waiters: Waiter[]
}

interface Update {
  kind: 'update'
  mode: 'Automatic' | 'Manual'
  targetVersion: number
  waiters: Waiter[]
}

type Work = Invocation | Update

/** One recorded invocation, ready to replay. */
interface RecordedCall {
  functionName: string
  params: unknown[]
  hostCalls: HostCallRecord[]
  response: unknown
  /** The oplog index of its last entry. */
  lastIndex: number
}

export function hasExport (metadata: ComponentMetadata, name: string): boolean {
  try {
    resolveFunction(metadata, name)
    return true
  } catch {
    return false
  }
}

export class DurableWorker {
  status: WorkerStatus
  componentVersion: number
  updates: UpdateRecord[]
  lastError: string | undefined
  private component: LoadedComponent | undefined
  private instance: WasmInstance | undefined
  private readonly queue: Work[] = []
  private readonly pendingByKey = new Map<string, Invocation>()
  private current: Work | undefined
  private draining = false
  private sinceSnapshot = 0
  /** Set while an interrupt stops the running call: its caller hears `worker_interrupted` (or it re-runs). */
  private interrupting: { requeue: boolean } | undefined
  invocations = 0
  private closed = false

  constructor (private readonly o: DurableWorkerOptions) {
    this.status = o.status
    this.componentVersion = o.componentVersion
    this.updates = o.updates
  }

  get pendingInvocationCount (): number {
    return this.queue.length + (this.current === undefined ? 0 : 1)
  }

  get busy (): boolean {
    return this.current !== undefined || this.queue.length > 0
  }

  get metadata (): ComponentMetadata | undefined {
    return this.component?.metadata
  }

  /** Loads the component and replays the oplog; then queued fire-and-forget invocations run. */
  async recover (): Promise<void> {
    if (this.status === 'Failed' || this.status === 'Exited') return
    const { instance, component, lastIndex } = await this.rebuild(this.componentVersion, true)
    await this.instance?.terminate('replaced by recovery')
    this.instance = instance
    this.component = component
    this.sinceSnapshot = this.o.oplog.lastIndex() - lastIndex
    for (const p of this.o.oplog.pending()) {
      if (this.pendingByKey.has(p.idempotencyKey)) continue
      try {
        this.enqueue(this.prepare(p.functionName, p.params, p.idempotencyKey))
      } catch (err) {
        // The component changed under a queued call (it no longer exports it): the call fails, recorded.
        void this.o.oplog.append([Oplog.error(toColonyError(err).message, this.at())],
          { idempotencyKey: p.idempotencyKey, state: 'completed', result: failure(toColonyError(err)) })
      }
    }
    this.kick()
  }

  /**
   * A fresh instance of `version` brought to the state the oplog describes: from the latest snapshot of that
   * version when there is one (and `useSnapshot`), then every recorded invocation after it.
   */
  private async rebuild (version: number, useSnapshot: boolean): Promise<{ instance: WasmInstance, component: LoadedComponent, lastIndex: number }> {
    const component = await this.o.load(version)
    const instance = await this.o.instantiate(component)
    try {
      let from = 1
      const snapshot = useSnapshot ? this.o.oplog.latestSnapshot(version) : undefined
      if (snapshot !== undefined) {
        await this.callPlain(instance, component.metadata, LOAD, [Array.from(snapshot.bytes)], true)
        from = snapshot.oplogIndex + 1
      }
      let lastIndex = from - 1
      let chunk: RecordedCall[] = []
      for (const call of recordedCalls(this.o.oplog.read(from))) {
        chunk.push(call)
        if (chunk.length >= REPLAY_CHUNK) {
          await this.replay(instance, component.metadata, chunk)
          lastIndex = call.lastIndex
          chunk = []
        }
      }
      if (chunk.length > 0) {
        await this.replay(instance, component.metadata, chunk)
        lastIndex = (chunk[chunk.length - 1] as RecordedCall).lastIndex
      }
      return { instance, component, lastIndex }
    } catch (err) {
      await instance.terminate('recovery failed')
      throw err
    }
  }

  /** Replays recorded calls in the instance's thread; any different host call or result is a divergence. */
  private async replay (instance: WasmInstance, metadata: ComponentMetadata, calls: RecordedCall[]): Promise<void> {
    const prepared = calls.map((c) => prepareCall(metadata, c.functionName, c.params))
    const outcomes = await instance.replayBatch(prepared.map((p, i) => ({
      path: p.path, args: p.args, returnsResult: p.returnsResult, hostCalls: (calls[i] as RecordedCall).hostCalls,
    })), this.o.callTimeoutMs)
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i] as CallOutcome
      const recorded = calls[i] as RecordedCall
      if (!outcome.ok) {
        throw new ColonyError('replay_diverged', `replaying ${recorded.functionName} (oplog index ${recorded.lastIndex}) failed: ${outcome.message}`,
          { details: { oplogIndex: recorded.lastIndex, ...('divergence' in outcome && { divergence: outcome.divergence }) } })
      }
      const result = finishCall(prepared[i] as PreparedCall, outcome).result
      if (!sameJson(result, recorded.response)) {
        throw new ColonyError('replay_diverged', `replaying ${recorded.functionName} (oplog index ${recorded.lastIndex}) returned ` +
          `${JSON.stringify(result)} where the oplog has ${JSON.stringify(recorded.response)}`,
        { details: { oplogIndex: recorded.lastIndex, expected: recorded.response, actual: result } })
      }
    }
    if (outcomes.length < calls.length) throw new ColonyError('replay_diverged', 'replay stopped before the end of the oplog')
  }

  /** Resolves a call against the current metadata: unknown functions and wrong params are the caller's 4xx. */
  prepare (functionName: string, params: unknown, key: string): Invocation {
    this.refuseIfBroken()
    const metadata = this.component?.metadata
    if (metadata === undefined) throw new ColonyError('worker_not_ready', 'the worker is not loaded')
    const call = prepareCall(metadata, functionName, params)
    const typed = call.fn.params.map((p, i) => ({ typ: golemTyp(p.type), value: plainValue((params as unknown[])[i]) }))
    return { kind: 'invoke', key, call, typed, waiters: [] }
  }

  /** A call with this key is queued or running: the caller awaits the same completion. */
  joinPending (key: string): Promise<InvocationResult> | undefined {
    const inv = this.pendingByKey.get(key)
    return inv === undefined ? undefined : new Promise((resolve, reject) => inv.waiters.push({ resolve, reject }))
  }

  /**
   * Queues an invocation. `awaitResult` false is fire-and-forget: resolves once the invocation is durable in the
   * oplog (PendingWorkerInvocation), so it runs even after a crash. True: resolves with its result, once durable.
   */
  async invoke (inv: Invocation, awaitResult: boolean): Promise<InvocationResult | undefined> {
    this.refuseIfBroken()
    const done = new Promise<InvocationResult>((resolve, reject) => inv.waiters.push({ resolve, reject }))
    if (!awaitResult) {
      done.catch(() => undefined)
      const functionName = inv.call.qualified
      const entry = Oplog.pendingWorkerInvocation(inv.key, functionName, inv.typed, this.at())
      this.enqueue(inv)
      await this.o.oplog.append([entry], { idempotencyKey: inv.key, state: 'pending', functionName, params: inv.typed.map((t) => t.value) })
      return undefined
    }
    this.enqueue(inv)
    return await done
  }

  private enqueue (inv: Invocation): void {
    this.pendingByKey.set(inv.key, inv)
    this.queue.push(inv)
    this.kick()
  }

  private refuseIfBroken (): void {
    if (this.status === 'Failed') {
      throw new ColonyError('worker_failed', `the worker failed and takes no more invocations: ${this.lastError ?? 'a previous invocation failed'}`)
    }
    if (this.status === 'Exited') throw new ColonyError('worker_exited', 'the worker exited and takes no more invocations')
  }

  private kick (): void {
    if (this.draining || this.status === 'Interrupted' || this.instance === undefined) return
    this.draining = true
    void this.drain().finally(() => { this.draining = false })
  }

  private async drain (): Promise<void> {
    for (let work = this.queue.shift(); work !== undefined; work = this.queue.shift()) {
      if (this.status === 'Interrupted' || this.instance === undefined) {
        this.queue.unshift(work)
        return
      }
      this.current = work
      this.setStatus('Running')
      try {
        if (work.kind === 'invoke') await this.run(work)
        else await this.runUpdate(work)
      } finally {
        this.current = undefined
      }
      if (this.status === 'Running') this.setStatus('Idle')
    }
  }

  /** Runs one invocation and writes its block; the waiters hear once it is durable (later calls need not wait). */
  private async run (inv: Invocation): Promise<void> {
    const instance = this.instance as WasmInstance
    const fn = inv.call.qualified
    this.o.emit(workerEvents.invocationStart(fn, inv.key, this.now()))
    let outcome: CallOutcome
    try {
      outcome = await instance.call(inv.call.path, inv.call.args, this.o.callTimeoutMs, inv.call.returnsResult, { record: true })
    } catch (err) {
      if (this.interrupting !== undefined) return this.interrupted(inv)
      // A timeout or the memory budget: the instance is gone mid-call; the worker fails as on a trap.
      return this.fail(inv, [], toColonyError(err))
    }
    if (this.interrupting !== undefined) return this.interrupted(inv)
    const hostCalls = [...(outcome.hostCalls ?? []).map((h) => hostCallEntry(h, this.at())), ...logEntries(outcome, this.at())]
    const invoked = Oplog.exportedFunctionInvoked(fn, inv.typed, inv.key, undefined, this.at())
    if (!outcome.ok) {
      if (outcome.kind === 'exit') return this.exit(inv, [invoked, ...hostCalls])
      return this.fail(inv, [invoked, ...hostCalls], new ColonyError('invoke_failed', `${fn} trapped: ${outcome.message}`,
        { details: { stdout: outcome.stdout, stderr: outcome.stderr } }))
    }
    let out: InvokeOutcome
    try {
      out = finishCall(inv.call, outcome)
    } catch (err) {
      return this.fail(inv, [invoked, ...hostCalls], toColonyError(err))
    }
    const result: InvocationResult = { ok: true, function: out.function, result: out.result as { typ: unknown, value: unknown[] } }
    const completed = Oplog.exportedFunctionCompleted(out.result as ValueAndType, 0, this.at())
    const durable = this.o.oplog.append([invoked, ...hostCalls, completed], { idempotencyKey: inv.key, state: 'completed', result })
    this.invocations++
    this.sinceSnapshot += hostCalls.length + 2
    const snapshot = this.sinceSnapshot >= this.o.snapshotEvery ? await this.saveSnapshot() : undefined
    // Until durable, a duplicate of this key joins this call (the store does not know the key yet).
    void durable.then(({ lastIndex }) => {
      this.pendingByKey.delete(inv.key)
      this.o.emit(workerEvents.invocationFinished(fn, inv.key, this.now()))
      if (snapshot !== undefined) this.o.oplog.putSnapshot(lastIndex, snapshot)
      for (const w of inv.waiters) w.resolve(result)
    }, (err: unknown) => this.lost(inv, err))
  }

  /** Takes a snapshot now (between invocations): the bytes of the component's save-snapshot, or none. */
  private async saveSnapshot (): Promise<Uint8Array | undefined> {
    const metadata = this.component?.metadata
    if (metadata === undefined || this.instance === undefined || !hasExport(metadata, SAVE) || !hasExport(metadata, LOAD)) return undefined
    try {
      const value = await this.callPlain(this.instance, metadata, SAVE, [], false)
      this.sinceSnapshot = 0
      return Uint8Array.from(value as number[])
    } catch {
      return undefined // no snapshot this time: recovery replays a little more
    }
  }

  /** Snapshots the worker before it leaves memory, so coming back costs a load instead of a full replay. */
  async snapshotNow (): Promise<void> {
    if (this.busy || this.sinceSnapshot === 0) return
    const last = this.o.oplog.lastIndex()
    const bytes = await this.saveSnapshot()
    if (bytes !== undefined) {
      await this.o.oplog.flushed()
      this.o.oplog.putSnapshot(last, bytes)
    }
  }

  /** Calls an export outside the oplog (snapshots); `expectOk` turns an `err` result into an error. */
  private async callPlain (instance: WasmInstance, metadata: ComponentMetadata, name: string, params: unknown[], expectOk: boolean): Promise<unknown> {
    const call = prepareCall(metadata, name, params)
    const outcome = await instance.call(call.path, call.args, this.o.callTimeoutMs, call.returnsResult)
    const value = finishCall(call, outcome).value
    if (expectOk && typeof value === 'object' && value !== null && 'err' in value) {
      throw new ColonyError('snapshot_failed', `${name} refused the snapshot: ${JSON.stringify((value).err)}`)
    }
    return value
  }

  private fail (inv: Invocation, entries: OplogEntry[], error: ColonyError): void {
    this.lastError = error.message
    this.setStatus('Failed')
    this.persist({ status: 'Failed', lastError: error.message })
    void this.instance?.terminate('the worker failed')
    this.instance = undefined
    const stored = failure(error)
    const durable = this.o.oplog.append([...entries, Oplog.error(error.message, this.at())], { idempotencyKey: inv.key, state: 'completed', result: stored })
    this.failQueued()
    void durable.then(() => this.settled(inv, error), (err: unknown) => this.lost(inv, err))
  }

  /** The failed call's block is durable: its key answers the error from the store from now on. */
  private settled (inv: Invocation, error: ColonyError): void {
    this.pendingByKey.delete(inv.key)
    for (const w of inv.waiters) w.reject(error)
  }

  private exit (inv: Invocation, entries: OplogEntry[]): void {
    this.setStatus('Exited')
    this.persist({ status: 'Exited' })
    void this.instance?.terminate('the worker exited')
    this.instance = undefined
    const error = new ColonyError('worker_exited', `${inv.call.qualified} exited the worker`)
    const durable = this.o.oplog.append([...entries, Oplog.exited(this.at())], { idempotencyKey: inv.key, state: 'completed', result: failure(error) })
    this.failQueued()
    void durable.then(() => this.settled(inv, error), (err: unknown) => this.lost(inv, err))
  }

  /** After a failure or an exit, nothing queued can run: the callers hear why (fire-and-forget ones stay pending). */
  private failQueued (): void {
    for (const work of this.queue.splice(0)) {
      const error = this.status === 'Exited' ? new ColonyError('worker_exited', 'the worker exited') : new ColonyError('worker_failed', `the worker failed: ${this.lastError ?? ''}`)
      if (work.kind === 'invoke') this.pendingByKey.delete(work.key)
      for (const w of work.waiters) w.reject(error)
    }
  }

  /** The oplog could not be written: nothing of the call is acknowledged and memory is ahead of the log. */
  private lost (inv: Invocation, err: unknown): void {
    this.pendingByKey.delete(inv.key)
    const error = new ColonyError('store_failed', `the invocation could not be made durable: ${(err as Error)?.message ?? String(err)}`)
    for (const w of inv.waiters) w.reject(error)
    // Memory now holds effects the oplog does not: rebuild from the log before anything else runs.
    void this.instance?.terminate('the oplog write failed')
    this.instance = undefined
    void this.recover().catch(() => undefined)
  }

  private interrupted (inv: Invocation): void {
    const { requeue } = this.interrupting as { requeue: boolean }
    this.interrupting = undefined
    if (requeue) {
      this.queue.unshift(inv)
      return
    }
    this.pendingByKey.delete(inv.key)
    const error = new ColonyError('worker_interrupted', `${inv.call.qualified} was interrupted`)
    for (const w of inv.waiters) w.reject(error)
  }

  /**
   * Golem's interrupt: a running worker stops (its current call is abandoned — a fire-and-forget one runs again on
   * resume), is Interrupted and leaves memory until resumed or invoked. `recoverImmediately` simulates a crash
   * instead: the worker is rebuilt from its oplog at once and the call runs again. Idle or stopped workers: no-op.
   */
  async interrupt (recoverImmediately: boolean): Promise<void> {
    if (recoverImmediately) {
      if (this.status === 'Failed' || this.status === 'Exited') return
      if (this.current !== undefined) this.interrupting = { requeue: true }
      const old = this.instance
      this.instance = undefined
      await old?.terminate('interrupted: recovering immediately')
      await this.settle()
      await this.recover()
      return
    }
    if (this.status !== 'Running' && this.status !== 'Suspended' && this.status !== 'Retrying') return
    this.interrupting = { requeue: false }
    this.setStatus('Interrupted')
    this.persist({ status: 'Interrupted' })
    const old = this.instance
    this.instance = undefined
    await old?.terminate('interrupted')
    await this.settle()
    await this.o.oplog.append([Oplog.interrupted(this.at())])
  }

  /** Waits until the drain loop has noticed the stopped instance. */
  private async settle (): Promise<void> {
    while (this.current !== undefined) await new Promise((resolve) => setImmediate(resolve))
  }

  /** Golem's resume: only a Suspended, Interrupted or Idle worker; an interrupted one is rebuilt from its oplog. */
  async resume (): Promise<void> {
    if (this.status !== 'Suspended' && this.status !== 'Interrupted' && this.status !== 'Idle') {
      throw new ColonyError('worker_not_resumable', `the worker is ${this.status}; only a Suspended, Interrupted or Idle worker can be resumed`)
    }
    if (this.status === 'Interrupted') await this.resumeNow()
  }

  /** Golem resumes an Interrupted worker on its next invocation. */
  async resumeIfInterrupted (): Promise<void> {
    if (this.status === 'Interrupted') await this.resumeNow()
  }

  private resumeNow (): Promise<void> {
    this.setStatus('Idle')
    this.persist({ status: 'Idle' })
    return this.recover()
  }

  /**
   * Queues an update to `targetVersion`, recorded as PendingUpdate; it runs when the calls before it are done.
   * Automatic: the whole oplog is replayed on the new version; any divergence reverts (FailedUpdate). Manual: the
   * old version's save-snapshot is loaded into the new one's load-snapshot.
   */
  async update (mode: 'Automatic' | 'Manual', targetVersion: number, target: ComponentMetadata): Promise<InvocationResult> {
    this.refuseIfBroken()
    if (targetVersion === this.componentVersion) throw new ColonyError('invalid_update', `the worker already runs version ${targetVersion}`)
    if (mode === 'Manual') {
      const current = this.component?.metadata
      if (current === undefined || !hasExport(current, SAVE)) {
        throw new ColonyError('update_not_supported', `a Manual update needs ${SAVE} in the worker's version ${this.componentVersion}, which does not export it`)
      }
      if (!hasExport(target, LOAD)) {
        throw new ColonyError('update_not_supported', `a Manual update needs ${LOAD} in version ${targetVersion}, which does not export it`)
      }
    }
    const record: UpdateRecord = { type: 'PendingUpdate', timestamp: this.now().toISOString(), targetVersion }
    this.updates = [...this.updates, record]
    this.persist({ updates: this.updates })
    await this.o.oplog.append([Oplog.pendingUpdate(targetVersion, mode === 'Automatic' ? { type: 'Automatic' } : { type: 'SnapshotBased' }, this.at())])
    const done = new Promise<InvocationResult>((resolve, reject) => {
      this.queue.push({ kind: 'update', mode, targetVersion, waiters: [{ resolve, reject }] })
    })
    this.kick()
    return await done
  }

  private async runUpdate (u: Update): Promise<void> {
    let next: { instance: WasmInstance, component: LoadedComponent } | undefined
    let failure: string | undefined
    try {
      if (u.mode === 'Automatic') {
        next = await this.rebuild(u.targetVersion, false)
      } else {
        const bytes = await this.callPlain(this.instance as WasmInstance, (this.component as LoadedComponent).metadata, SAVE, [], false)
        const component = await this.o.load(u.targetVersion)
        const instance = await this.o.instantiate(component)
        try {
          await this.callPlain(instance, component.metadata, LOAD, [bytes], true)
        } catch (err) {
          await instance.terminate('update failed')
          throw err
        }
        next = { instance, component }
        this.pendingSnapshot = Uint8Array.from(bytes as number[])
      }
    } catch (err) {
      failure = toColonyError(err).message
    }
    const settled = this.updates.filter((r) => !(r.type === 'PendingUpdate' && r.targetVersion === u.targetVersion))
    if (next === undefined) {
      this.updates = [...settled, { type: 'FailedUpdate', timestamp: this.now().toISOString(), targetVersion: u.targetVersion, details: failure ?? 'unknown' }]
      this.persist({ updates: this.updates })
      await this.o.oplog.append([Oplog.failedUpdate(u.targetVersion, failure ?? 'unknown', this.at())])
      for (const w of u.waiters) w.resolve({ ok: false, error: { code: 'update_failed', message: failure ?? 'unknown' } })
      return
    }
    const old = this.instance
    this.instance = next.instance
    this.component = next.component
    this.componentVersion = u.targetVersion
    this.updates = [...settled, { type: 'SuccessfulUpdate', timestamp: this.now().toISOString(), targetVersion: u.targetVersion }]
    this.persist({ componentVersion: u.targetVersion, updates: this.updates })
    const { lastIndex } = await this.o.oplog.append([Oplog.successfulUpdate(u.targetVersion, next.component.revision.size, [], this.at())])
    // After a manual update the old invocations cannot be replayed on the new code: the loaded state is the base.
    if (this.pendingSnapshot !== undefined) this.o.oplog.putSnapshot(lastIndex, this.pendingSnapshot)
    this.pendingSnapshot = undefined
    this.sinceSnapshot = 0
    await old?.terminate('updated')
    for (const w of u.waiters) w.resolve({ ok: true, function: 'update', result: { typ: { type: 'Tuple', items: [] }, value: [] } })
  }

  private pendingSnapshot: Uint8Array | undefined

  /** A plugin activated or deactivated on this worker, recorded in its oplog (after the calls before it). */
  async recordPlugin (activate: boolean, plugin: PluginInstallation): Promise<void> {
    const entry = activate ? Oplog.activatePlugin(plugin, this.at()) : Oplog.deactivatePlugin(plugin, this.at())
    await this.o.oplog.append([entry])
  }

  /** Row changes stop once the worker left memory: the store may be closing, and the next incarnation owns the row. */
  private persist (patch: WorkerRowPatch): void {
    if (!this.closed) this.o.persist(patch)
  }

  private setStatus (status: WorkerStatus): void {
    this.status = status
  }

  private now (): Date {
    return new Date(this.o.clock.now())
  }

  private at (): number {
    return this.o.clock.now()
  }

  /** Leaves memory: the instance stops, queued callers hear it (fire-and-forget calls stay pending in the oplog). */
  async close (): Promise<void> {
    this.closed = true
    for (const work of this.queue.splice(0)) {
      for (const w of work.waiters) w.reject(new ColonyError('worker_not_ready', 'the worker left memory before the call ran; retry it'))
    }
    this.pendingByKey.clear()
    const old = this.instance
    this.instance = undefined
    await old?.terminate('closed')
    // The running call (or update) ends now that its instance is gone; its oplog block, if any, is queued before
    // the store closes.
    await this.settle()
  }
}

const LOG_LEVELS: Record<string, LogLevel> = { trace: 'Trace', debug: 'Debug', info: 'Info', warn: 'Warn', error: 'Error', critical: 'Critical' }

/**
 * Golem's Log entries of one invocation: what the guest wrote on stdout and stderr, and its wasi:logging lines
 * (those are also ImportedFunctionInvoked: replay needs their recorded answers; Log is what a reader looks for).
 */
function logEntries (outcome: CallOutcome, at: number): OplogEntry[] {
  const entries: OplogEntry[] = []
  for (const h of outcome.hostCalls ?? []) {
    if (!h.interface.startsWith('wasi:logging/logging') || h.function !== 'log' || !Array.isArray(h.request)) continue
    const [level, context, message] = h.request as [unknown, unknown, unknown]
    const text = (v: unknown): string => typeof v === 'string' ? v : JSON.stringify(v) ?? ''
    entries.push(Oplog.log(LOG_LEVELS[text(level)] ?? 'Info', text(context), text(message), at))
  }
  if (outcome.stdout !== '') entries.push(Oplog.log('Stdout', '', outcome.stdout, at))
  if (outcome.stderr !== '') entries.push(Oplog.log('Stderr', '', outcome.stderr, at))
  return entries
}

function failure (e: ColonyError): InvocationResult {
  return { ok: false, error: { code: e.code, message: e.message } }
}

/** A Golem typed value `{typ, value}` is recorded by its value (the export's own type is the typ). */
function plainValue (v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'typ' in v && 'value' in v && Object.keys(v).length === 2) return (v as { value: unknown }).value
  return v
}

function sameJson (a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Groups oplog entries into recorded invocations (those that completed; failed ones end the worker anyway). */
function * recordedCalls (entries: Iterable<IndexedEntry>): Generator<RecordedCall> {
  let open: { functionName: string, params: unknown[], hostCalls: HostCallRecord[] } | undefined
  for (const { oplogIndex, entry } of entries) {
    if (entry.type === 'ExportedFunctionInvoked') {
      open = { functionName: entry.functionName, params: entry.request.map((p) => p.value), hostCalls: [] }
    } else if (entry.type === 'ImportedFunctionInvoked' && open !== undefined) {
      open.hostCalls.push(hostCallOf(entry))
    } else if (entry.type === 'ExportedFunctionCompleted' && open !== undefined) {
      yield { ...open, response: entry.response, lastIndex: oplogIndex }
      open = undefined
    } else if ((entry.type === 'Error' || entry.type === 'Exited') && open !== undefined) {
      open = undefined
    }
  }
}
