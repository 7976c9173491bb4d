/**
 * Wrenn's notification channels for a team: CRUD, secret rotation, a test send, and Colony's mute (from chat).
 * Every door goes through here; every call names the team it acts for, and another team's channel does not exist
 * (404). Config values are sealed before they reach the store and opened only to make a request: no view, log line
 * or MQTT payload carries one. The webhook secret is shown once, when it is set (create, or a rotation that
 * generates it).
 *
 * Events reach channels from the bus: Wrenn's on `system/events/#` (their producers publish there), Colony's actor
 * alerts and states on `agents/+/alert` and `agents/+/status`, for actors the channel's team owns.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { ColonyError } from '../errors.js'
import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { Bus, BusMessage, Unsubscribe } from '../broker/bus.js'
import type { ChannelRecord, Store } from '../store/index.js'
import { filters, parseAgentTopic, topics } from '../wire/topics.js'
import { WRENN_EVENTS, type EventPayload } from '../wire/events.js'
import { SEVERITIES, type AlertPayload, type StatusPayload } from '../wire/payloads.js'
import { SecretBox } from './crypto.js'
import { Outbox } from './outbox.js'
import { Dispatcher } from './dispatcher.js'
import { passes, type AlertFilter } from './filter.js'
import { CHANNEL_EVENTS, TEST_EVENT, type ChannelEvent, type Notification } from './notification.js'
import { PROVIDER_NAMES, providerOf, type Provider } from './providers/index.js'
import { send } from './send.js'

/** Wrenn's ChannelResponse, with Colony's alert_filter and mute. */
export interface ChannelView {
  id: string
  team_id: string
  name: string
  provider: string
  events: string[]
  alert_filter: AlertFilter | null
  muted_until: string | null
  muted: boolean
  created_at: string
  updated_at: string
  /** The webhook secret: only in the answer that set it. */
  secret?: string
}

export interface CreateChannel {
  name: string
  provider: string
  config: Record<string, string>
  events: string[]
  alert_filter?: AlertFilter
}

/** Who an actor event is about: its team (null: a system actor, no team's channels get it), name and type. */
export type ActorLookup = (id: string) => { team: string | null, name: string, agentType: string } | undefined

/** A mute with no end is stored as the latest time a Date can hold. */
const FOREVER = 8_640_000_000_000_000
const MAX_MUTE_MINUTES = 366 * 24 * 60

export class ChannelService {
  private readonly box: SecretBox
  readonly outbox: Outbox
  readonly dispatcher: Dispatcher
  /** Each team's channels, read once and dropped on every change (events are matched on every alert). */
  private readonly byTeam = new Map<string, ChannelRecord[]>()
  /** Opened configs by channel id and the updated_at they were opened at. */
  private readonly opened = new Map<string, { at: number, config: Record<string, string> }>()
  private unsubscribe: Unsubscribe[] = []

  constructor (private readonly o: { store: Store, key: Buffer, clock: Clock, log: Logger, timeoutMs: number }) {
    this.box = new SecretBox(o.key)
    this.outbox = new Outbox(o.store.channels, o.log)
    this.dispatcher = new Dispatcher({
      outbox: this.outbox, clock: o.clock, log: o.log, timeoutMs: o.timeoutMs,
      channel: (id) => {
        const record = this.o.store.channels.get(id)
        return record === undefined ? undefined : { record, config: this.configOf(record) }
      },
    })
  }

  /** Starts listening for events and sends what the outbox still holds from before. */
  start (bus: Bus, actors: ActorLookup): void {
    this.unsubscribe.push(
      bus.subscribe(filters.systemEvents, (m) => this.onWrennEvent(m)),
      bus.subscribe(topics.alert('+'), (m) => this.onActorEvent(m, actors)),
      bus.subscribe(filters.status, (m) => this.onActorEvent(m, actors)),
    )
    this.dispatcher.restore(this.o.store.channels.pending())
  }

  close (): void {
    for (const u of this.unsubscribe.splice(0)) u()
    this.dispatcher.close()
    this.outbox.flush()
  }

  // --- CRUD -------------------------------------------------------------------------------------------------------

