/**
 * Wrenn hosts: machines (here: other Colonies, or any agent speaking Wrenn's host protocol) that run capsules.
 *
 *   create (admin: regular; team owner/admin: BYOC) → pending, with a one-time registration token (1 h)
 *   register (the token, consumed once) → online, a host JWT (7 d) and a refresh token (60 d, rotated on each use)
 *   heartbeat (X-Host-Token, the id must match) → last_heartbeat_at; unreachable|offline → online (`host.up`)
 *   monitor, every `hosts.checkIntervalMs` on the injected clock: online and silent > `hosts.heartbeatTimeoutMs`
 *     → unreachable (`host.down`); unreachable and silent `hosts.offlineAfterMs` longer → offline
 *
 * `draining` is in the enum (as in Wrenn) and never set. Every status change is an event for the host's actor and
 * a Wrenn platform event on `system/events/{event}`. Tokens never leave this file except in the one answer that
 * issues them; the store keeps their SHA-256.
 */
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { ColonyError, toColonyError } from '../errors.js'
import type { Clock, TimerHandle } from '../clock.js'
import type { Logger } from '../log.js'
import type { Bus } from '../broker/bus.js'
import type { SystemApi } from '../actor/types.js'
import type { HostRecord, HostStatus, HostType, Store } from '../store/index.js'
import { topics } from '../wire/topics.js'
import { eventPayload, type EventActor } from '../wire/events.js'
import { SecretBox } from '../auth/secret-box.js'
import { hashToken, newToken, signHostJwt, verifyHostJwt, type HostKeys } from './tokens.js'

/** Wrenn's lifetimes (the host JWT's is `hosts.jwtTtlMs`, default 7 d). */
export const REGISTRATION_TTL_MS = 3_600_000
export const REFRESH_TTL_MS = 60 * 86_400_000

/** Who asks: a user or key acting for its active team. */
export interface HostCaller { userId: string, teamId: string, isAdmin: boolean, actor: EventActor }

export interface HostView {
  id: string
  type: HostType
  team_id: string | null
  provider: string | null
  availability_zone: string | null
  arch: string | null
  cpu_cores: number | null
  memory_mb: number | null
  disk_gb: number | null
  address: string | null
  status: HostStatus
  last_heartbeat_at: string | null
  created_by: string
  created_at: string
  updated_at: string
  /** Colony's: the host's wasmCloud lattice id when it is a Colony on the same NATS. */
  lattice_host_id: string | null
  /** Colony's: a joined Colony (capsules can be created on it through this one). */
  colony: boolean
}

export interface RegisterBody {
  token: string
  address: string
  arch?: string
  cpu_cores?: number
  memory_mb?: number
  disk_gb?: number
  lattice_host_id?: string
  api_key?: string
}

export interface Credentials { host: HostView, token: string, refresh_token: string }

export type HostEvent =
  | { type: 'status', id: string, status: HostStatus, previous: HostStatus }
  | { type: 'beat', id: string, atMs: number }
  | { type: 'removed', id: string }

export interface HostSettingsView { heartbeatTimeoutMs: number, checkIntervalMs: number, offlineAfterMs: number, jwtTtlMs: number }

/**
 * What actors get: hosts as they are seen and their events, as closures over the service, so no actor's context
 * holds the service (its keys, its store).
 */
export interface HostDirectory {
  events: HostService['events']
  get(id: string): HostView | undefined
  /** Every host (the runtime asking), or those a caller may see. */
  list(as: HostCaller | undefined): HostView[]
}

const SYSTEM: EventActor = { type: 'system', name: 'host-monitor' }

export class HostService {
  /** One listener per host actor. */
  readonly events = new EventEmitter<{ event: [HostEvent] }>().setMaxListeners(0)
  private system: SystemApi | undefined
  private timer: { handle: TimerHandle } | undefined
  /** Silence is counted from here at the earliest: a restart of this Colony is not the hosts' fault. */
  private readonly since: number

  constructor (private readonly o: { store: Store, clock: Clock, log: Logger, bus: Bus, keys: HostKeys, settings: HostSettingsView }) {
    this.since = o.clock.now()
  }

  private now (): number {
    return this.o.clock.now()
  }

  bind (system: SystemApi): void {
    this.system = system
  }

  /** At start: every registered host is an actor again, and the monitor runs. */
  async restore (): Promise<void> {
    for (const h of this.o.store.hosts.all()) if (h.status !== 'pending') await this.spawnActor(h)
    this.schedule()
  }

