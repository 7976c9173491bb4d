import { EventEmitter } from 'node:events'
import type { Clock } from '../clock.js'
import { ColonyError } from '../errors.js'
import type { Link, Store } from '../store/index.js'

interface LinkEvents { changed: [sourceId: string] }

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
 * write through here.
 */
export class LinkService extends EventEmitter<LinkEvents> {
  constructor (private readonly store: Store, private readonly clock: Clock) {
    super()
  }

  put (link: Link, team: string | null): Link {
    const clean = validate(link)
    this.store.links.put(clean, team, this.clock.now())
    this.emit('changed', clean.source_id)
    return clean
  }

  remove (sourceId: string, namespace: string, pkg: string, name = 'default'): boolean {
    const removed = this.store.links.remove(sourceId, namespace, pkg, name)
    if (removed) this.emit('changed', sourceId)
    return removed
  }

  forSource (sourceId: string): Link[] {
    return this.store.links.forSource(sourceId)
  }

  all (): Array<Link & { team: string | null }> {
    return this.store.links.all()
  }

  /** Which link serves each of a component's imports, and which imports nobody serves. */
  plan (sourceId: string, imports: string[]): ImportPlan {
    const links = this.forSource(sourceId)
    const linked = new Map<string, Link>()
    const missing: string[] = []
    for (const iface of imports) {
      if (SHIM_PROVIDED.test(iface)) continue
      const { namespace, pkg, name } = splitInterface(iface)
      const candidates = links.filter((l) => l.wit_namespace === namespace && l.wit_package === pkg && l.interfaces.includes(name))
      const link = candidates.find((l) => l.name === 'default') ?? candidates[0]
      if (link === undefined) missing.push(iface)
      else linked.set(iface, link)
    }
    return { linked, missing }
  }

  putConfig (name: string, team: string | null, entries: Record<string, string>): void {
    if (!PART.test(name)) throw new ColonyError('invalid_body', 'config names are 1 to 128 characters of A-Z a-z 0-9 _ . : -', { details: { field: 'name' } })
    for (const [k, v] of Object.entries(entries)) {
      if (typeof v !== 'string') throw new ColonyError('invalid_body', `config value "${k.slice(0, 40)}" must be a string`, { details: { field: k } })
    }
    this.store.links.putConfig(name, team, entries, this.clock.now())
  }

  getConfig (name: string): { team: string | null, entries: Record<string, string> } | undefined {
    return this.store.links.getConfig(name)
  }

  removeConfig (name: string): boolean {
    return this.store.links.removeConfig(name)
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

function validate (raw: Link): Link {
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
