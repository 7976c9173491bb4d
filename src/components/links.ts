import { EventEmitter } from 'node:events'
import type { Clock } from '../clock.js'
import { ColonyError } from '../errors.js'
import type { Link, Store } from '../store/index.js'

/** `local`: this host decided it (REST, NATS request); `replica`: another host of the lattice did, and told us. */
export type ChangeOrigin = 'local' | 'replica'

/** The key of a link: a component has at most one link per interface package and link name. */
export interface LinkKey { source_id: string, name: string, wit_namespace: string, wit_package: string }

interface LinkEvents {
  /** Links of `sourceId` changed: actors serving that source re-plan their imports. */
  changed: [sourceId: string]
  linkSet: [link: Link, origin: ChangeOrigin]
  linkDeleted: [link: LinkKey & Partial<Link>, origin: ChangeOrigin]
  configSet: [name: string, entries: Record<string, string>, origin: ChangeOrigin]
  configDeleted: [name: string, origin: ChangeOrigin]
}

/** A component as links see it: a link's `source_id` may name its id, its name, or a lattice id it was scaled under. */
export interface LinkSource { id: string, name: string, teamId: string }

/** Interfaces the WASI shim provides to every instance; anything else a component imports needs a link. */
const SHIM_PROVIDED = /^wasi:(cli|io|clocks|random|filesystem|sockets|http)\//
const PART = /^[A-Za-z0-9_.:-]{1,128}$/

export interface ImportPlan {
  /** Imported interface -> the link serving it. */
  linked: Map<string, Link>
  /** Imports nobody serves: instantiation would fail. */
  missing: string[]
}

/**
 * wasmCloud links and named configs, stored in SQLite: a link says which provider serves which interfaces of a
 * component's imports (`wasi:keyvalue/store` -> `keyvalue-provider`). The NATS control interface and REST both
 * write through here, and the events tell the lattice.
 */
export class LinkService extends EventEmitter<LinkEvents> {
  /** Lattice component ids (chosen by whoever scaled over NATS) -> registry component ids. */
  private readonly aliases = new Map<string, string>()

  constructor (private readonly store: Store, private readonly clock: Clock) {
    super()
    // Every component and provider actor listens for `changed` (and stops listening when it stops): no fixed bound.
    this.setMaxListeners(0)
  }

  /** Validates and stores a link (replacing the one with the same key). */
  put (link: Link, team: string | null, origin: ChangeOrigin = 'local'): Link {
    const clean = validateLink(link)
    this.store.links.put(clean, team, this.clock.now())
    this.emit('changed', clean.source_id)
    this.emit('linkSet', clean, origin)
    return clean
  }

  /** The stored link with the same key as `key`, if any. */
  find (key: LinkKey): Link | undefined {
    return this.forSource(key.source_id).find((l) => l.name === key.name && l.wit_namespace === key.wit_namespace && l.wit_package === key.wit_package)
  }

  remove (sourceId: string, namespace: string, pkg: string, name = 'default', origin: ChangeOrigin = 'local'): boolean {
    const existing = this.find({ source_id: sourceId, name, wit_namespace: namespace, wit_package: pkg })
    const removed = this.store.links.remove(sourceId, namespace, pkg, name)
    if (removed) {
      this.emit('changed', sourceId)
      this.emit('linkDeleted', { ...existing, source_id: sourceId, name, wit_namespace: namespace, wit_package: pkg }, origin)
    }
    return removed
  }

  forSource (sourceId: string): Link[] {
    return this.store.links.forSource(sourceId)
  }

  all (): Array<Link & { team: string | null }> {
    return this.store.links.all()
  }

  /** Links naming `latticeId` as their source now serve component `componentId` (a NATS scale under that id). */
  alias (latticeId: string, componentId: string): void {
    if (latticeId === componentId || this.aliases.get(latticeId) === componentId) return
    this.aliases.set(latticeId, componentId)
    this.emit('changed', latticeId)
  }

  /** The lattice id a component was last scaled under over NATS, if any. */
  latticeIdOf (componentId: string): string | undefined {
    let found: string | undefined
    for (const [latticeId, id] of this.aliases) if (id === componentId) found = latticeId
    return found
  }

  /** Every `source_id` that designates this component. */
  sourcesOf (source: LinkSource): Set<string> {
    const out = new Set([source.id, source.name])
    for (const [latticeId, id] of this.aliases) if (id === source.id) out.add(latticeId)
    return out
  }