  close (): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer.handle)
    this.timer = undefined
  }

  private schedule (): void {
    this.timer = { handle: this.o.clock.setTimeout(() => { this.check(); this.schedule() }, this.o.settings.checkIntervalMs) }
  }

  /** One monitor pass (also callable by tests). */
  check (): void {
    const now = this.now()
    for (const h of this.o.store.hosts.all()) {
      const silent = now - Math.max(h.lastHeartbeatMs ?? 0, this.since)
      if (h.status === 'online' && silent > this.o.settings.heartbeatTimeoutMs) {
        this.setStatus(h, 'unreachable')
        this.publish('host.down', h, SYSTEM)
      } else if (h.status === 'unreachable' && silent > this.o.settings.heartbeatTimeoutMs + this.o.settings.offlineAfterMs) {
        this.setStatus(h, 'offline')
      }
    }
  }

  private setStatus (h: HostRecord, status: HostStatus): void {
    this.o.store.hosts.setStatus(h.id, status, this.now())
    this.o.log.info({ host: h.id, status, previous: h.status }, 'host status changed')
    this.events.emit('event', { type: 'status', id: h.id, status, previous: h.status })
  }

  private publish (event: 'host.up' | 'host.down', h: HostRecord, actor: EventActor): void {
    this.o.bus.publish(topics.systemEvent(event), eventPayload(event, h.teamId ?? '', actor, { id: h.id, type: 'host' }, this.now()))
  }

  private async spawnActor (h: HostRecord): Promise<void> {
    if (this.system === undefined || this.system.stateOf(h.id) !== undefined) return
    await this.system.spawnInternal('host', { id: h.id, name: h.id, team: h.teamId, options: { hostId: h.id, teamId: h.teamId } })
      .catch((err: unknown) => this.o.log.warn({ err: toColonyError(err).message, host: h.id }, 'the host\'s actor could not start'))
  }

  view (h: HostRecord): HostView {
    const iso = (ms: number): string => new Date(ms).toISOString()
    return {
      id: h.id, type: h.type, team_id: h.teamId, provider: h.provider, availability_zone: h.availabilityZone, arch: h.arch,
      cpu_cores: h.cpuCores, memory_mb: h.memoryMb, disk_gb: h.diskGb, address: h.address, status: h.status,
      last_heartbeat_at: h.lastHeartbeatMs === null ? null : iso(h.lastHeartbeatMs), created_by: h.createdBy,
      created_at: iso(h.createdAtMs), updated_at: iso(h.updatedAtMs), lattice_host_id: h.latticeHostId, colony: h.apiKeySealed !== null,
    }
  }

  // ---- permissions ----

  /** Platform admins, or the owner or an admin of the team (read from the database now). */
  private mayManageTeam (as: HostCaller, teamId: string): boolean {
    if (as.isAdmin) return true
    if (teamId !== as.teamId) return false
    const role = this.o.store.teams.role(teamId, as.userId)
    return role === 'owner' || role === 'admin'
  }

  /** A host the caller may see: any for admins, their team's BYOC hosts for others; another one does not exist (404). */
  row (as: HostCaller, id: string): HostRecord {
    const h = this.o.store.hosts.get(id)
    if (h === undefined || (!as.isAdmin && (h.type !== 'byoc' || h.teamId !== as.teamId))) throw new ColonyError('host_not_found', `no host ${id.slice(0, 64)}`)
    return h
  }

  /** A host the caller may change: admins any, a team's owner/admin its BYOC hosts (a member: 403). */
  private managed (as: HostCaller, id: string): HostRecord {
    const h = this.row(as, id)
    if (!as.isAdmin && !this.mayManageTeam(as, h.teamId ?? '')) throw new ColonyError('forbidden', 'managing this host needs the owner or admin role in its team')
    return h
  }

  // ---- operator side ----

  create (as: HostCaller, body: { type: HostType, team_id?: string, provider?: string, availability_zone?: string }): { host: HostView, registration_token: string } {
    let teamId: string | null = null
    if (body.type === 'regular') {
      if (!as.isAdmin) throw new ColonyError('forbidden', 'only platform admins create regular hosts')
      if (body.team_id !== undefined) throw new ColonyError('invalid_body', 'a regular host belongs to no team', { details: { field: 'team_id' } })
    } else {
      teamId = body.team_id ?? as.teamId
      if (this.o.store.teams.get(teamId) === undefined) throw new ColonyError('team_not_found')
      if (!this.mayManageTeam(as, teamId)) throw new ColonyError('forbidden', 'BYOC hosts are created by platform admins or the team\'s owner or admins')
    }
    const id = `host-${randomBytes(8).toString('hex')}`
    const now = this.now()
    this.o.store.transaction(() => {
      this.o.store.hosts.insert({ id, type: body.type, teamId, provider: body.provider ?? null, availabilityZone: body.availability_zone ?? null, createdBy: as.userId, nowMs: now })
    })
    const token = this.issueRegistration(id)
    this.o.log.info({ host: id, type: body.type, team: teamId }, 'host created')
    return { host: this.view(this.o.store.hosts.get(id) as HostRecord), registration_token: token }
  }

  private issueRegistration (hostId: string): string {
    const token = newToken()
    this.o.store.hosts.insertToken(hashToken(token), hostId, this.now() + REGISTRATION_TTL_MS)
    return token
  }

  /** A new registration token, only while the host is pending (Wrenn: after a failed registration). */
  regenerate (as: HostCaller, id: string): { host: HostView, registration_token: string } {
    const h = this.managed(as, id)
    if (h.status !== 'pending') throw new ColonyError('host_not_pending', `the host is ${h.status}; only a pending host gets a new registration token`)
    return { host: this.view(h), registration_token: this.issueRegistration(h.id) }
  }

  list (as: HostCaller): HostView[] {
    return this.o.store.hosts.all().filter((h) => as.isAdmin || (h.type === 'byoc' && h.teamId === as.teamId)).map((h) => this.view(h))
  }

  get (as: HostCaller, id: string): HostView {
    return this.view(this.row(as, id))
  }

  tags (as: HostCaller, id: string): string[] {
    return this.o.store.hosts.tags(this.row(as, id).id)
  }

  addTag (as: HostCaller, id: string, tag: string): void {
    this.o.store.hosts.addTag(this.managed(as, id).id, tag)
  }

  removeTag (as: HostCaller, id: string, tag: string): void {
    this.o.store.hosts.removeTag(this.managed(as, id).id, tag)
  }

  /** The capsules a forced delete would destroy (those this Colony created on the host). */
  preview (as: HostCaller, id: string): { host: HostView, sandbox_ids: string[] } {
    const h = this.managed(as, id)
    return { host: this.view(h), sandbox_ids: this.capsuleIds(h.id) }
  }

  capsuleIds (hostId: string): string[] {
    return this.o.store.hosts.capsules().filter((c) => c.hostId === hostId).map((c) => c.capsuleId)
  }

  /**
   * Deletes a host: 409 `has_active_sandboxes` (with their ids) while it has capsules, unless `force`; then
   * `destroy` is asked to end each (best effort), and the row, its tokens and tags go. Its JWT stops working
   * (heartbeats get 404), its actor stops.
   */
  async remove (as: HostCaller, id: string, force: boolean, destroy: (hostId: string, capsuleId: string) => Promise<void>): Promise<void> {
    const h = this.managed(as, id)
    const ids = this.capsuleIds(h.id)
    if (ids.length > 0 && !force) {
      throw new ColonyError('has_active_sandboxes', `the host has ${ids.length} active capsule(s); delete with force=true to destroy them`, { details: { sandbox_ids: ids } })
    }
    for (const c of ids) {
      await destroy(h.id, c).catch((err: unknown) => this.o.log.warn({ err: toColonyError(err).message, host: h.id, capsule: c }, 'could not destroy a capsule of a deleted host'))
    }
    this.o.store.hosts.remove(h.id)
    this.o.log.info({ host: h.id }, 'host deleted')
    this.events.emit('event', { type: 'removed', id: h.id })
    if (this.system?.stateOf(h.id) !== undefined) await this.system.remove(h.id).catch(() => undefined)
  }

  // ---- host side ----

  /** Wrenn's register: the token is consumed once (401 otherwise), the host goes online, credentials are issued. */
  async register (body: RegisterBody): Promise<Credentials> {
    const now = this.now()
    const hostId = this.o.store.hosts.consumeToken(hashToken(body.token), now)
    if (hostId === undefined) throw new ColonyError('unauthorized', 'invalid or expired registration token')
    const ok = this.o.store.hosts.register(hostId, {
      arch: body.arch ?? null, cpuCores: body.cpu_cores ?? null, memoryMb: body.memory_mb ?? null, diskGb: body.disk_gb ?? null,
      address: body.address, latticeHostId: body.lattice_host_id ?? null,
      apiKeySealed: body.api_key === undefined ? null : new SecretBox(this.o.keys.seal).seal(body.api_key),
    }, now)
    if (!ok) throw new ColonyError('host_not_pending', 'the host is no longer pending registration')
    const h = this.o.store.hosts.get(hostId) as HostRecord
    this.o.log.info({ host: hostId, address: body.address }, 'host registered')
    this.events.emit('event', { type: 'status', id: hostId, status: 'online', previous: 'pending' })
    await this.spawnActor(h)
    return this.credentials(h, randomBytes(16).toString('hex'))
  }

  private credentials (h: HostRecord, family: string): Credentials {
    const now = this.now()
    const refresh = newToken()
    this.o.store.hosts.insertRefresh(hashToken(refresh), h.id, family, now + REFRESH_TTL_MS)
    return { host: this.view(h), token: signHostJwt(h.id, this.o.keys.jwt, now, this.o.settings.jwtTtlMs), refresh_token: refresh }
  }

  /**
   * Issue-then-revoke rotation: the new pair is stored, then the old refresh token revoked. A revoked token
   * presented again means it leaked (or a replay): its whole family is revoked and the host must re-register.
   */
  refresh (token: string): Credentials {
    const now = this.now()
    const hash = hashToken(token)
    const row = this.o.store.hosts.refresh(hash)
    if (row === undefined || row.expiresAtMs <= now) throw new ColonyError('unauthorized', 'invalid or expired refresh token')
    if (row.revokedAtMs !== null) {
      this.o.store.hosts.revokeFamily(row.family, now)
      this.o.log.warn({ host: row.hostId }, 'a revoked host refresh token was used again: every refresh token of its family is revoked')
      throw new ColonyError('unauthorized', 'invalid or expired refresh token')
    }
    const h = this.o.store.hosts.get(row.hostId)
    if (h === undefined) throw new ColonyError('unauthorized', 'invalid or expired refresh token')
    return this.o.store.transaction(() => {
      const next = this.credentials(h, row.family)
      if (!this.o.store.hosts.revokeRefresh(hash, now)) throw new ColonyError('unauthorized', 'invalid or expired refresh token')
      return next
    })
  }

  /** A host's heartbeat: the JWT's host id must be the path's (403), the host must exist (404). A joined Colony restarted on another port says where it is now. */
  heartbeat (id: string, hostToken: string | undefined, address?: string): void {
    const now = this.now()
    const hostId = hostToken === undefined ? undefined : verifyHostJwt(hostToken, this.o.keys.jwt, now)
    if (hostId === undefined) throw new ColonyError('unauthorized', 'invalid or missing host token')
    if (hostId !== id) throw new ColonyError('forbidden', 'the host token belongs to another host')
    const h = this.o.store.hosts.get(id)
    if (h === undefined) throw new ColonyError('host_not_found', `no host ${id.slice(0, 64)}`)
    this.o.store.hosts.beat(id, now, address ?? h.address)
    this.events.emit('event', { type: 'beat', id, atMs: now })
    if (h.status === 'unreachable' || h.status === 'offline') {
      this.setStatus(h, 'online')
      this.publish('host.up', h, { type: 'system', id: h.id, name: 'host' })
    }
  }

  // ---- what the capsule forwarding needs ----

  /** A joined Colony the caller's team may run capsules on: its base URL and API key (503 when it cannot). */
  target (as: { teamId: string | null, isAdmin: boolean }, hostId: string): { host: HostRecord, base: string, apiKey: string } {
    const h = this.o.store.hosts.get(hostId)
    if (h === undefined || (!as.isAdmin && h.type === 'byoc' && h.teamId !== as.teamId)) throw new ColonyError('host_not_found', `no host ${hostId.slice(0, 64)}`)
    return this.reach(h)
  }

  reach (h: HostRecord): { host: HostRecord, base: string, apiKey: string } {
    if (h.apiKeySealed === null || h.address === null) throw new ColonyError('host_unavailable', `host ${h.id} is not a Colony this one can drive`)
    if (h.status !== 'online') throw new ColonyError('host_unavailable', `host ${h.id} is ${h.status}`)
    const base = /^https?:\/\//.test(h.address) ? h.address.replace(/\/+$/, '') : `http://${h.address}`
    return { host: h, base, apiKey: new SecretBox(this.o.keys.seal).open(h.apiKeySealed) }
  }

  hostRecord (id: string): HostRecord | undefined {
    return this.o.store.hosts.get(id)
  }

  directory (): HostDirectory {
    return {
      events: this.events,
      get: (id) => {
        const h = this.o.store.hosts.get(id)
        return h === undefined ? undefined : this.view(h)
      },
      list: (as) => as === undefined ? this.o.store.hosts.all().map((h) => this.view(h)) : this.list(as),
    }
  }
}
