import type { Handler, Lattice } from '../lattice.js'
import { BadRequest, ok, text } from '../wire.js'

/**
 * `host.ping`, `host.get` (the seed's scatter-gather), `host.get.{id}` / `host.{id}.inv` (inventory),
 * `host.stop.{id}`, `label.put|del.{id}`, `claims.get` and `registry.put`.
 */
export function hostHandlers (l: Lattice): Record<string, Handler> {
  const summary = (): Record<string, unknown> => l.host.summary({ ctl: l.link.server })

  const labelKey = (body: Record<string, unknown>): string => {
    const key = text(body, 'key', { max: 128, pattern: /^[A-Za-z0-9_.-]+$/ })
    if (key.startsWith('hostcore.')) throw new BadRequest('hostcore.* labels are set by the host itself and cannot be changed')
    return key
  }

  return {
    'host.ping': () => ok('', summary()),
    'host.get': () => ok('', summary(), true),
    'host.inventory': () => ok('', l.host.inventory()),
    // The seed's inventory subject returns the HostInventory itself (and the CtlResponse around it).
    'host.inv': () => ok('', l.host.inventory(), true),

    'host.stop': (body) => {
      const timeout = body.timeout
      if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || timeout < 0)) throw new BadRequest('timeout must be a number of milliseconds')
      // The reply goes out first; the bridge announces host_stopped as it closes.
      l.later('stop host', async () => { l.ctx.requestShutdown('NATS host.stop') })
      return ok('successfully handled stop host')
    },

    'label.put': (body) => {
      const key = labelKey(body)
      l.host.labels[key] = text(body, 'value', { optional: true, max: 1024 })
      l.events.emit('labels_changed', { host_id: l.host.id, labels: { ...l.host.labels } })
      return ok('successfully put label')
    },

    'label.del': (body) => {
      const key = labelKey(body)
      if (!(key in l.host.labels)) return ok(`label ${key} did not exist`)
      delete l.host.labels[key]
      l.events.emit('labels_changed', { host_id: l.host.id, labels: { ...l.host.labels } })
      return ok('successfully deleted label')
    },

    // Colony's components are not signed: the claims are what the registry knows, issued by this host.
    'claims.get': () => ok('', l.ctx.services.components.list(l.who(), l.who().teamId, 'default').map((c) => ({
      sub: c.componentId,
      name: c.componentName,
      iss: l.host.id,
      rev: String(c.componentVersion),
      version: String(c.componentVersion),
      call_alias: '',
      tags: '',
    }))),

    'registry.put': () => ok('registry credentials are not used: OCI pulls are not configured on this host'),
  }
}
