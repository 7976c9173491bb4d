import { ID_PATTERN, toColonyError } from '../../../src/index.js'
import type { Handler, Lattice } from '../lattice.js'
import { resolveProviderRef } from '../refs.js'
import { BadRequest, fail, ok, stringList, stringMap, text } from '../wire.js'
import { rememberProvider, type SavedProvider } from '../saved-providers.js'

/**
 * `provider.start.{hostId}`, `provider.stop.{hostId}` and `provider.auction`. Colony's providers are built in
 * (keyvalue, messaging, logging); starting one spawns another provider actor named by `provider_id`, which links
 * may then target. `provider_started` / `provider_stopped` follow from the actor's status (see lifecycle.ts).
 */
export function providerHandlers (l: Lattice): Record<string, Handler> {
  const providerId = (body: Record<string, unknown>, field = 'provider_id'): string => {
    const value = text(body, field, { max: 64 })
    if (!ID_PATTERN.test(value)) throw new BadRequest(`${field} must be 1 to 64 characters of A-Z a-z 0-9 _ - (it names the provider's actor)`)
    return value
  }
  const running = (name: string): boolean => {
    const a = l.ctx.system.get(name)
    return a !== undefined && a.agentType === 'provider' && a.state !== 'stopped' && a.state !== 'failed'
  }

  return {
    'provider.start': (body) => {
      const id = providerId(body)
      const ref = text(body, 'provider_ref', { max: 2048 })
      const annotations = stringMap(body, 'annotations')
      stringList(body, 'config')
      if (running(id)) return fail('provider with that ID is already running')
      if (l.ctx.system.get(id) !== undefined) return fail(`an actor named ${id} already exists on this host`)
      l.later(`start provider ${id}`, async () => {
        try {
          await startProvider(l, { id, ref, annotations })
          rememberProvider(l.ctx, { id, ref, annotations })
        } catch (err) {
          l.events.emit('provider_start_failed', { provider_ref: ref, provider_id: id, host_id: l.host.id, error: toColonyError(err).message, link_name: 'default' })
        }
      })
      return ok('successfully started provider')
    },

    'provider.stop': (body) => {
      const id = providerId(body, body.provider_id === undefined && body.provider_ref !== undefined ? 'provider_ref' : 'provider_id')
      if (!running(id)) return fail('provider with that ID is not running')
      if (l.ctx.system.get(id)?.protected === true) return fail(`provider ${id} is built into this host and cannot be stopped`)
      l.later(`stop provider ${id}`, async () => { await l.ctx.system.remove(id) })
      return ok('successfully stopped provider')
    },

    'provider.auction': (body) => {
      const ref = text(body, 'provider_ref', { max: 2048 })
      const id = providerId(body)
      const constraints = stringMap(body, 'constraints')
      if (!l.host.satisfies(constraints) || running(id)) return undefined
      return ok('', { provider_ref: ref, provider_id: id, host_id: l.host.id, constraints })
    },
  }
}

/** Spawns the provider actor `p.id` for its reference (built-in kinds only); throws why it cannot. */
export async function startProvider (l: Lattice, p: SavedProvider): Promise<void> {
  const kind = resolveProviderRef(p.ref)
  l.host.providerStarted(p.id, p.ref, p.annotations)
  try {
    const info = await l.ctx.system.spawnInternal(kind, { id: p.id, name: p.id, team: null, protected: false })
    if (info.state !== 'running') throw new Error(info.error ?? `the provider is ${info.state}`)
  } catch (err) {
    l.host.forgetProvider(p.id)
    throw err
  }
}