  /**
   * Which link serves each of a component's imports, and which imports nobody serves. Links naming the component
   * by id win over those naming a lattice id or its name; only links of its team (or of no team) count.
   */
  plan (source: LinkSource, imports: string[]): ImportPlan {
    const sources = this.sourcesOf(source)
    const rank = (l: Link): number => (l.source_id === source.id ? 0 : l.source_id === source.name ? 2 : 1) * 2 + (l.name === 'default' ? 0 : 1)
    const links = [...sources].flatMap((s) => this.store.links.forSource(s))
      .filter((l) => l.team === null || l.team === source.teamId)
      .sort((a, b) => rank(a) - rank(b))
    const linked = new Map<string, Link>()
    const missing: string[] = []
    for (const iface of imports) {
      if (SHIM_PROVIDED.test(iface)) continue
      const { namespace, pkg, name } = splitInterface(iface)
      const link = links.find((l) => l.wit_namespace === namespace && l.wit_package === pkg && l.interfaces.includes(name))
      if (link === undefined) missing.push(iface)
      else linked.set(iface, link)
    }
    return { linked, missing }
  }

  putConfig (name: string, team: string | null, entries: Record<string, string>, origin: ChangeOrigin = 'local'): void {
    if (!PART.test(name)) throw new ColonyError('invalid_body', 'config names are 1 to 128 characters of A-Z a-z 0-9 _ . : -', { details: { field: 'name' } })
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
      throw new ColonyError('invalid_body', 'a config is a JSON object of string values')
    }
    if (Object.keys(entries).length > 1024) throw new ColonyError('invalid_body', 'a config holds at most 1024 values')
    for (const [k, v] of Object.entries(entries)) {
      if (typeof v !== 'string' || k.length > 256 || v.length > 64 * 1024) {
        throw new ColonyError('invalid_body', `config value "${k.slice(0, 40)}" must be a string (keys up to 256, values up to 65536 characters)`, { details: { field: k.slice(0, 40) } })
      }
    }
    this.store.links.putConfig(name, team, entries, this.clock.now())
    this.emit('configSet', name, entries, origin)
  }

  getConfig (name: string): { team: string | null, entries: Record<string, string> } | undefined {
    return this.store.links.getConfig(name)
  }

  removeConfig (name: string, origin: ChangeOrigin = 'local'): boolean {
    const removed = this.store.links.removeConfig(name)
    if (removed) this.emit('configDeleted', name, origin)
    return removed
  }

  /** The named configs merged, later names winning (a link's `target_config` or `source_config`). */
  mergedConfig (names: string[]): Record<string, string> {
    return Object.assign({}, ...names.map((n) => this.getConfig(n)?.entries ?? {})) as Record<string, string>
  }
}

/** `wasi:keyvalue/store@0.2.0-draft` -> namespace `wasi`, package `keyvalue`, interface `store`. */
export function splitInterface (iface: string): { namespace: string, pkg: string, name: string } {
  const bare = iface.split('@')[0] ?? iface
  const colon = bare.indexOf(':')
  const slash = bare.indexOf('/')
  return { namespace: bare.slice(0, colon), pkg: bare.slice(colon + 1, slash), name: bare.slice(slash + 1) }
}

/** Checks a link's fields (names, lists); `name` defaults to `default`, the config lists to []. */
export function validateLink (raw: Link): Link {
  const text = (field: keyof Link, value: unknown): string => {
    if (typeof value !== 'string' || !PART.test(value)) {
      throw new ColonyError('invalid_body', `${field} must be 1 to 128 characters of A-Z a-z 0-9 _ . : -`, { details: { field } })
    }
    return value
  }
  const list = (field: keyof Link, value: unknown, required: boolean): string[] => {
    if (value === undefined && !required) return []
    if (!Array.isArray(value) || (required && value.length === 0) || value.length > 64) {
      throw new ColonyError('invalid_body', `${field} must be a list of names${required ? ' (at least one)' : ''}`, { details: { field } })
    }
    return value.map((v) => text(field, v))
  }
  return {
    source_id: text('source_id', raw.source_id),
    target: text('target', raw.target),
    name: raw.name === undefined ? 'default' : text('name', raw.name),
    wit_namespace: text('wit_namespace', raw.wit_namespace),
    wit_package: text('wit_package', raw.wit_package),
    interfaces: list('interfaces', raw.interfaces, true),
    source_config: list('source_config', raw.source_config, false),
    target_config: list('target_config', raw.target_config, false),
  }
}
