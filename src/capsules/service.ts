/**
 * Wrenn capsules on this host: every door (REST, chat, the capsule actors) goes through this service. The store
 * row is the truth for what exists and its status; the driver's sandbox is what runs. Lifecycle, as Wrenn's and
 * docs/capsules.md decide it for a namespace sandbox:
 *
 *   running ⇄ paused (cgroup freezer: memory kept, no CPU)
 *   running | paused → hibernated (processes stopped, files kept) → running (resume: processes start again)
 *   any → destroyed (the row and every file go)
 *   a capsule whose processes vanished under it → missing; one that could not start → error (with a reason)
 *
 * `timeout_sec` > 0 pauses a running capsule after that long without activity (exec, ping, PTY); the reaper runs
 * on the injected clock. Exec on a paused or hibernated capsule is refused with 409 `capsule_not_running`.
 */
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { dirname, join } from 'node:path'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { ColonyError, toColonyError } from '../errors.js'
import { Lanes } from '../lanes.js'
import type { Clock, TimerHandle } from '../clock.js'
import type { Logger } from '../log.js'
import type { SystemApi } from '../actor/types.js'
import type { EventActor, WrennEvent } from '../wire/events.js'
import type { CapsuleRecord, CapsuleStatus, Store } from '../store/index.js'
import type { CapsuleDriver, CapsuleProcess, CapsuleSandbox, CapsuleSpec, ExecResult } from './driver.js'
import { PtySessions } from './pty-sessions.js'
import { statsRange, TEAM_SAMPLE_MS, TeamHistory, type TeamPeaks, type TeamSeries } from './team-stats.js'
import { CapsuleMetrics, cpuPercent, metricRange, metricsResponse, type CpuReading, type MetricsSnapshot, type WireMetricPoint } from './metrics.js'

/**
 * Who asks: a team (`undefined` for the host itself and platform admins see everything), and who did it, as Wrenn's
 * events name them (default: the system).
 */
export interface CapsuleCaller { teamId: string | null, isAdmin: boolean, actor?: EventActor }

/** Publishes one of Wrenn's events for the team's notification channels (see wire/events.ts). */
export type CapsuleNotify = (event: WrennEvent, teamId: string | null, actor: EventActor, resource: { id: string, type: 'capsule' | 'template' }) => void

export interface CreateCapsule {
  template?: string
  vcpus?: number
  memory_mb?: number
  timeout_sec?: number
  network?: boolean
  envs?: Record<string, string>
}

/** A wasmrun session on top of a capsule: its id, idle timeout and limits. */
export interface SessionSpec { id: string, idleTimeoutSec: number, maxOutputBytes: number, maxFileBytes: number }

/** What the row's spec holds. */
export interface StoredSpec {
  template: string
  vcpus: number
  memoryMb: number
  timeoutSec: number
  network: boolean
  env: Record<string, string>
  layers: string[]
  session?: SessionSpec
}

/** Wrenn's Capsule response. */
export interface CapsuleView {
  id: string
  status: CapsuleStatus
  template: string
  vcpus: number
  memory_mb: number
  timeout_sec: number
  network: boolean
  created_at: string
  started_at?: string
  last_active_at?: string
  last_updated: string
  reason?: string
}

export interface ExecView {
  sandbox_id: string
  cmd: string
  stdout: string
  stderr: string
  exit_code: number
  duration_ms: number
  encoding: 'utf-8' | 'base64'
  timed_out: boolean
  truncated: boolean
}

export type CapsuleEvent =
  | { type: 'status', id: string, status: CapsuleStatus, reason?: string }
  | { type: 'oom', id: string }
  | { type: 'exec-timeout', id: string, cmd: string }
  | { type: 'destroyed', id: string }

/** Wrenn's Template (a snapshot, or the built-in base). */
export interface TemplateView {
  name: string
  type: 'base' | 'snapshot'
  vcpus: number
  memory_mb: number
  size_bytes: number
  created_at: string
}

/** Wrenn's names for templates, snapshots and channels. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/
const BASE_TEMPLATE = 'minimal'

/** Wrenn's defaults: 1 vCPU, 512 MiB, no auto-pause. */
const DEFAULTS = { vcpus: 1, memoryMb: 512, timeoutSec: 0 }
const LIMITS = { vcpus: 16, memoryMb: 65_536, timeoutSec: 30 * 86_400 }
/** A fork bomb stops here. */
const PIDS_MAX = 256
/** Wrenn's foreground exec default. */
export const DEFAULT_EXEC_TIMEOUT_SEC = 30
/** Each of stdout and stderr is cut here. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024
/** Wrenn's reaper tick. */
const REAP_EVERY_MS = 2000
/** Wrenn's metrics sampler: every 500 ms per running capsule. */
const SAMPLE_EVERY_MS = 500

