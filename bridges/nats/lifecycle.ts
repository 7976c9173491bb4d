import { filters, parseAgentTopic, parseJson, type Unsubscribe } from '../../src/index.js'
import type { ComponentScaled, ComponentScaleFailed, ChangeOrigin, Link, LinkKey } from '../../src/components.js'
import type { Lattice } from './lattice.js'
import type { StartedProvider } from './host.js'
import { linkView } from './control/links.js'

/**
 * Turns what happens in this Colony into lattice events, whichever door caused it:
 * - component scales (REST, chat, NATS) -> `component_scaled` / `component_scale_failed`;
 * - link and config changes made here -> `linkdef_set` / `linkdef_deleted` / `config_set` / `config_deleted`
 *   (changes replicated from other hosts are not announced again);
 * - every actor status on MQTT -> `actor_state_changed`, and provider actors starting or going -> `provider_started`
 *   / `provider_stopped`.
 */
export function announceLifecycle (l: Lattice): Unsubscribe {
  const { components, links } = l.ctx.services
  const hostId = l.host.id

  const onScaled = (e: ComponentScaled): void => {
    const origin = l.host.scaled(e)
    l.events.emit('component_scaled', {
      annotations: origin.annotations ?? {},
      host_id: hostId,
      image_ref: origin.imageRef ?? `component:${e.componentId}`,
      max_instances: e.instances,
      component_id: origin.latticeId ?? e.componentId,
      claims: { name: e.name, issuer: hostId, version: String(e.version ?? 0), revision: e.version ?? 0 },
    })
  }
  const onScaleFailed = (e: ComponentScaleFailed): void => {
    l.events.emit('component_scale_failed', {
      annotations: e.origin.annotations ?? {},
      component_id: e.origin.latticeId ?? e.componentId,
      host_id: hostId,
      image_ref: e.origin.imageRef ?? `component:${e.componentId}`,
      max_instances: e.instances,
      error: e.error,
    })
  }
  const onLinkSet = (link: Link, origin: ChangeOrigin): void => { if (origin === 'local') l.events.emit('linkdef_set', { ...linkView(link) }) }
  const onLinkDeleted = (link: LinkKey & Partial<Link>, origin: ChangeOrigin): void => {
    if (origin !== 'local') return
    const { source_id, name, wit_namespace, wit_package, target, interfaces } = link
    l.events.emit('linkdef_deleted', { source_id, name, wit_namespace, wit_package, ...(target !== undefined && { target, interfaces }) })
  }
  const onConfigSet = (name: string, entries: Record<string, string>, origin: ChangeOrigin): void => {
    // `entries` is Colony's addition: the other hosts store the config from the event (stripped on MQTT).
    if (origin === 'local') l.events.emit('config_set', { config_name: name, entries })
  }
  const onConfigDeleted = (name: string, origin: ChangeOrigin): void => { if (origin === 'local') l.events.emit('config_deleted', { config_name: name }) }

  components.on('scaled', onScaled)
  components.on('scaleFailed', onScaleFailed)
  links.on('linkSet', onLinkSet)
  links.on('linkDeleted', onLinkDeleted)
  links.on('configSet', onConfigSet)
  links.on('configDeleted', onConfigDeleted)

  /**
   * Name, type, kind and last state per actor (read from the registry once): a deleted actor's cleared status no longer
   * finds it there. A provider's reference is kept too: once it is deleted, the domain no longer says how it was started.
   */
  const known = new Map<string, { name: string, agentType: string, kind: string, state: string, provider?: StartedProvider }>()
  const TERMINAL = new Set(['stopped', 'failed', 'deleted'])
  const unsubscribe = l.ctx.bus.subscribe(filters.status, (m) => {
    const actorId = parseAgentTopic(m.topic)?.id ?? ''
    let who = known.get(actorId)
    const before = who?.state
    if (who === undefined) {
      const actor = l.ctx.system.get(actorId)
      who = { name: actor?.name ?? actorId, agentType: actor?.agentType ?? 'unknown', kind: actor?.kind ?? '', state: 'unknown' }
    }
    const status = m.payload.length === 0 ? undefined : parseJson(m.payload) as { state?: string, error?: string } | undefined
    const state = status?.state ?? 'deleted'
    who.state = state
    if (state === 'deleted') known.delete(actorId)
    else known.set(actorId, who)
    l.events.emit('actor_state_changed', {
      host_id: hostId, actor_id: actorId, name: who.name, agent_type: who.agentType, state,
      ...(status?.error !== undefined && { error: status.error }),
    })
    if (who.agentType === 'provider') {
      const p = who.provider ??= l.host.providerOf(who.name, who.kind)
      if (state === 'running' && before !== 'running') {
        l.events.emit('provider_started', { host_id: hostId, image_ref: p.imageRef, provider_id: who.name, annotations: p.annotations, instance_id: actorId, link_name: 'default' })
      } else if (TERMINAL.has(state) && before !== undefined && !TERMINAL.has(before)) {
        l.events.emit('provider_stopped', {
          host_id: hostId, provider_id: who.name, annotations: p.annotations, reason: state === 'failed' ? 'failed' : 'stop', instance_id: actorId, link_name: 'default',
        })
      }
    }
    if (who.agentType === 'component' && (state === 'deleted' || state === 'failed')) l.host.forget(actorId)
  })

  return () => {
    unsubscribe()
    components.off('scaled', onScaled)
    components.off('scaleFailed', onScaleFailed)
    links.off('linkSet', onLinkSet)
    links.off('linkDeleted', onLinkDeleted)
    links.off('configSet', onConfigSet)
    links.off('configDeleted', onConfigDeleted)
  }
}
