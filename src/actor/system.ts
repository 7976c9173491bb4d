import { EventEmitter } from 'node:events'
import type { Clock } from '../clock.js'
import type { ColonyConfig } from '../config.js'
import { ColonyError } from '../errors.js'
import { freshActorId, ID_PATTERN } from '../ids.js'
import type { Logger } from '../log.js'
import type { Bus } from '../broker/bus.js'
import type { Severity, WireState } from '../wire/payloads.js'
import { topics } from '../wire/topics.js'
import { ALERT_CODES, type AlertFields } from '../wire/alert-codes.js'
import { ActorCell, type CellHost } from './cell.js'
import { newCounters, type KernelCounters } from './counters.js'
import { HeartbeatScheduler } from './scheduler.js'
import { Supervisor } from './supervisor.js'
import type { ActorBeatInfo, ActorInfo, ActorKind, ActorMessage, ActorStats, KindInfo, Liveness, SpawnOptions, SupervisorSpec, SystemApi } from './types.js'
import { canAccess, type Identity } from '../auth/identity.js'
import type { SavedActor, SpawnMemory } from './spawn-memory.js'

export interface ActorSystemOptions {
  bus: Bus
  clock: Clock
  log: Logger
  config: Readonly<ColonyConfig>
  /** Offered to each kind's `deps` (see ActorKind); the kernel carries them without knowing their type. */
  services: unknown
  /** Where run-time spawns (`api.spawn`) are saved, so that they come back after a restart. */
  memory?: SpawnMemory
}

const SEVERITY_LOG = { info: 'info', warning: 'warn', error: 'error', critical: 'error' } as const

/**
 * The registry (single source of truth for what exists and in which state), the supervisors, the heartbeat
 * scheduler, and the control surface (`api`) that chat, REST and WS use. Protection is enforced here, once.
 */
export class ActorSystem implements CellHost {
  readonly bus: Bus
  readonly clock: Clock
  readonly log: Logger
  readonly config: Readonly<ColonyConfig>
  readonly services: unknown
  readonly memory: SpawnMemory | undefined
  readonly counters: KernelCounters = newCounters()
  /** `removed`: an actor was deleted for good (not stopped by shutdown). */
  readonly events = new EventEmitter<{ removed: [id: string] }>()
  readonly api: SystemApi
  private readonly cells = new Map<string, ActorCell>()
  private readonly names = new Map<string, ActorCell>()
  private readonly kindTable = new Map<string, ActorKind<never>>()
  private readonly supervisors = new Map<string, Supervisor>()
  private readonly scheduler: HeartbeatScheduler
  private version = 0
  /** After boot, spawns are also announced on `system/spawn` (the seed's DynamicAgent). */
  booted = false
  private closing = false
  /**
   * `mailbox_full` errors already in `colony_mailbox_rejected_total`. A full mailbox is counted where it refuses
   * (the cell); a queue inside an actor (a component's calls waiting for an instance) answers its request with the
   * same code, and is counted when that answer goes out, once, whichever way it travels on.
   */
  private readonly countedRejections = new WeakSet<object>()

  constructor (options: ActorSystemOptions) {
    this.bus = options.bus
    this.clock = options.clock
    this.log = options.log
    this.config = options.config
    this.services = options.services
    this.memory = options.memory
    this.scheduler = new HeartbeatScheduler(this.clock, this.config.actors.heartbeatIntervalMs)
    const { strategy, maxRestarts, restartWindowMs } = this.config.supervisor
    this.createSupervisor({ id: 'system', strategy, maxRestarts, restartWindowMs })
    this.createSupervisor({ id: 'user', strategy: 'one_for_one', maxRestarts, restartWindowMs })
    this.api = this.buildApi()
  }

  registerKind (kind: ActorKind<never>): void {
    if (this.kindTable.has(kind.kind)) throw new Error(`actor kind ${kind.kind} registered twice`)
    this.kindTable.set(kind.kind, kind)
  }

  createSupervisor (spec: SupervisorSpec): void {
    if (this.supervisors.has(spec.id)) return
    this.supervisors.set(spec.id, new Supervisor(spec, this.clock, this.log.child({ supervisor: spec.id }), {
      restarted: (cell, why) => {
        this.counters.restarts++
        this.alert(cell.id, 'info', `${cell.name} restarted by supervisor ${spec.id}: ${why}`, { code: ALERT_CODES.actorRestarted, restarts: cell.restarts })
      },
      gaveUp: (cell, why) => {
        this.counters.giveUps++
        this.alert(cell.id, 'critical', why, { code: ALERT_CODES.supervisorGaveUp })
      },
    }))
  }