export function newCapsuleId (): string {
  // Wrenn: the prefix and 25 base-36 characters of a UUIDv4.
  const n = BigInt(`0x${randomUUID().replace(/-/g, '')}`)
  return `cl-${n.toString(36).padStart(25, '0').slice(-25)}`
}

export class CapsuleService {
  /** One listener per capsule actor, by design: no leak warning at 11. */
  readonly events = new EventEmitter<{ event: [CapsuleEvent] }>().setMaxListeners(0)
  /** Terminal sessions, which outlive the WebSocket that started them. */
  readonly ptys = new PtySessions()
  private readonly sandboxes = new Map<string, CapsuleSandbox>()
  /** Lifecycle changes of one capsule never overlap. */
  private readonly lanes = new Lanes()
  /** Set once the reaper is scheduled (the clock's handle type is opaque). */
  private reaper: { handle: TimerHandle } | undefined
  private closed = false
  private system: SystemApi | undefined
  /** Each capsule's metric tiers (kept while paused or hibernated, and across restarts) and its last CPU reading. */
  private readonly metrics = new Map<string, CapsuleMetrics>()
  private readonly lastCpu = new Map<string, CpuReading>()
  private sampler: { handle: TimerHandle } | undefined
  private teamSampler: { handle: TimerHandle } | undefined
  /** Team stats over time, by team id ('' for the host's own capsules). */
  private readonly teams = new Map<string, TeamHistory>()
  /** Last activity per capsule, and which of those the row does not have yet. */
  private readonly activity = new Map<string, number>()
  private readonly dirtyActivity = new Set<string>()
  /** Background processes by capsule and tag. */
  private readonly backgrounds = new Map<string, Map<string, CapsuleProcess>>()
  private readonly commands = new WeakMap<CapsuleProcess, { cmd: string, args: string[] }>()
  private sampling = false

  constructor (private readonly o: { store: Store, driver: CapsuleDriver, dir: string, clock: Clock, log: Logger, notify?: CapsuleNotify }) {
    o.driver.events.on('oom', (id) => this.emit({ type: 'oom', id }))
    o.driver.events.on('vanished', (id) => {
      if (!this.sandboxes.has(id)) return
      this.sandboxes.delete(id)
      this.ptys.forget(id)
      this.setStatus(id, 'missing', 'its processes vanished')
    })
  }

  /** The actor system the capsules' actors live in (created after the services). */
  bind (system: SystemApi): void {
    this.system = system
  }

  /** Each capsule is an actor (agentType `capsule`), named by its id. */
  private async spawnActor (id: string, teamId: string | null): Promise<void> {
    if (this.system === undefined || this.system.stateOf(id) !== undefined) return
    await this.system.spawnInternal('capsule', { id, name: id, team: teamId, options: { capsuleId: id, teamId } })
      .catch((err: unknown) => this.o.log.warn({ err: toColonyError(err).message, capsule: id }, 'the capsule\'s actor could not start'))
  }

  get driverName (): string {
    return this.o.driver.name
  }

  private emit (e: CapsuleEvent): void {
    this.events.emit('event', e)
  }

  /** Wrenn's event for the capsule's (or template's) team; a channel never slows or fails the operation. */
  private publish (event: WrennEvent, as: CapsuleCaller, teamId: string | null, id: string, type: 'capsule' | 'template' = 'capsule'): void {
    try {
      this.o.notify?.(event, teamId, as.actor ?? { type: 'system' }, { id, type })
    } catch (err) {
      this.o.log.warn({ err: toColonyError(err).message, event }, 'a platform event could not be published')
    }
  }

  private now (): number {
    return this.o.clock.now()
  }

  spec (row: CapsuleRecord): StoredSpec {
    return JSON.parse(row.spec) as StoredSpec
  }

  private sandboxSpec (id: string, s: StoredSpec): CapsuleSpec {
    return { id, dir: join(this.o.dir, id), layers: s.layers, memoryMb: s.memoryMb, vcpus: s.vcpus, pidsMax: PIDS_MAX, network: s.network, env: s.env }
  }

  view (row: CapsuleRecord): CapsuleView {
    const s = this.spec(row)
    const iso = (ms: number | null): string | undefined => ms === null ? undefined : new Date(ms).toISOString()
    return {
      id: row.id,
      status: row.status,
      template: s.template,
      vcpus: s.vcpus,
      memory_mb: s.memoryMb,
      timeout_sec: s.timeoutSec,
      network: s.network,
      created_at: new Date(row.createdAtMs).toISOString(),
      ...(row.startedAtMs !== null && { started_at: iso(row.startedAtMs) }),
      ...(this.lastActive(row) !== null && { last_active_at: iso(this.lastActive(row)) }),
      last_updated: new Date(row.lastUpdatedMs).toISOString(),
      ...(row.reason !== null && { reason: row.reason }),
    }
  }