  create (teamId: string, body: CreateChannel): ChannelView {
    const provider = this.provider(body.provider)
    const events = checkEvents(body.events)
    const config = checkConfig(provider, body.config)
    let secret: string | undefined
    if (provider.name === 'webhook' && (config.secret === undefined || config.secret === '')) {
      // Wrenn: 32 random bytes, hex, when none is given.
      config.secret = randomBytes(32).toString('hex')
    }
    if (provider.name === 'webhook') secret = config.secret
    if (this.o.store.channels.named(teamId, body.name) !== undefined) throw nameTaken(body.name)
    const now = this.o.clock.now()
    const record: ChannelRecord = {
      id: `ch-${randomUUID()}`, teamId, name: body.name, provider: provider.name, config: JSON.stringify(this.box.sealAll(config)),
      events, alertFilter: body.alert_filter === undefined ? null : JSON.stringify(checkFilter(body.alert_filter)),
      mutedUntilMs: null, createdAtMs: now, updatedAtMs: now,
    }
    try {
      this.o.store.channels.insert(record)
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw nameTaken(body.name)
      throw err
    }
    this.byTeam.delete(teamId)
    return { ...this.view(record), ...(secret !== undefined && { secret }) }
  }

  list (teamId: string): ChannelView[] {
    return this.o.store.channels.forTeam(teamId).map((r) => this.view(r))
  }

  get (teamId: string, id: string): ChannelView {
    return this.view(this.row(teamId, id))
  }

  update (teamId: string, id: string, patch: { name?: string, events?: string[], alert_filter?: AlertFilter | null }): ChannelView {
    const row = this.row(teamId, id)
    const name = patch.name ?? row.name
    if (name !== row.name && this.o.store.channels.named(teamId, name) !== undefined) throw nameTaken(name)
    const events = patch.events === undefined ? row.events : checkEvents(patch.events)
    const alertFilter = patch.alert_filter === undefined ? row.alertFilter : patch.alert_filter === null ? null : JSON.stringify(checkFilter(patch.alert_filter))
    try {
      this.o.store.channels.update(row.id, { name, events, alertFilter }, this.o.clock.now())
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw nameTaken(name)
      throw err
    }
    this.byTeam.delete(teamId)
    return this.get(teamId, row.id)
  }

  /** Wrenn's rotation: the whole config is replaced (a webhook without `secret` gets a new one, shown once). */
  rotate (teamId: string, id: string, input: Record<string, string>): ChannelView {
    const row = this.row(teamId, id)
    const provider = this.provider(row.provider)
    const config = checkConfig(provider, input)
    let secret: string | undefined
    if (provider.name === 'webhook') {
      if (config.secret === undefined || config.secret === '') {
        config.secret = randomBytes(32).toString('hex')
        secret = config.secret
      }
    }
    this.o.store.channels.setConfig(row.id, JSON.stringify(this.box.sealAll(config)), this.o.clock.now())
    this.opened.delete(row.id)
    this.byTeam.delete(teamId)
    return { ...this.get(teamId, row.id), ...(secret !== undefined && { secret }) }
  }

  remove (teamId: string, id: string): void {
    const row = this.row(teamId, id)
    this.o.store.channels.remove(row.id)
    this.opened.delete(row.id)
    this.byTeam.delete(teamId)
  }

  /** A deleted team's channels go with it (their pending deliveries too). */
  forgetTeam (teamId: string): void {
    for (const c of this.o.store.channels.forTeam(teamId)) {
      this.o.store.channels.remove(c.id)
      this.opened.delete(c.id)
    }
    this.byTeam.delete(teamId)
  }

  /** Wrenn's test: one attempt with the given provider and config, nothing saved, no retry. */
  async test (teamId: string, body: { provider: string, config: Record<string, string> }): Promise<{ status: 'ok' }> {
    const provider = this.provider(body.provider)
    const config = checkConfig(provider, body.config)
    const now = this.o.clock.now()
    const n: Notification = {
      event: TEST_EVENT, timestamp: new Date(now).toISOString(), team_id: teamId, actor: { type: 'system' }, resource: { id: 'test', type: 'channel' },
    }
    const result = await send(provider.request(config, { id: randomUUID(), notification: n, nowMs: now }), this.o.timeoutMs)
    if (!result.ok) {
      throw new ColonyError('channel_delivery_failed', `the test notification was not accepted: ${result.error ?? 'failed'}`,
        { details: { ...(result.status !== undefined && { status: result.status }) } })
    }
    return { status: 'ok' }
  }

