/**
 * Golem's durable workers on this host: every door (REST, MQTT, the gateway, chat) goes through this service. It
 * owns the workers' rows, brings a worker's actor into memory on first use (recovering it from its oplog), answers
 * completed idempotency keys without waking the worker, and hands everything else to the worker's actor, which
 * runs its calls one at a time.
 */
import { createHash, randomUUID } from 'node:crypto'
import { ColonyError, toColonyError } from '../errors.js'
import { Lanes } from '../lanes.js'
import type { Identity } from '../auth/identity.js'
import type { SystemApi } from '../actor/types.js'
import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { ComponentRegistry } from '../components/registry.js'
import type { ComponentRecord } from '../store/index.js'
import type { InvokeRequest } from '../wire/payloads.js'
import { workerMessages } from './messages.js'
import type { WorkerSettingsSection } from './settings.js'
import { WorkerEventHub } from './events.js'
import type { InvocationResult, WorkerOplog } from './oplog-port.js'
import type { OplogWriter } from './oplog-writer.js'
import type { PluginInstallation } from './oplog-entries.js'
import type { IndexedEntry } from './oplog-reader.js'
import type { WorkerRef, WorkerRowPatch } from './durable-worker.js'
import type { UpdateRecord, WorkerListQuery, WorkerStatus } from '../store/index.js'
import type { WorkerRow, WorkerRows, WorkerPage, OplogPage, OplogPageQuery } from './rows-port.js'

/** The workers' settings, changeable at run time (a worker reads them when it comes into memory). */
export type WorkerSettings = { -readonly [K in keyof WorkerSettingsSection]: WorkerSettingsSection[K] } & { callTimeoutMs: number }

/** Golem's WorkerMetadata. */
export interface WorkerMetadata {
  workerId: { componentId: string, workerName: string }
  args: string[]
  env: Record<string, string>
  status: WorkerStatus
  componentVersion: number
  retryCount: number
  pendingInvocationCount: number
  updates: UpdateRecord[]
  createdAt: string
  lastError?: string
  componentSize: number
  totalLinearMemorySize: number
  ownedResources: Record<string, never>
  activePlugins: string[]
}

/** Delivers a worker's durable entries to the plugins active on it (ids of their installations). */
export type ForwardOplog = (ref: WorkerRef, activeInstallations: readonly string[], entries: IndexedEntry[]) => void

/** What a worker actor reports of itself (the live half of the metadata). */
export interface LiveWorker { status: WorkerStatus, pendingInvocationCount: number, componentVersion: number, memoryBytes: number, lastError?: string }

/** How long an ask may take beyond the call's own timeout (queueing behind earlier calls, recovery). */
const ASK_MARGIN_MS = 60_000
const KEY_PATTERN = /^[\x21-\x7e]{1,128}$/
const NAME_PATTERN = /^[^\s/][^/]{0,127}$/

export function checkIdempotencyKey (key: string | undefined): string | undefined {
  if (key === undefined) return undefined
  if (!KEY_PATTERN.test(key)) {
    throw new ColonyError('invalid_idempotency_key', 'an Idempotency-Key is 1 to 128 printable ASCII characters without spaces')
  }
  return key
}

export function checkWorkerName (name: string): string {
  if (!NAME_PATTERN.test(name) || name !== name.trim()) {
    throw new ColonyError('invalid_worker_name', 'a worker name is 1 to 128 characters, without "/" and without leading or trailing spaces',
      { details: { field: 'name' } })
  }
  return name
}

export class WorkerService {
  readonly events = new WorkerEventHub()
  private system: SystemApi | undefined
  /** Spawns and evictions of one worker's actor never overlap. */
  private readonly lanes = new Lanes()
  /** Actor id -> worker, for every worker (in memory or not): MQTT addresses workers by actor id. */
  private readonly byActorId = new Map<string, WorkerRef>()

