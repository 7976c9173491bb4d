import { ID_PATTERN, toColonyError } from '../../../src/index.js'
import { checkProviderStart, checkProviderStop, isRunningProvider, startProvider, stopProvider } from '../../../src/components.js'
import type { Handler, Lattice } from '../lattice.js'
import { BadRequest, fail, ok, stringList, stringMap, text, type Reply } from '../wire.js'

/**
 * `provider.start.{hostId}`, `provider.stop.{hostId}` and `provider.auction`. Colony's providers are built in
 * (keyvalue, messaging, logging); starting one spawns another provider actor named by `provider_id`, which links
 * may then target. The components domain starts, saves and stops them (`startProvider`, `stopProvider`, as a
 * REST route would); the lattice owns them (no team). `provider_started` / `provider_stopped` follow from the
 * actor's status (see lifecycle.ts).
 */
export function providerHandlers (l: Lattice): Record<string, Handler> {
  const providerId = (body: Record<string, unknown>, field = 'provider_id'): string => {
    const value = text(body, field, { max: 64 })
    if (!ID_PATTERN.test(value)) throw new BadRequest(`${field} must be 1 to 64 characters of A-Z a-z 0-9 _ - (it names the provider's actor)`)
    return value
  }
  /** The domain's refusal, answered as the control interface's `{success: false, error}`. */
  const refused = (check: () => void): Reply | undefined => {
    try {
      check()
      return undefined
    } catch (err) {
      return fail(toColonyError(err).message)
    }
  }

  return {
    'provider.start': (body) => {
      const id = providerId(body)
      const ref = text(body, 'provider_ref', { max: 2048 })
      const annotations = stringMap(body, 'annotations')
      stringList(body, 'config')
      const refusal = refused(() => { checkProviderStart(l.ctx.system, { id, team: null }) })
      if (refusal !== undefined) return refusal
      l.later(`start provider ${id}`, async () => {
        try {
          await startProvider(l.ctx.system, l.ctx.services.providers, { id, ref, annotations, team: null, origin: 'nats' })
        } catch (err) {
          l.events.emit('provider_start_failed', { provider_ref: ref, provider_id: id, host_id: l.host.id, error: toColonyError(err).message, link_name: 'default' })
        }
      })
      return ok('successfully started provider')
    },

    'provider.stop': (body) => {
      const id = providerId(body, body.provider_id === undefined && body.provider_ref !== undefined ? 'provider_ref' : 'provider_id')
      const refusal = refused(() => { checkProviderStop(l.ctx.system, id) })
      if (refusal !== undefined) return refusal
      l.later(`stop provider ${id}`, async () => { await stopProvider(l.ctx.system, l.ctx.services.providers, id) })
      return ok('successfully stopped provider')
    },

    'provider.auction': (body) => {
      const ref = text(body, 'provider_ref', { max: 2048 })
      const id = providerId(body)
      const constraints = stringMap(body, 'constraints')
      if (!l.host.satisfies(constraints) || isRunningProvider(l.ctx.system, id)) return undefined
      return ok('', { provider_ref: ref, provider_id: id, host_id: l.host.id, constraints })
    },
  }
}