  // --- mute (chat) ------------------------------------------------------------------------------------------------

  /** By name or id; `minutes` undefined: until unmuted. */
  mute (teamId: string, ref: string, minutes?: number): ChannelView {
    const row = this.byRef(teamId, ref)
    if (minutes !== undefined && !(Number.isInteger(minutes) && minutes > 0 && minutes <= MAX_MUTE_MINUTES)) {
      throw new ColonyError('invalid_body', `minutes must be a whole number from 1 to ${MAX_MUTE_MINUTES}`, { details: { field: 'minutes' } })
    }
    const now = this.o.clock.now()
    this.o.store.channels.mute(row.id, minutes === undefined ? FOREVER : now + minutes * 60_000, now)
    this.byTeam.delete(teamId)
    return this.get(teamId, row.id)
  }

  unmute (teamId: string, ref: string): ChannelView {
    const row = this.byRef(teamId, ref)
    this.o.store.channels.mute(row.id, null, this.o.clock.now())
    this.byTeam.delete(teamId)
    return this.get(teamId, row.id)
  }

  // --- events -----------------------------------------------------------------------------------------------------

  private onWrennEvent (m: BusMessage): void {
    // Only the runtime publishes below system/ (the broker refuses clients), so the payload is the producer's.
    if (m.clientId !== undefined) return
    let p: EventPayload
    try {
      p = JSON.parse(m.payload.toString('utf8')) as EventPayload
    } catch {
      return
    }
    if (typeof p.team_id !== 'string' || !(WRENN_EVENTS as readonly string[]).includes(p.event)) return
    this.fanOut(p.team_id, p)
  }

  private onActorEvent (m: BusMessage, actors: ActorLookup): void {
    const parsed = parseAgentTopic(m.topic)
    if (parsed === undefined) return
    const who = actors(parsed.id)
    if (who === undefined || who.team === null) return
    // Cheap before parsing: a team without channels is the common case.
    if (this.channelsOf(who.team).length === 0) return
    let payload: AlertPayload | StatusPayload
    try {
      payload = JSON.parse(m.payload.toString('utf8')) as AlertPayload | StatusPayload
    } catch {
      return
    }
    const base = {
      timestamp: new Date(typeof payload.timestampMs === 'number' ? payload.timestampMs : this.o.clock.now()).toISOString(),
      team_id: who.team,
      actor: { type: 'system' as const },
      resource: { id: parsed.id, type: 'actor' },
      agent: { name: who.name, type: who.agentType },
    }
    if (parsed.channel === 'alert') {
      const a = payload as AlertPayload
      if (!SEVERITIES.includes(a.severity) || typeof a.message !== 'string') return
      this.fanOut(who.team, { event: 'actor.alert', ...base, alert: { severity: a.severity, message: a.message, ...(typeof a.code === 'string' && { code: a.code }) } })
    } else if (parsed.channel === 'status') {
      this.fanOut(who.team, { event: 'actor.status', ...base, state: (payload as StatusPayload).state })
    }
  }

  private fanOut (teamId: string, n: Notification): void {
    const now = this.o.clock.now()
    for (const c of this.channelsOf(teamId)) {
      if (!c.events.includes(n.event)) continue
      if (c.mutedUntilMs !== null && c.mutedUntilMs > now) continue
      if (!passes(c.alertFilter === null ? null : JSON.parse(c.alertFilter) as AlertFilter, n)) continue
      this.dispatcher.deliver(c, n)
    }
  }

  private channelsOf (teamId: string): ChannelRecord[] {
    let list = this.byTeam.get(teamId)
    if (list === undefined) {
      list = this.o.store.channels.forTeam(teamId)
      this.byTeam.set(teamId, list)
    }
    return list
  }