  /** The caller's capsule, or 404 (another team's capsule does not exist for it). */
  row (as: CapsuleCaller, id: string): CapsuleRecord {
    const row = this.o.store.capsules.get(id)
    if (row === undefined || (!as.isAdmin && row.teamId !== as.teamId)) throw new ColonyError('capsule_not_found', `no capsule ${id.slice(0, 64)}`)
    return row
  }

  list (as: CapsuleCaller): CapsuleView[] {
    return this.o.store.capsules.all().filter((r) => as.isAdmin || r.teamId === as.teamId).map((r) => this.view(r))
  }

  get (as: CapsuleCaller, id: string): CapsuleView {
    return this.view(this.row(as, id))
  }

  private setStatus (id: string, status: CapsuleStatus, reason?: string, extra: { startedAtMs?: number, lastActiveAtMs?: number } = {}): void {
    if (this.closed || this.o.store.capsules.get(id) === undefined) return
    if (extra.lastActiveAtMs !== undefined) this.activity.set(id, extra.lastActiveAtMs)
    this.o.store.capsules.update(id, { status, reason: reason ?? null, ...extra }, this.now())
    this.emit({ type: 'status', id, status, ...(reason !== undefined && { reason }) })
  }


  /** Wrenn's create: the row is written `pending`, the sandbox starts, then `running` (or `error` with the reason). */
  async create (as: CapsuleCaller, body: CreateCapsule, session?: SessionSpec): Promise<CapsuleView> {
    const template = body.template ?? BASE_TEMPLATE
    const layers: string[] = []
    let fromSnapshot: { vcpus: number, memoryMb: number } | undefined
    if (template !== BASE_TEMPLATE) {
      const snap = this.o.store.capsules.snapshotNamed(as.teamId, template)
      if (snap === undefined) throw new ColonyError('template_not_found', `no template or snapshot named ${template.slice(0, 64)}`)
      const snapSpec = JSON.parse(snap.spec) as { vcpus: number, memoryMb: number, layers: string[] }
      layers.push(join(this.o.dir, 'snapshots', snap.id), ...snapSpec.layers)
      fromSnapshot = snapSpec
    }
    const spec: StoredSpec = {
      template,
      // Wrenn: a snapshot template brings its own vcpus and memory.
      vcpus: fromSnapshot?.vcpus ?? positive(body.vcpus, DEFAULTS.vcpus, LIMITS.vcpus, 'vcpus'),
      memoryMb: fromSnapshot?.memoryMb ?? positive(body.memory_mb, DEFAULTS.memoryMb, LIMITS.memoryMb, 'memory_mb'),
      timeoutSec: Math.max(0, Math.min(LIMITS.timeoutSec, Math.floor(body.timeout_sec ?? DEFAULTS.timeoutSec))),
      network: body.network ?? false,
      env: body.envs ?? {},
      layers,
      ...(session !== undefined && { session }),
    }
    await this.o.driver.check({ network: spec.network })
    const id = newCapsuleId()
    const now = this.now()
    this.o.store.capsules.insert({
      id, teamId: as.teamId, status: 'pending', spec: JSON.stringify(spec), reason: null, createdAtMs: now, startedAtMs: null, lastActiveAtMs: null, lastUpdatedMs: now,
    })
    try {
      const sandbox = await this.lanes.run(id, () => this.o.driver.create(this.sandboxSpec(id, spec)))
      this.sandboxes.set(id, sandbox)
      const at = this.now()
      this.setStatus(id, 'running', undefined, { startedAtMs: at, lastActiveAtMs: at })
      this.publish('capsule.created', as, as.teamId, id)
      // The answer does not wait for the actor (it only reports the capsule); spawnActor logs its own failure.
      void this.spawnActor(id, as.teamId)
    } catch (err) {
      const e = toColonyError(err)
      this.setStatus(id, 'error', e.message)
      throw new ColonyError('capsule_start_failed', `the capsule could not start: ${e.message}`, { cause: err, details: { id } })
    }
    return this.get(as, id)
  }

  private sandbox (row: CapsuleRecord): CapsuleSandbox {
    const sandbox = this.sandboxes.get(row.id)
    if (row.status !== 'running' || sandbox === undefined) {
      throw new ColonyError('capsule_not_running', `the capsule is ${row.status}; resume it first`, { details: { status: row.status } })
    }
    return sandbox
  }

  /** Activity (exec, ping, PTY input): the inactivity TTL starts again. */
  touch (id: string): void {
    // In memory: an exec must not wait for an fsync to note it ran. The reaper writes it down every 2 s (and close()).
    this.activity.set(id, this.now())
    this.dirtyActivity.add(id)
  }

