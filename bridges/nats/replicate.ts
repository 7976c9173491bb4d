import type { NatsConnection } from '@nats-io/transport-node'
import { validateLink, type Link } from '../../src/components.js'
import type { CloudEvent } from './events.js'
import type { Lattice } from './lattice.js'
import { linkTeam } from './control/links.js'

/**
 * The lattice's shared state without a shared database: each host keeps links and configs in its own SQLite, and
 * applies the `linkdef_set`, `linkdef_deleted`, `config_set` and `config_deleted` events other hosts announce. Every
 * event of the lattice is also mirrored on MQTT, so `/ws` and the dashboard see the whole lattice.
 */
export function replicateEvents (l: Lattice): { applied: () => number } {
  const { links } = l.ctx.services
  let applied = 0
  l.link.subscribe(`wasmbus.evt.${l.host.lattice}.>`, (msg) => {
    let event: CloudEvent
    try {
      event = JSON.parse(new TextDecoder().decode(msg.data)) as CloudEvent
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || typeof event.data !== 'object' || event.data === null) throw new Error('not a CloudEvent')
    } catch (err) {
      l.ctx.log.warn({ subject: msg.subject, error: (err as Error).message }, 'ignored a malformed lattice event')
      return
    }
    if (event.source === l.host.id) return
    l.events.mirror(event)
    try {
      if (apply(l, event.type.slice(event.type.lastIndexOf('.') + 1), event.data)) applied++
    } catch (err) {
      l.ctx.log.warn({ err, type: event.type, source: event.source }, 'could not apply a lattice event')
    }
  })
  return { applied: () => applied }

  function apply (l: Lattice, name: string, data: Record<string, unknown>): boolean {
    if (name === 'linkdef_set') {
      const link = validateLink(data as unknown as Link)
      links.put(link, linkTeam(l, link.source_id), 'replica')
      return true
    }
    if (name === 'linkdef_deleted') {
      const d = data as Partial<Record<string, string>>
      return links.remove(d.source_id ?? '', d.wit_namespace ?? '', d.wit_package ?? '', d.name ?? 'default', 'replica')
    }
    if (name === 'config_set' && typeof data.config_name === 'string' && typeof data.entries === 'object' && data.entries !== null) {
      links.putConfig(data.config_name, null, data.entries as Record<string, string>, 'replica')
      return true
    }
    if (name === 'config_deleted' && typeof data.config_name === 'string') return links.removeConfig(data.config_name, 'replica')
    return false
  }
}

/**
 * A host joining a lattice asks for the links the others hold (`link.get`, before it answers that subject itself)
 * and then for the configs those links name that it does not have. Nobody answering means it is the first host.
 */
export async function catchUp (l: Lattice, nc: NatsConnection): Promise<number> {
  const { links } = l.ctx.services
  let added = 0
  const ask = async (subject: string): Promise<{ success?: boolean, response?: unknown } | undefined> => {
    try {
      const reply = await nc.request(`${l.prefix}.${subject}`, '', { timeout: 2000 })
      return JSON.parse(reply.string()) as { success?: boolean, response?: unknown }
    } catch {
      return undefined
    }
  }
  const got = await ask('link.get')
  if (got?.success !== true || !Array.isArray(got.response)) return 0
  for (const raw of got.response as Link[]) {
    try {
      const link = validateLink(raw)
      if (links.find(link) === undefined) {
        links.put(link, linkTeam(l, link.source_id), 'replica')
        added++
      }
    } catch (err) {
      l.ctx.log.warn({ err }, 'ignored a malformed link from the lattice')
    }
  }
  const names = new Set(links.all().flatMap((k) => [...k.source_config, ...k.target_config]))
  for (const name of names) {
    if (links.getConfig(name) !== undefined) continue
    const config = await ask(`config.get.${name}`)
    if (config?.success === true && typeof config.response === 'object' && config.response !== null) {
      links.putConfig(name, null, config.response as Record<string, string>, 'replica')
    }
  }
  return added
}