  // --- helpers ----------------------------------------------------------------------------------------------------

  private configOf (record: ChannelRecord): Record<string, string> {
    const cached = this.opened.get(record.id)
    if (cached !== undefined && cached.at === record.updatedAtMs) return cached.config
    const config = this.box.openAll(JSON.parse(record.config) as Record<string, string>)
    this.opened.set(record.id, { at: record.updatedAtMs, config })
    return config
  }

  private provider (name: string): Provider {
    const p = providerOf(name)
    if (p === undefined) throw new ColonyError('invalid_body', `provider must be one of ${PROVIDER_NAMES.join(', ')}`, { details: { field: 'provider' } })
    return p
  }

  private row (teamId: string, id: string): ChannelRecord {
    const row = this.o.store.channels.get(id)
    if (row === undefined || row.teamId !== teamId) throw new ColonyError('channel_not_found', `no channel ${id.slice(0, 64)}`)
    return row
  }

  private byRef (teamId: string, ref: string): ChannelRecord {
    const row = this.o.store.channels.named(teamId, ref) ?? this.o.store.channels.get(ref)
    if (row === undefined || row.teamId !== teamId) throw new ColonyError('channel_not_found', `no channel named ${ref.slice(0, 64)}`)
    return row
  }

  view (r: ChannelRecord): ChannelView {
    const muted = r.mutedUntilMs !== null && r.mutedUntilMs > this.o.clock.now()
    return {
      id: r.id,
      team_id: r.teamId,
      name: r.name,
      provider: r.provider,
      events: r.events,
      alert_filter: r.alertFilter === null ? null : JSON.parse(r.alertFilter) as AlertFilter,
      muted_until: muted && r.mutedUntilMs !== FOREVER ? new Date(r.mutedUntilMs as number).toISOString() : null,
      muted,
      created_at: new Date(r.createdAtMs).toISOString(),
      updated_at: new Date(r.updatedAtMs).toISOString(),
    }
  }
}

function nameTaken (name: string): ColonyError {
  return new ColonyError('channel_name_taken', `the team already has a channel named ${name.slice(0, 64)}`, { details: { field: 'name' } })
}

/** At least one, each known (Wrenn's or Colony's); repeats collapse. */
function checkEvents (events: string[]): ChannelEvent[] {
  if (events.length === 0) throw new ColonyError('channel_event_unknown', 'at least one event is required', { details: { field: 'events' } })
  for (const e of events) {
    if (!(CHANNEL_EVENTS as readonly string[]).includes(e)) {
      throw new ColonyError('channel_event_unknown', `unknown event ${e.slice(0, 64)}; events are ${CHANNEL_EVENTS.join(', ')}`, { details: { field: 'events', event: e.slice(0, 64) } })
    }
  }
  return [...new Set(events)] as ChannelEvent[]
}

/** The provider's required fields, non-empty; nothing it does not know; URLs http or https. Returns a copy. */
function checkConfig (provider: Provider, config: Record<string, string>): Record<string, string> {
  const bad = (field: string, why: string): ColonyError =>
    new ColonyError('channel_config_invalid', `config.${field} ${why} (${provider.name} takes ${[...provider.required, ...provider.optional].join(', ')})`, { details: { field: `config.${field}` } })
  for (const key of provider.required) {
    if (typeof config[key] !== 'string' || config[key] === '') throw bad(key, 'is required')
  }
  for (const key of Object.keys(config)) {
    if (!provider.required.includes(key) && !provider.optional.includes(key)) throw bad(key.slice(0, 64), 'is not a field of this provider')
  }
  for (const key of provider.urls) {
    const value = config[key]
    if (value === undefined || value === '') continue
    let url: URL | undefined
    try {
      url = new URL(value)
    } catch {
      url = undefined
    }
    // The value is never echoed: it may hold a token.
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw bad(key, 'must be an http or https URL')
  }
  return { ...config }
}

function checkFilter (f: AlertFilter): AlertFilter {
  return {
    ...(f.min_severity !== undefined && { min_severity: f.min_severity }),
    ...(f.agent_types !== undefined && { agent_types: [...new Set(f.agent_types)] }),
  }
}