  /** When the capsule was last used (the in-memory note wins over the row, which lags up to one reaper tick). */
  lastActive (row: CapsuleRecord): number | null {
    const mem = this.activity.get(row.id)
    if (mem === undefined) return row.lastActiveAtMs
    return row.lastActiveAtMs === null ? mem : Math.max(mem, row.lastActiveAtMs)
  }

  private flushActivity (): void {
    for (const id of this.dirtyActivity) {
      const at = this.activity.get(id)
      if (at !== undefined && this.o.store.capsules.get(id) !== undefined) this.o.store.capsules.update(id, { lastActiveAtMs: at }, this.now())
    }
    this.dirtyActivity.clear()
  }

  async destroy (as: CapsuleCaller, id: string): Promise<void> {
    const row = this.row(as, id)
    await this.lanes.run(row.id, async () => {
      const sandbox = this.sandboxes.get(row.id) ?? await this.o.driver.reopen(this.sandboxSpec(row.id, this.spec(row))).catch(() => undefined)
      this.sandboxes.delete(row.id)
      await sandbox?.destroy()
      this.ptys.forget(row.id)
      this.o.store.capsules.remove(row.id)
      this.metrics.delete(row.id)
      this.activity.delete(row.id)
      this.dirtyActivity.delete(row.id)
      this.lastCpu.delete(row.id)
      await rm(this.metricsFile(row.id), { force: true })
    })
    if (this.system?.stateOf(row.id) !== undefined) await this.system?.remove(row.id).catch(() => undefined)
    this.emit({ type: 'destroyed', id: row.id })
    this.publish('capsule.destroyed', as, row.teamId, row.id)
  }

  async pause (as: CapsuleCaller, id: string): Promise<CapsuleView> {
    const row = this.row(as, id)
    await this.lanes.run(row.id, async () => {
      const current = this.o.store.capsules.get(row.id) as CapsuleRecord
      if (current.status !== 'running') throw new ColonyError('capsule_invalid_state', `the capsule is ${current.status}, not running`)
      await this.sandbox(current).pause()
      this.setStatus(row.id, 'paused')
    })
    this.publish('capsule.paused', as, row.teamId, row.id)
    return this.get(as, id)
  }

  async hibernate (as: CapsuleCaller, id: string): Promise<CapsuleView> {
    const row = this.row(as, id)
    await this.lanes.run(row.id, async () => {
      const current = this.o.store.capsules.get(row.id) as CapsuleRecord
      if (current.status !== 'running' && current.status !== 'paused') throw new ColonyError('capsule_invalid_state', `the capsule is ${current.status}, not running or paused`)
      await this.sandboxes.get(row.id)?.hibernate()
      this.ptys.forget(row.id)
      this.setStatus(row.id, 'hibernated')
    })
    // Wrenn has no hibernation: to a channel it is a pause (the capsule stops running until resumed).
    this.publish('capsule.paused', as, row.teamId, row.id)
    return this.get(as, id)
  }

  /** From paused (thaw), hibernated or missing (processes start again, files kept). */
  async resume (as: CapsuleCaller, id: string): Promise<CapsuleView> {
    const row = this.row(as, id)
    await this.lanes.run(row.id, async () => {
      const current = this.o.store.capsules.get(row.id) as CapsuleRecord
      if (current.status === 'running') throw new ColonyError('capsule_invalid_state', 'the capsule is already running')
      if (current.status === 'pending' || current.status === 'error') throw new ColonyError('capsule_invalid_state', `the capsule is ${current.status}`)
      let sandbox = this.sandboxes.get(row.id)
      if (sandbox === undefined) {
        sandbox = await this.o.driver.reopen(this.sandboxSpec(row.id, this.spec(current)))
        this.sandboxes.set(row.id, sandbox)
      }
      await sandbox.resume()
      const at = this.now()
      this.setStatus(row.id, 'running', undefined, { startedAtMs: at, lastActiveAtMs: at })
    })
    // Wrenn: capsule.running only on resume (a create is capsule.created).
    this.publish('capsule.running', as, row.teamId, row.id)
    return this.get(as, id)
  }

  ping (as: CapsuleCaller, id: string): void {
    const row = this.row(as, id)
    if (row.status !== 'running') throw new ColonyError('capsule_not_running', `the capsule is ${row.status}`, { details: { status: row.status } })
    this.touch(row.id)
  }