  /** Finds by id first, then by name. */
  resolve (ref: string): ActorCell | undefined {
    return this.cells.get(ref) ?? this.names.get(ref)
  }

  /** The actor `ref` names, as `as` may see it: one it cannot access is reported as not found. */
  private require (ref: string, as?: Identity): ActorCell {
    const cell = this.resolve(ref)
    if (cell === undefined || !canAccess(as, cell.team)) {
      throw new ColonyError('actor_not_found', `no actor with id or name "${ref.slice(0, 80)}"`)
    }
    return cell
  }

  private guard (cell: ActorCell, action: string): void {
    if (cell.protected) throw new ColonyError('actor_protected', `${cell.name} is protected and cannot be ${action}`)
  }

  /** Spawns and starts an actor; `remember`: a user's run-time spawn, saved before it starts (see SpawnMemory). */
  async spawn (kindName: string, options: SpawnOptions = {}, remember = false): Promise<ActorInfo> {
    const cell = this.register(kindName, options, remember)
    cell.start()
    this.scheduler.add(cell)
    return await cell.waitFor('running', 'failed', 'stopped')
  }

  /**
   * Brings back a saved run-time spawn (start-up): same id, name, team and options, under the `user` supervisor. A
   * paused one comes back paused; a stopped one comes back listed as stopped and is not started (a clean stop is never
   * resurrected). Throws, changing nothing, when its kind is gone or no longer spawnable, or its name or id is taken.
   */
  async restore (saved: SavedActor): Promise<ActorInfo> {
    if (this.kindTable.get(saved.kind)?.spawnable !== true) {
      throw new ColonyError('actor_kind_unknown', `actor kind "${saved.kind.slice(0, 40)}" is unknown or cannot be spawned at run time`)
    }
    const spec: SpawnOptions = { id: saved.id, name: saved.name, team: saved.team, options: saved.options, supervisor: 'user' }
    if (saved.state === 'stopped') {
      const cell = this.register(saved.kind, spec, false)
      cell.state = 'stopped'
      this.stateChanged(cell, 'initializing', 'stopped')
      return cell.info()
    }
    const info = await this.spawn(saved.kind, spec)
    const cell = this.cells.get(saved.id)
    if (saved.state !== 'paused' || info.state !== 'running' || cell === undefined) return info
    cell.pause()
    return await cell.waitFor('paused', 'failed', 'stopped')
  }

  /** Checks and enters a new actor in the registry (not started yet) and announces it. */
  private register (kindName: string, options: SpawnOptions, remember: boolean): ActorCell {
    if (this.closing) throw new ColonyError('shutting_down')
    const kind = this.kindTable.get(kindName)
    if (kind === undefined) {
      throw new ColonyError('actor_kind_unknown', `unknown actor kind "${kindName.slice(0, 40)}"; known kinds: ${[...this.kindTable.keys()].join(', ')}`)
    }
    if (this.cells.size >= this.config.actors.maxActors) {
      throw new ColonyError('actor_limit_reached', `the limit of ${this.config.actors.maxActors} actors is reached`)
    }
    const id = options.id ?? freshActorId(this.clock.now(), (taken) => this.cells.has(taken) || this.names.has(taken))
    const name = options.name ?? `${kind.kind}-${id.slice(-8)}`
    if (!ID_PATTERN.test(name)) {
      throw new ColonyError('actor_name_invalid', 'actor names are 1-64 characters of A-Z, a-z, 0-9, _ and -')
    }
    if (this.names.has(name) || this.cells.has(name) || this.cells.has(id)) {
      throw new ColonyError('actor_name_taken', `an actor named "${name}" already exists`)
    }
    const supervisorId = options.supervisor ?? 'user'
    const supervisor = this.supervisors.get(supervisorId)
    if (supervisor === undefined) throw new ColonyError('supervisor_unknown', `no supervisor "${supervisorId.slice(0, 40)}"`)
    // Durable before anything else happens: a failed write spawns nothing, and the caller is answered only after it.
    if (remember) this.memory?.remember({ id, kind: kind.kind, name, team: options.team ?? null, options: options.options ?? {} })
    const cell = new ActorCell(this, { id, name, kind, options: options.options ?? {}, supervisor: supervisorId, team: options.team ?? null,
      ...(options.protected !== undefined && { protected: options.protected }) })
    this.cells.set(id, cell)
    this.names.set(name, cell)
    this.version++
    supervisor.add(cell)
    const announcement = { agentId: id, agentName: name, agentType: kind.agentType, timestampMs: this.clock.now() }
    // Retained, like the status, so a subscriber that arrives later still learns every live actor's type.
    this.bus.publish(topics.spawn(id), announcement, { retain: true })
    if (this.booted) this.bus.publish(topics.systemSpawn, announcement)
    return cell
  }