  constructor (private readonly o: {
    rows: WorkerRows
    oplogFor (ref: WorkerRef): WorkerOplog
    /** The shared oplog writer: flushed on shutdown, its counters for the benchmark. */
    writer: Pick<OplogWriter, 'flush' | 'stats'>
    components: ComponentRegistry
    clock: Clock
    log: Logger
    settings: WorkerSettings
    forward?: ForwardOplog
    /** The plugins installed on a component, which each new worker of it starts with active. */
    installedPlugins?: (componentId: string) => PluginInstallation[]
  }) {}

  /** Workers with active plugins (by actor id): the only ones whose appends are forwarded. */
  private readonly withPlugins = new Map<string, readonly string[]>()

  /** An append of this worker is durable: its active oplog processors get the entries. */
  durable (ref: WorkerRef, entries: IndexedEntry[]): void {
    const active = this.withPlugins.get(this.actorId(ref))
    if (active === undefined || this.o.forward === undefined) return
    try {
      this.o.forward(ref, active, entries)
    } catch (err) {
      this.o.log.warn({ err: toColonyError(err).message, worker: ref }, 'oplog entries could not be forwarded to the worker\'s plugins')
    }
  }

  get settings (): WorkerSettings {
    return this.o.settings
  }

  /** Oplog commits and appends so far (the benchmark shows how many appends each commit carried). */
  stats (): { commits: number, appended: number } {
    return { commits: this.o.writer.stats.commits, appended: this.o.writer.stats.appends }
  }

  /** Commits whatever appends are waiting for the next turn (shutdown: nothing accepted is left behind). */
  flush (): void {
    this.o.writer.flush()
  }

  /** The actor system the workers' actors live in (created after the services). */
  bind (system: SystemApi): void {
    this.system = system
    for (const row of this.o.rows.all()) {
      this.byActorId.set(this.actorId(row), { componentId: row.componentId, workerName: row.workerName })
      if (row.activePlugins.length > 0) this.withPlugins.set(this.actorId(row), row.activePlugins)
    }
  }

  /**
   * MQTT `agents/{id}/invoke` for a worker's actor id (in memory or not): invoke-and-await, with the request's
   * idempotency key. The reply carries the plain result value, as for components.
   */
  readonly mqttTarget = (actorId: string): ((request: InvokeRequest, as: Identity | undefined) => Promise<Record<string, unknown>>) | undefined => {
    const ref = this.byActorId.get(actorId)
    if (ref === undefined) return undefined
    return async (request, as) => {
      const out = await this.invoke(as, ref.componentId, ref.workerName, request.function, request.params,
        { idempotencyKey: request.idempotencyKey, await: true })
      const value = out?.ok === true ? out.result.value[0] ?? null : null
      return { result: value, function: out?.ok === true ? out.function : request.function, ...(request.idempotencyKey !== undefined && { idempotencyKey: request.idempotencyKey }) }
    }
  }

  private get sys (): SystemApi {
    if (this.system === undefined) throw new ColonyError('not_ready', 'the worker service is not bound to the actor system yet')
    return this.system
  }

  /** The actor id of a worker: stable, topic-safe, unique per component and name. */
  actorId (ref: WorkerRef): string {
    return `wk-${digest(ref).slice(0, 24)}`
  }