  /** Wrenn's foreground exec: argv (no shell), the whole process tree killed at the timeout. */
  async exec (as: CapsuleCaller, id: string, req: { cmd: string, args?: string[], envs?: Record<string, string>, cwd?: string, timeout_sec?: number, stdin?: Buffer }): Promise<ExecView> {
    const row = this.row(as, id)
    const sandbox = this.sandbox(row)
    this.touch(row.id)
    const timeoutSec = Math.min(3600, Math.max(1, req.timeout_sec ?? DEFAULT_EXEC_TIMEOUT_SEC))
    const out: ExecResult = await sandbox.exec({
      cmd: req.cmd,
      args: req.args ?? [],
      ...(req.envs !== undefined && { env: req.envs }),
      ...(req.cwd !== undefined && req.cwd !== '' && { cwd: req.cwd }),
      ...(req.stdin !== undefined && { stdin: req.stdin }),
      timeoutMs: timeoutSec * 1000,
      maxOutputBytes: MAX_OUTPUT_BYTES,
    })
    this.touch(row.id)
    if (out.timedOut) this.emit({ type: 'exec-timeout', id: row.id, cmd: req.cmd })
    return execView(row.id, req.cmd, out)
  }

  /**
   * Wrenn's snapshot: the capsule (running or paused) is paused and stays paused; its writable layer is copied
   * under the name, usable as `template` on create (its vcpus and memory come with it).
   */
  async snapshot (as: CapsuleCaller, body: { sandbox_id: string, name?: string }): Promise<TemplateView> {
    const row = this.row(as, body.sandbox_id)
    const name = body.name ?? `template-${randomUUID().slice(0, 8)}`
    if (!NAME.test(name)) throw new ColonyError('invalid_body', 'name must match ^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$', { details: { field: 'name' } })
    if (name === BASE_TEMPLATE) throw new ColonyError('name_reserved', `${name} is the built-in template`)
    if (this.o.store.capsules.snapshotNamed(as.teamId, name) !== undefined) throw new ColonyError('template_name_taken', `the team already has a template named ${name}`)
    if (row.status === 'running') await this.pause(as, row.id)
    const current = this.row(as, row.id)
    if (current.status !== 'paused') throw new ColonyError('capsule_invalid_state', `the capsule is ${current.status}, not running or paused`)
    const spec = this.spec(current)
    const sandbox = this.sandboxes.get(row.id)
    const upper = sandbox?.upperDir
    if (upper === undefined) throw new ColonyError('capsule_invalid_state', 'the capsule has no writable layer to copy')
    const id = randomUUID()
    const target = join(this.o.dir, 'snapshots', id)
    await copyLayer(upper, target)
    const size = await diskUsage(target)
    const created = this.now()
    this.o.store.capsules.insertSnapshot({
      id, teamId: as.teamId, name, sizeBytes: size, createdAtMs: created,
      // The layers below the copy come along: a snapshot of a capsule made from a template stacks on it.
      spec: JSON.stringify({ vcpus: spec.vcpus, memoryMb: spec.memoryMb, network: spec.network, env: spec.env, layers: spec.layers }),
    })
    this.publish('template.snapshot.created', as, as.teamId, name, 'template')
    return { name, type: 'snapshot', vcpus: spec.vcpus, memory_mb: spec.memoryMb, size_bytes: size, created_at: new Date(created).toISOString() }
  }

  templates (as: CapsuleCaller, type?: 'base' | 'snapshot'): TemplateView[] {
    const base: TemplateView = { name: BASE_TEMPLATE, type: 'base', vcpus: DEFAULTS.vcpus, memory_mb: DEFAULTS.memoryMb, size_bytes: 0, created_at: new Date(0).toISOString() }
    const snaps = this.o.store.capsules.snapshots().filter((s) => s.teamId === as.teamId).map((s): TemplateView => {
      const spec = JSON.parse(s.spec) as { vcpus: number, memoryMb: number }
      return { name: s.name, type: 'snapshot', vcpus: spec.vcpus, memory_mb: spec.memoryMb, size_bytes: s.sizeBytes, created_at: new Date(s.createdAtMs).toISOString() }
    })
    return [...(type !== 'snapshot' ? [base] : []), ...(type !== 'base' ? snaps : [])]
  }

  async deleteSnapshot (as: CapsuleCaller, name: string): Promise<void> {
    const snap = this.o.store.capsules.snapshotNamed(as.teamId, name)
    if (snap === undefined) throw new ColonyError('template_not_found', `no snapshot named ${name.slice(0, 64)}`)
    const dir = join(this.o.dir, 'snapshots', snap.id)
    const users = this.o.store.capsules.all().filter((c) => this.spec(c).layers.includes(dir))
    if (users.length > 0) throw new ColonyError('template_in_use', `capsules still run on ${name}: ${users.map((c) => c.id).slice(0, 5).join(', ')}`)
    this.o.store.capsules.removeSnapshot(snap.id)
    await rm(dir, { recursive: true, force: true })
    this.publish('template.snapshot.deleted', as, as.teamId, name, 'template')
  }

  /** Every capsule row (the session layer finds its sessions among them). */
  rows (): CapsuleRecord[] {
    return this.o.store.capsules.all()
  }