  stateChanged (cell: ActorCell, _previous: WireState, next: WireState): void {
    this.version++
    const status: Record<string, unknown> = { agentId: cell.id, state: next, timestampMs: this.clock.now() }
    if (next === 'failed' && cell.lastError !== undefined) status.error = describe(cell.lastError)
    this.bus.publish(topics.status(cell.id), status, { retain: true })
    if (next === 'failed' && !this.closing) this.supervisors.get(cell.supervisor)?.crashed(cell)
    if (next === 'stopped') this.scheduler.remove(cell)
  }

  alert (subjectId: string, severity: Severity, message: string, extra: AlertFields = {}): void {
    this.counters.alerts[severity]++
    this.log[SEVERITY_LOG[severity]]({ subject: subjectId, severity, ...extra }, `alert: ${message}`)
    this.bus.publish(topics.alert(subjectId), { ...extra, agentId: subjectId, severity, message, timestampMs: this.clock.now() })
  }

  /** Counts a request answered `mailbox_full` by a queue inside the actor (the mailbox's own refusals are counted already). */
  private countRejection (error: unknown): void {
    if (!(error instanceof ColonyError) || error.code !== 'mailbox_full' || this.countedRejections.has(error)) return
    this.countedRejections.add(error)
    this.counters.mailboxRejected++
  }

  private async removeCell (cell: ActorCell): Promise<ActorInfo> {
    // Forgotten first: once a delete is asked for, a crash during the stop must not bring the actor back.
    this.memory?.forget(cell.id)
    await cell.stop()
    if (this.cells.get(cell.id) !== cell) return cell.info()
    this.cells.delete(cell.id)
    this.names.delete(cell.name)
    this.supervisors.get(cell.supervisor)?.remove(cell)
    this.scheduler.remove(cell)
    this.version++
    // Clear the retained spawn and status so new subscribers do not see an actor that no longer exists.
    this.bus.publish(topics.spawn(cell.id), Buffer.alloc(0), { retain: true })
    this.bus.publish(topics.status(cell.id), Buffer.alloc(0), { retain: true })
    this.events.emit('removed', cell.id)
    return cell.info()
  }

  /** Deletes every actor a team owned (the team was deleted). */
  async removeTeam (teamId: string): Promise<void> {
    const owned = [...this.cells.values()].filter((c) => c.team === teamId)
    await Promise.all(owned.map((c) => this.removeCell(c)))
  }

  /** The owning team of an actor id, null for system actors, undefined when there is no such actor. */
  teamOf (id: string): string | null | undefined {
    return this.cells.get(id)?.team
  }

  /** Total queued messages and the deepest mailbox, for metrics. */
  mailboxTotals (): { depth: number, max: number } {
    let depth = 0
    let max = 0
    for (const cell of this.cells.values()) {
      depth += cell.mailbox.size
      if (cell.mailbox.size > max) max = cell.mailbox.size
    }
    return { depth, max }
  }