  private actorName (ref: WorkerRef): string {
    const clean = ref.workerName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 48)
    return `${clean}-${digest(ref).slice(0, 8)}`
  }

  oplogFor (ref: WorkerRef): WorkerOplog {
    return this.o.oplogFor(ref)
  }

  row (ref: WorkerRef): WorkerRow | undefined {
    return this.o.rows.get(ref.componentId, ref.workerName)
  }

  persist (ref: WorkerRef, patch: WorkerRowPatch): void {
    this.o.rows.update(ref.componentId, ref.workerName, patch)
  }

  /** Golem's launchNewWorker: a new Idle worker at the component's latest version, its Create entry durable. */
  async create (as: Identity | undefined, componentId: string, request: { name: string, args?: string[], env?: Record<string, string> }):
  Promise<{ workerId: { componentId: string, workerName: string }, componentVersion: number }> {
    const record = this.o.components.visible(as, componentId)
    const row = await this.insert(record, checkWorkerName(request.name), request.args ?? [], request.env ?? {})
    return { workerId: { componentId: row.componentId, workerName: row.workerName }, componentVersion: row.componentVersion }
  }

  private async insert (record: ComponentRecord, workerName: string, args: string[], env: Record<string, string>): Promise<WorkerRow> {
    const version = this.o.components.latestVersion(record.id)
    if (version === undefined) throw new ColonyError('component_not_found', `component ${record.id} has no revision`)
    const size = this.o.components.revisionInfo(record.id, version)?.size ?? 0
    const plugins = this.o.installedPlugins?.(record.id) ?? []
    const row = this.o.rows.insert({
      componentId: record.id, workerName, teamId: record.teamId, componentVersion: version, args, env, createdAt: this.o.clock.now(), componentSize: size, plugins,
    })
    this.byActorId.set(this.actorId(row), { componentId: row.componentId, workerName: row.workerName })
    if (row.activePlugins.length > 0) this.withPlugins.set(this.actorId(row), row.activePlugins)
    await this.o.oplogFor({ componentId: record.id, workerName }).flushed()
    return row
  }

  /** The worker, created on first use when `create` (Golem: invoking a worker that does not exist creates it). */
  private async resolve (as: Identity | undefined, componentId: string, workerName: string, create: boolean): Promise<WorkerRow> {
    const record = this.o.components.visible(as, componentId)
    const row = this.o.rows.get(record.id, workerName)
    if (row !== undefined) return row
    if (!create) throw new ColonyError('worker_not_found', `component ${componentId} has no worker "${workerName.slice(0, 128)}"`)
    try {
      return await this.insert(record, checkWorkerName(workerName), [], {})
    } catch (err) {
      // Two first calls at once: the other one created it.
      const again = this.o.rows.get(record.id, workerName)
      if (again !== undefined) return again
      throw err
    }
  }

  list (as: Identity | undefined, componentId: string, query: WorkerListQuery): { workers: WorkerMetadata[], cursor?: { layer: number, cursor: number } } {
    const record = this.o.components.visible(as, componentId)
    const page: WorkerPage = this.o.rows.list(record.id, query)
    return { workers: page.rows.map((row) => this.metadataOf(row, undefined)), ...(page.cursor !== undefined && { cursor: page.cursor }) }
  }

  async get (as: Identity | undefined, componentId: string, workerName: string): Promise<WorkerMetadata> {
    const row = await this.resolve(as, componentId, workerName, false)
    return this.metadataOf(row, await this.live(row))
  }

  private async live (ref: WorkerRef): Promise<LiveWorker | undefined> {
    const id = this.actorId(ref)
    if (this.sys.stateOf(id) !== 'running') return undefined
    try {
      return await this.sys.ask(id, workerMessages.describe(), { timeoutMs: 5_000 }) as LiveWorker
    } catch {
      return undefined
    }
  }

  private metadataOf (row: WorkerRow, live: LiveWorker | undefined): WorkerMetadata {
    const lastError = live?.lastError ?? row.lastError
    return {
      workerId: { componentId: row.componentId, workerName: row.workerName },
      args: row.args,
      env: row.env,
      status: live?.status ?? row.status,
      componentVersion: live?.componentVersion ?? row.componentVersion,
      retryCount: row.retryCount,
      pendingInvocationCount: live?.pendingInvocationCount ?? this.o.oplogFor(row).pending().length,
      updates: row.updates,
      createdAt: new Date(row.createdAt).toISOString(),
      ...(lastError !== undefined && lastError !== null && { lastError }),
      componentSize: row.componentSize,
      totalLinearMemorySize: live?.memoryBytes ?? 0,
      ownedResources: {},
      activePlugins: row.activePlugins,
    }
  }

  /**
   * Invokes a function. A completed idempotency key answers its stored result (success or error) without running
   * anything; a pending one awaits the same completion; a new one is queued behind the worker's earlier calls.
   * `await` false (Golem's `invoke`) returns once the call is durable.
   */
  async invoke (as: Identity | undefined, componentId: string, workerName: string, fn: string, params: unknown,
    options: { idempotencyKey?: string | undefined, await: boolean }): Promise<InvocationResult | undefined> {
    const key = checkIdempotencyKey(options.idempotencyKey) ?? randomUUID()
    if (!Array.isArray(params)) throw new ColonyError('invalid_params', 'params must be an array (one entry per parameter)')
    const row = await this.resolve(as, componentId, workerName, true)
    const done = this.o.oplogFor(row).completed(key)
    if (done !== undefined) return options.await ? unwrap(done) : undefined
    const message = workerMessages.invoke(fn, params, key, options.await)
    for (let attempt = 0; ; attempt++) {
      const id = await this.activate(row)
      try {
        const out = await this.sys.ask(id, message, { timeoutMs: this.o.settings.callTimeoutMs + ASK_MARGIN_MS }) as InvocationResult | undefined
        return out === undefined ? undefined : unwrap(out)
      } catch (err) {
        // The actor left memory between the spawn and the ask: bring it back once.
        if (attempt === 0 && gone(err)) continue
        throw err
      }
    }
  }

  /** The worker's actor, spawned (and so recovered from the oplog) if it is not in memory. */
  async activate (row: WorkerRow): Promise<string> {
    const id = this.actorId(row)
    if (this.sys.stateOf(id) === 'running') return id
    return await this.lanes.run(id, async () => {
      const state = this.sys.stateOf(id)
      if (state === 'running') return id
      if (state !== undefined) await this.sys.remove(id).catch(() => undefined)
      const info = await this.sys.spawnInternal('worker', {
        id,
        name: this.actorName(row),
        team: row.teamId,
        options: { componentId: row.componentId, workerName: row.workerName },
      })
      if (info.state !== 'running') throw new ColonyError('worker_not_ready', `the worker could not start: ${info.error ?? 'see its alerts'}`)
      return id
    })
  }

  /** Called by an idle worker's actor: it leaves memory unless a call arrived meanwhile. */
  evict (ref: WorkerRef): void {
    const id = this.actorId(ref)
    void this.lanes.run(id, async () => {
      if (this.sys.stateOf(id) === undefined) return
      await this.sys.remove(id)
    }).catch((err: unknown) => this.o.log.warn({ err, worker: ref }, 'an idle worker could not leave memory'))
  }


  async interrupt (as: Identity | undefined, componentId: string, workerName: string, recoverImmediately: boolean): Promise<void> {
    const row = await this.resolve(as, componentId, workerName, false)
    const id = this.actorId(row)
    if (this.sys.stateOf(id) !== 'running') return // not in memory: nothing runs, nothing to stop (Golem: a no-op)
    await this.sys.ask(id, workerMessages.interrupt(recoverImmediately), { timeoutMs: ASK_MARGIN_MS })
  }

  async resume (as: Identity | undefined, componentId: string, workerName: string): Promise<void> {
    const row = await this.resolve(as, componentId, workerName, false)
    if (row.status !== 'Interrupted' && row.status !== 'Suspended' && row.status !== 'Idle' && this.sys.stateOf(this.actorId(row)) !== 'running') {
      throw new ColonyError('worker_not_resumable', `the worker is ${row.status}; only a Suspended, Interrupted or Idle worker can be resumed`)
    }
    const id = await this.activate(row)
    await this.sys.ask(id, workerMessages.resume(), { timeoutMs: ASK_MARGIN_MS })
  }

  async update (as: Identity | undefined, componentId: string, workerName: string, mode: 'Automatic' | 'Manual', targetVersion: number): Promise<void> {
    const row = await this.resolve(as, componentId, workerName, false)
    if (this.o.components.revisionInfo(row.componentId, targetVersion) === undefined) {
      throw new ColonyError('revision_not_found', `component ${componentId} has no version ${targetVersion}`)
    }
    const id = await this.activate(row)
    await this.sys.ask(id, workerMessages.update(mode, targetVersion), { timeoutMs: ASK_MARGIN_MS })
  }

  /** Records a plugin (de)activation in the worker's oplog and row. */
  async plugin (as: Identity | undefined, componentId: string, workerName: string, activate: boolean, plugin: PluginInstallation): Promise<void> {
    const row = await this.resolve(as, componentId, workerName, false)
    const id = await this.activate(row)
    const current = this.o.rows.get(row.componentId, row.workerName)?.activePlugins ?? []
    const active = activate
      ? [...current.filter((i) => i !== plugin.installationId), plugin.installationId]
      : current.filter((i) => i !== plugin.installationId)
    // Active first, so an activation's own entry already reaches the processor (and a deactivation's too).
    if (activate) this.withPlugins.set(id, active)
    await this.sys.ask(id, workerMessages.plugin(activate, plugin), { timeoutMs: ASK_MARGIN_MS })
    this.o.rows.update(row.componentId, row.workerName, { activePlugins: active })
    if (active.length === 0) this.withPlugins.delete(id)
    else this.withPlugins.set(id, active)
  }

  async oplog (as: Identity | undefined, componentId: string, workerName: string, query: OplogPageQuery): Promise<OplogPage> {
    const row = await this.resolve(as, componentId, workerName, false)
    return this.o.rows.oplogPage(row, query)
  }

  /** The worker's event stream key, after checking the caller may see it. */
  async connect (as: Identity | undefined, componentId: string, workerName: string): Promise<string> {
    const row = await this.resolve(as, componentId, workerName, false)
    return this.actorId(row)
  }

  /** Golem's deleteWorker: interrupts it, then its row, oplog, keys and snapshots go. */
  async delete (as: Identity | undefined, componentId: string, workerName: string): Promise<void> {
    const row = await this.resolve(as, componentId, workerName, false)
    const id = this.actorId(row)
    await this.lanes.run(id, async () => {
      if (this.sys.stateOf(id) !== undefined) await this.sys.remove(id)
      this.o.rows.delete(row.componentId, row.workerName)
    })
    this.byActorId.delete(id)
    this.withPlugins.delete(id)
    this.events.forget(id)
  }

  /** A deleted component's workers go with it. */
  async removeComponent (componentId: string): Promise<void> {
    for (const row of this.o.rows.ofComponent(componentId)) {
      const id = this.actorId(row)
      await this.lanes.run(id, async () => {
        if (this.sys.stateOf(id) !== undefined) await this.sys.remove(id).catch(() => undefined)
        this.o.rows.delete(row.componentId, row.workerName)
      })
      this.byActorId.delete(id)
      this.withPlugins.delete(id)
      this.events.forget(id)
    }
  }

  /**
   * Start-up: workers that were mid-way through acknowledged work (fire-and-forget calls not run yet) come back
   * into memory now and finish it; every other worker waits for its first call.
   */
  async restore (): Promise<number> {
    let restored = 0
    for (const row of this.o.rows.withPendingInvocations()) {
      try {
        await this.activate(row)
        restored++
      } catch (err) {
        this.o.log.warn({ err: toColonyError(err).message, worker: { componentId: row.componentId, workerName: row.workerName } },
          'a worker with pending invocations could not be recovered')
      }
    }
    return restored
  }
}

function digest (ref: WorkerRef): string {
  return createHash('sha256').update(`${ref.componentId}\0${ref.workerName}`).digest('hex')
}

/** A stored failure is answered as the error it was. */
function unwrap (r: InvocationResult): InvocationResult {
  if (r.ok) return r
  throw new ColonyError(r.error.code as ConstructorParameters<typeof ColonyError>[0], r.error.message)
}

function gone (err: unknown): boolean {
  const code = (err as { code?: string })?.code
  return code === 'actor_not_found' || code === 'actor_invalid_state' || code === 'worker_not_ready'
}