  setEnv (id: string, env: Record<string, string>): void {
    const row = this.o.store.capsules.get(id)
    if (row === undefined) return
    this.o.store.capsules.updateSpec(id, JSON.stringify({ ...this.spec(row), env }), this.now())
  }

  /**
   * Wrenn's background exec: the process runs on after the answer (until it exits, the capsule stops, or it is
   * killed), under a tag (`proc-` + 8 hex unless given).
   */
  background (as: CapsuleCaller, id: string, req: { cmd: string, args?: string[], envs?: Record<string, string>, cwd?: string, tag?: string }): { sandbox_id: string, cmd: string, pid: number, tag: string } {
    const row = this.row(as, id)
    const sandbox = this.sandbox(row)
    this.touch(row.id)
    const tag = req.tag ?? `proc-${randomUUID().replace(/-/g, '').slice(0, 8)}`
    const procs = this.backgrounds.get(row.id) ?? new Map<string, CapsuleProcess>()
    if (procs.has(tag)) throw new ColonyError('invalid_body', `a background process with tag ${tag} is running`, { details: { field: 'tag' } })
    const proc = sandbox.spawn({
      cmd: req.cmd,
      args: req.args ?? [],
      ...(req.envs !== undefined && { env: req.envs }),
      ...(req.cwd !== undefined && req.cwd !== '' && { cwd: req.cwd }),
    })
    procs.set(tag, proc)
    this.commands.set(proc, { cmd: req.cmd, args: req.args ?? [] })
    this.backgrounds.set(row.id, procs)
    proc.on('exit', () => { procs.delete(tag) })
    return { sandbox_id: row.id, cmd: req.cmd, pid: proc.pid, tag }
  }

  /** Wrenn's process list: the capsule's background processes (host-side pids of their handles, with their tags). */
  processes (as: CapsuleCaller, id: string): { processes: Array<{ pid: number, tag: string, cmd: string, args: string[] }> } {
    const row = this.row(as, id)
    this.touch(row.id)
    const procs = this.backgrounds.get(row.id) ?? new Map<string, CapsuleProcess>()
    return { processes: [...procs.entries()].map(([tag, p]) => ({ pid: p.pid, tag, cmd: this.commands.get(p)?.cmd ?? '', args: this.commands.get(p)?.args ?? [] })) }
  }

  /** Wrenn's kill: a selector that is all digits is a pid, anything else a tag; SIGKILL unless SIGTERM is asked. */
  killProcess (as: CapsuleCaller, id: string, selector: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): void {
    const row = this.row(as, id)
    this.touch(row.id)
    const procs = this.backgrounds.get(row.id) ?? new Map<string, CapsuleProcess>()
    const found = /^\d+$/.test(selector) ? [...procs.values()].find((p) => p.pid === Number(selector)) : procs.get(selector)
    if (found === undefined) throw new ColonyError('process_not_found', `no background process ${selector.slice(0, 64)} in this capsule`)
    found.kill(signal)
  }

  /** The running sandbox of a capsule the caller may use (files, PTY and streams work on it). */
  running (as: CapsuleCaller, id: string): CapsuleSandbox {
    return this.sandbox(this.row(as, id))
  }

  /**
   * Start-up: every capsule's files survived; running ones start their processes again, paused ones come back
   * hibernated (a frozen process does not survive a restart of Colony), and one that cannot is `error` with why.
   */
  async restore (): Promise<void> {
    for (const row of this.o.store.capsules.all()) {
      await this.spawnActor(row.id, row.teamId)
      await this.loadMetrics(row.id)
      if (row.status === 'error') continue
      if (row.status === 'pending') {
        // Colony stopped while it was starting: it never answered, so nothing of it was acknowledged but the row.
        this.setStatus(row.id, 'error', 'Colony stopped while the capsule was starting')
        continue
      }
      try {
        const sandbox = await this.o.driver.reopen(this.sandboxSpec(row.id, this.spec(row)))
        this.sandboxes.set(row.id, sandbox)
        if (row.status === 'running' || row.status === 'missing') {
          await sandbox.resume()
          const at = this.now()
          this.setStatus(row.id, 'running', undefined, { startedAtMs: at, lastActiveAtMs: at })
        } else if (row.status === 'paused') {
          this.setStatus(row.id, 'hibernated', 'Colony restarted while it was paused: its processes stopped, its files were kept')
        }
      } catch (err) {
        this.setStatus(row.id, 'error', `could not be restored: ${toColonyError(err).message}`)
      }
    }
    this.scheduleReaper()
    this.scheduleSampler()
    this.scheduleTeamSampler()
  }

  private scheduleSampler (): void {
    if (this.closed) return
    this.sampler = { handle: this.o.clock.setTimeout(() => { void this.sample().finally(() => this.scheduleSampler()) }, SAMPLE_EVERY_MS) }
  }