  countByState (): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const cell of this.cells.values()) counts[cell.state] = (counts[cell.state] ?? 0) + 1
    return counts
  }

  /** Waits until no supervisor is handling a crash. */
  async settled (): Promise<void> {
    await Promise.all([...this.supervisors.values()].map((s) => s.settled()))
  }

  /** Shutdown: no more restarts, every actor stops (newest first) and publishes its final `stopped` status. */
  async shutdown (): Promise<void> {
    if (this.closing) return
    this.closing = true
    for (const supervisor of this.supervisors.values()) supervisor.close()
    this.scheduler.stop()
    const cells = [...this.cells.values()].reverse()
    await Promise.all(cells.map((cell) => cell.stop().catch((err: unknown) => this.log.warn({ err, actor: cell.name }, 'stop failed'))))
    await this.bus.drained()
  }

  private buildApi (): SystemApi {
    return {
      version: () => this.version,
      list: (as) => {
        const out: ActorInfo[] = []
        for (const c of this.cells.values()) if (canAccess(as, c.team)) out.push(c.info())
        return out
      },
      listWithHeartbeats: (as) => {
        const now = this.clock.now()
        const out: ActorBeatInfo[] = []
        for (const c of this.cells.values()) {
          if (!canAccess(as, c.team)) continue
          const last = c.lastHeartbeatMs
          out.push({ ...c.info(), lastHeartbeatMs: last, heartbeatAgeMs: last === null ? null : Math.max(0, now - last) })
        }
        return out
      },
      count: () => this.cells.size,
      liveness: () => {
        const out: Liveness[] = []
        for (const c of this.cells.values()) {
          out.push({ id: c.id, name: c.name, state: c.state, lastSignMs: c.lastHeartbeatMs ?? c.startedAtMs ?? c.createdAtMs })
        }
        return out
      },
      stateOf: (ref, as) => {
        const cell = this.resolve(ref)
        return cell !== undefined && canAccess(as, cell.team) ? cell.state : undefined
      },
      get: (ref, as): ActorStats | undefined => {
        const cell = this.resolve(ref)
        return cell !== undefined && canAccess(as, cell.team) ? cell.stats() : undefined
      },
      kinds: (): KindInfo[] => [...this.kindTable.values()].map((k) => ({
        kind: k.kind, agentType: k.agentType, spawnable: k.spawnable === true, protected: k.protected === true, help: k.help,
      })),
      spawn: (kind, options) => {
        const k = this.kindTable.get(kind)
        if (k !== undefined && k.spawnable !== true) {
          return Promise.reject(new ColonyError('actor_kind_unknown', `actor kind "${kind}" cannot be spawned at run time`))
        }
        const { protected: _ignored, ...rest } = options ?? {}
        return this.spawn(kind, { ...rest, supervisor: 'user' }, true)
      },
      spawnInternal: (kind, options = {}) => this.spawn(kind, { ...options, supervisor: options.supervisor ?? 'user' }),
      pause: (ref, as) => {
        const cell = this.require(ref, as)
        this.guard(cell, 'paused')
        cell.pause()
        this.memory?.setState(cell.id, 'paused')
        return cell.info()
      },
      resume: (ref, as) => {
        const cell = this.require(ref, as)
        this.guard(cell, 'resumed')
        cell.resume()
        this.memory?.setState(cell.id, 'running')
        return cell.info()
      },
      stop: async (ref, as) => {
        const cell = this.require(ref, as)
        this.guard(cell, 'stopped')
        this.memory?.setState(cell.id, 'stopped')
        return await cell.stop()
      },
      remove: (ref, as) => {
        const cell = this.require(ref, as)
        this.guard(cell, 'deleted')
        return this.removeCell(cell)
      },
      deliver: (ref, message: ActorMessage, as) => {
        const cell = this.require(ref, as)
        if (cell.state === 'stopped' || cell.state === 'stopping' || cell.givenUp) {
          throw new ColonyError('actor_invalid_state', `${cell.name} is ${cell.state} and takes no messages`)
        }
        if (!cell.enqueue(message)) {
          const full = new ColonyError('mailbox_full', `the mailbox of ${cell.name} is full (${cell.mailbox.capacity} messages)`)
          this.countedRejections.add(full)
          throw full
        }
      },
      ask: (ref, message, options = {}) => new Promise((resolve, reject) => {
        const timeoutMs = options.timeoutMs ?? 30_000
        const timer = this.clock.setTimeout(() => reject(new ColonyError('invoke_timeout', `no answer from ${ref.slice(0, 80)} within ${timeoutMs} ms`)), timeoutMs)
        let answered = false
        const respond = (error: unknown, value?: unknown): void => {
          if (answered) return
          answered = true
          this.clock.clearTimeout(timer)
          this.countRejection(error)
          if (error !== undefined && error !== null) reject(error instanceof Error ? error : new Error(JSON.stringify(error)))
          else resolve(value)
        }
        try {
          this.api.deliver(ref, { ...message, respond, ...(options.as !== undefined && { sender: options.as }) }, options.as)
        } catch (err) {
          respond(err)
        }
      }),
      createSupervisor: (spec) => this.createSupervisor(spec),
    }
  }
}

function describe (err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 300)
}
