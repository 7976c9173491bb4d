import { toColonyError } from '../../../src/index.js'
import { scaleComponent } from '../../../src/components.js'
import type { Handler, Lattice } from '../lattice.js'
import { resolveComponentRef } from '../refs.js'
import { count, fail, id, ok, stringMap, text } from '../wire.js'

/**
 * `component.scale.{hostId}`, `component.update.{hostId}` and `component.auction`. Scale and update answer at once
 * (as wasmCloud hosts do) and report the outcome as `component_scaled` / `component_scale_failed` events; the scale
 * itself goes through the same `scaleComponent` as REST and chat, which emits those events for every door.
 */
export function componentHandlers (l: Lattice): Record<string, Handler> {
  const scaleFailed = (ref: string, latticeId: string, instances: number, annotations: Record<string, string>, error: string): void => {
    l.events.emit('component_scale_failed', {
      annotations, component_id: latticeId, host_id: l.host.id, image_ref: ref, max_instances: instances, error,
    })
  }

  const scale = async (ref: string, latticeId: string, instances: number, annotations: Record<string, string>): Promise<void> => {
    const { components, links } = l.ctx.services
    const origin = { imageRef: ref, latticeId, annotations }
    let target: { componentId: string, version?: number }
    try {
      // Scaling to zero stops what runs under that id; nothing is fetched for it.
      const running = l.host.findComponent(latticeId)
      if (instances === 0 && running !== undefined) target = { componentId: running }
      else if (instances === 0) {
        l.events.emit('component_scaled', { annotations, component_id: latticeId, host_id: l.host.id, image_ref: ref, max_instances: 0 })
        return
      } else target = await resolveComponentRef(l, ref, latticeId)
    } catch (err) {
      scaleFailed(ref, latticeId, instances, annotations, toColonyError(err).message)
      return
    }
    // One registry component is one actor here: it cannot also run under a second lattice id.
    const runningAs = l.host.component(target.componentId)?.id
    if (runningAs !== undefined && runningAs !== latticeId) {
      scaleFailed(ref, latticeId, instances, annotations, `${ref} already runs on this host as component ${runningAs}; scale it under that id`)
      return
    }
    links.alias(latticeId, target.componentId)
    // Failures here are reported by the registry's scaleFailed event.
    await scaleComponent(l.ctx.system, components, target.componentId, instances,
      { as: l.who(), settings: { version: target.version ?? null }, origin }).catch(() => undefined)
  }

  return {
    'component.scale': (body) => {
      const ref = text(body, 'component_ref', { max: 2048 })
      const latticeId = id(body, 'component_id')
      const instances = count(body)
      const annotations = stringMap(body, 'annotations')
      l.later(`scale ${latticeId}`, () => scale(ref, latticeId, instances, annotations))
      return ok()
    },

    'component.update': (body) => {
      const latticeId = id(body, 'component_id')
      const ref = text(body, 'new_component_ref', { max: 2048 })
      const annotations = stringMap(body, 'annotations')
      const current = l.host.findComponent(latticeId)
      const described = current === undefined ? undefined : l.host.component(current)
      if (current === undefined || described === undefined) return fail(`component ${latticeId} not found`)
      l.later(`update ${latticeId}`, async () => {
        await scale(ref, latticeId, described.max_instances, { ...described.annotations, ...annotations })
        // A different registry component now serves the id: the old one stops.
        const now = l.host.findComponent(latticeId)
        if (now !== undefined && now !== current) {
          await scaleComponent(l.ctx.system, l.ctx.services.components, current, 0, { as: l.who() }).catch(() => undefined)
        }
      })
      return ok(`component ${latticeId} updating from ${described.image_ref} to ${ref}`)
    },

    'component.auction': (body) => {
      const ref = text(body, 'component_ref', { max: 2048 })
      const latticeId = id(body, 'component_id')
      const constraints = stringMap(body, 'constraints')
      // Hosts that cannot take it stay silent: the auctioneer gathers the offers.
      if (!l.host.satisfies(constraints) || l.host.findComponent(latticeId) !== undefined) return undefined
      return ok('', { component_ref: ref, component_id: latticeId, host_id: l.host.id, constraints })
    },
  }
}