  /** One sample of every running capsule: CPU share since the last one, memory, disk. */
  async sample (): Promise<void> {
    if (this.sampling) return
    this.sampling = true
    try {
      for (const [id, sandbox] of this.sandboxes) {
        const row = this.o.store.capsules.get(id)
        if (row === undefined || row.status !== 'running') continue
        const stats = await sandbox.stats().catch(() => undefined)
        if (stats === undefined) continue
        const now = this.now()
        const reading = { atMs: now, cpuNs: stats.cpuNs }
        const previous = this.lastCpu.get(id)
        this.lastCpu.set(id, reading)
        if (previous === undefined) continue
        this.metricsOf(id).push({ timestampMs: now, cpuPct: cpuPercent(previous, reading, this.spec(row).vcpus), memoryBytes: stats.memoryBytes, diskBytes: stats.diskBytes })
      }
    } finally {
      this.sampling = false
    }
  }

  private metricsOf (id: string): CapsuleMetrics {
    let m = this.metrics.get(id)
    if (m === undefined) {
      m = new CapsuleMetrics()
      this.metrics.set(id, m)
    }
    return m
  }

  /** Wrenn's `GET /v1/capsules/{id}/metrics?range=`: running or paused capsules (their history is kept while paused). */
  metricsFor (as: CapsuleCaller, id: string, range: string | undefined): { sandbox_id: string, range: string, points: WireMetricPoint[] } {
    const row = this.row(as, id)
    const r = metricRange(range)
    return metricsResponse(row.id, r, this.metricsOf(row.id).range(r, row.status === 'running' ? this.now() : undefined))
  }

  /** What a team's capsules reserve now: running ones their vCPUs and memory, paused ones half their memory (Wrenn). */
  private current (teamId: string | null, all: boolean): { running_count: number, paused_count: number, vcpus_reserved: number, memory_mb_reserved: number } {
    const now = { running_count: 0, paused_count: 0, vcpus_reserved: 0, memory_mb_reserved: 0 }
    for (const row of this.o.store.capsules.all()) {
      if (!all && row.teamId !== teamId) continue
      const s = this.spec(row)
      if (row.status === 'running' || row.status === 'pending') {
        now.running_count++
        now.vcpus_reserved += s.vcpus
        now.memory_mb_reserved += s.memoryMb
      } else if (row.status === 'paused') {
        now.paused_count++
        now.memory_mb_reserved += Math.ceil(s.memoryMb / 2)
      }
    }
    return now
  }

  /** Wrenn's `/v1/capsules/stats`: `current`, `peaks` over 30 days, `series` (MAX per bucket), and each capsule's latest sample. */
  teamStats (as: CapsuleCaller, range?: string): {
    current: { running_count: number, paused_count: number, vcpus_reserved: number, memory_mb_reserved: number }
    peaks: TeamPeaks
    series: TeamSeries
    capsules: Array<{ id: string, status: CapsuleStatus, cpu_pct: number, mem_bytes: number, disk_bytes: number }>
  } {
    const r = statsRange(range)
    const history = this.teams.get(as.teamId ?? '') ?? new TeamHistory()
    const capsules: Array<{ id: string, status: CapsuleStatus, cpu_pct: number, mem_bytes: number, disk_bytes: number }> = []
    for (const row of this.o.store.capsules.all()) {
      if (!as.isAdmin && row.teamId !== as.teamId) continue
      const last = this.metrics.get(row.id)?.tier('10m').at(-1)
      capsules.push({ id: row.id, status: row.status, cpu_pct: last?.cpuPct ?? 0, mem_bytes: last?.memoryBytes ?? 0, disk_bytes: last?.diskBytes ?? 0 })
    }
    return { current: this.current(as.teamId, as.isAdmin), peaks: history.peaks(this.now()), series: history.series(r, this.now()), capsules }
  }

  /** Every 10 s: each team's running count and reservations, zeros included once a team had capsules. */
  sampleTeams (): void {
    const now = this.now()
    for (const row of this.o.store.capsules.all()) {
      if (!this.teams.has(row.teamId ?? '')) this.teams.set(row.teamId ?? '', new TeamHistory())
    }
    for (const [key, history] of this.teams) {
      const c = this.current(key === '' ? null : key, false)
      history.add({ atMs: now, running: c.running_count, vcpus: c.vcpus_reserved, memoryMb: c.memory_mb_reserved })
    }
  }

  private scheduleTeamSampler (): void {
    if (this.closed) return
    this.teamSampler = { handle: this.o.clock.setTimeout(() => { this.sampleTeams(); this.scheduleTeamSampler() }, TEAM_SAMPLE_MS) }
  }

  /** Every capsule's latest sample, for Prometheus. */
  latestSamples (): Array<{ id: string, cpuPct: number, memoryBytes: number, diskBytes: number }> {
    const out: Array<{ id: string, cpuPct: number, memoryBytes: number, diskBytes: number }> = []
    for (const [id, m] of this.metrics) {
      const last = m.tier('10m').at(-1)
      if (last !== undefined) out.push({ id, cpuPct: last.cpuPct, memoryBytes: last.memoryBytes, diskBytes: last.diskBytes })
    }
    return out
  }

  countByStatus (): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const row of this.o.store.capsules.all()) counts[row.status] = (counts[row.status] ?? 0) + 1
    return counts
  }

  private metricsFile (id: string): string {
    return join(this.o.dir, 'metrics', `${id}.json`)
  }

  private async saveMetrics (id: string): Promise<void> {
    const m = this.metrics.get(id)
    if (m === undefined) return
    await mkdir(join(this.o.dir, 'metrics'), { recursive: true })
    await writeFile(this.metricsFile(id), JSON.stringify(m.toJSON()))
  }

  private async loadMetrics (id: string): Promise<void> {
    try {
      const snapshot = JSON.parse(await readFile(this.metricsFile(id), 'utf8')) as MetricsSnapshot
      this.metrics.set(id, CapsuleMetrics.fromJSON(snapshot))
    } catch {
      // none kept (or unreadable): the history starts again
    }
  }

  private scheduleReaper (): void {
    if (this.closed) return
    this.reaper = { handle: this.o.clock.setTimeout(() => { void this.reap().finally(() => this.scheduleReaper()) }, REAP_EVERY_MS) }
  }

  /** Wrenn's reaper: a running capsule idle for longer than its timeout_sec is paused. */
  async reap (): Promise<void> {
    this.flushActivity()
    const now = this.now()
    for (const row of this.o.store.capsules.all()) {
      const s = this.spec(row)
      const last = this.lastActive(row)
      if (row.status !== 'running' || s.timeoutSec <= 0 || last === null) continue
      if (now - last <= s.timeoutSec * 1000) continue
      await this.pause({ teamId: row.teamId, isAdmin: true }, row.id).catch((err: unknown) => {
        this.o.log.warn({ err: toColonyError(err).message, capsule: row.id }, 'auto-pause failed')
      })
    }
  }

  /** Shutdown: processes stop (the files stay; the next start brings running capsules back). */
  async close (): Promise<void> {
    this.closed = true
    if (this.reaper !== undefined) this.o.clock.clearTimeout(this.reaper.handle)
    if (this.sampler !== undefined) this.o.clock.clearTimeout(this.sampler.handle)
    if (this.teamSampler !== undefined) this.o.clock.clearTimeout(this.teamSampler.handle)
    this.flushActivity()
    for (const id of this.metrics.keys()) await this.saveMetrics(id).catch(() => undefined)
    for (const [id, sandbox] of this.sandboxes) {
      await this.lanes.run(id, () => sandbox.hibernate()).catch((err: unknown) => this.o.log.warn({ err, capsule: id }, 'a capsule did not stop cleanly'))
    }
    this.sandboxes.clear()
  }
}

/** Copies a writable layer as it is (overlay whiteouts, links and modes included): `cp -a` of our own files. */
async function copyLayer (from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true })
  await new Promise<void>((resolve, reject) => {
    execFile('cp', ['-a', '--', from, to], { timeout: 600_000 }, (err, _out, stderr) => {
      if (err === null) resolve()
      else reject(new ColonyError('capsule_exec_failed', `the layer could not be copied: ${stderr.trim().slice(0, 300) || err.message}`))
    })
  })
}

/** Bytes the directory takes on disk. */
async function diskUsage (dir: string): Promise<number> {
  return await new Promise((resolve) => {
    execFile('du', ['-sb', '--', dir], { timeout: 60_000 }, (err, out) => resolve(err === null ? Number(out.split('\t')[0]) || 0 : 0))
  })
}

function positive (value: number | undefined, fallback: number, max: number, field: string): number {
  // Wrenn: a value <= 0 means the default.
  if (value === undefined || value <= 0) return fallback
  if (!Number.isInteger(value) || value > max) throw new ColonyError('invalid_body', `${field} must be a whole number up to ${max}`, { details: { field } })
  return value
}

/** Wrenn: when either stream is not valid UTF-8, both are base64. */
export function execView (id: string, cmd: string, out: ExecResult): ExecView {
  const utf8 = isUtf8(out.stdout) && isUtf8(out.stderr)
  const text = (b: Buffer): string => utf8 ? b.toString('utf8') : b.toString('base64')
  return {
    sandbox_id: id,
    cmd,
    stdout: text(out.stdout),
    stderr: text(out.stderr),
    exit_code: out.exitCode,
    duration_ms: Math.round(out.durationMs),
    encoding: utf8 ? 'utf-8' : 'base64',
    timed_out: out.timedOut,
    truncated: out.truncated,
  }
}

function isUtf8 (b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b)
}
