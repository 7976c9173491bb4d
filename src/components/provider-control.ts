import { ColonyError } from '../errors.js'
import { ID_PATTERN } from '../ids.js'
import type { Logger } from '../log.js'
import { canAccess, type Identity } from '../auth/identity.js'
import type { ActorInfo, SystemApi } from '../actor/types.js'
import type { ProviderMemory, SavedProvider } from './provider-memory.js'

/** Colony's providers are built in: the references it knows, each an actor kind `provider:<name>`. */
const PROVIDER_KINDS = ['keyvalue', 'messaging', 'logging']

/** `ghcr.io/org/name:tag`, `localhost:5000/x`, `oci://...`: what wasmCloud pulls from a registry. */
const OCI = /^(oci:\/\/|[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]+)?\/|localhost(:[0-9]+)?\/)/i

export function isOciReference (ref: string): boolean {
  return OCI.test(ref)
}

/** The actor kind for a provider reference (`builtin:keyvalue`, or just `keyvalue`); `invalid_body` for any other. */
export function providerKind (ref: string): string {
  const name = ref.replace(/^builtin:(\/\/)?/, '')
  if (PROVIDER_KINDS.includes(name)) return `provider:${name}`
  const known = PROVIDER_KINDS.map((k) => `builtin:${k}`).join(', ')
  if (isOciReference(ref)) throw new ColonyError('invalid_body', `provider_ref "${ref.slice(0, 80)}": OCI pulls are not configured on this host; built-in providers: ${known}`)
  throw new ColonyError('invalid_body', `unknown provider_ref "${ref.slice(0, 80)}"; built-in providers: ${known}`)
}

/** A provider to start: its actor's id (and name), its reference, and whose it is. */
export interface ProviderStart {
  /** The provider actor's id and name, which links target: 1 to 64 characters of A-Z a-z 0-9 _ -. */
  id: string
  /** `builtin:keyvalue`, `builtin:messaging`, `builtin:logging` (or the bare name). */
  ref: string
  annotations?: Record<string, string>
  /** The team whose actor it is; null: the host's own (NATS acts as the platform admin). */
  team: string | null
  /** Who starts it, saved with it: `nats`, `rest`. */
  origin: string
}

/** Who asks (must be able to see the team); undefined: the runtime itself. */
export interface ProviderCaller { as?: Identity }

/** The provider actor `id` runs (or is paused) and `as` may see it. */
export function isRunningProvider (system: SystemApi, id: string, as?: Identity): boolean {
  const a = system.get(id, as)
  return a !== undefined && a.agentType === 'provider' && a.state !== 'stopped' && a.state !== 'failed'
}

/**
 * What `startProvider` would refuse before it starts anything, checked at once (the NATS control interface answers
 * before the start is done): a bad id, the same provider running, another actor with that name, another team.
 */
export function checkProviderStart (system: SystemApi, p: Pick<ProviderStart, 'id' | 'team'>, caller: ProviderCaller = {}): void {
  if (!ID_PATTERN.test(p.id)) {
    throw new ColonyError('invalid_body', 'provider_id must be 1 to 64 characters of A-Z a-z 0-9 _ - (it names the provider\'s actor)', { details: { field: 'provider_id' } })
  }
  if (caller.as !== undefined && p.team !== null && !canAccess(caller.as, p.team)) throw new ColonyError('forbidden', 'providers can only be started for a team of yours')
  if (isRunningProvider(system, p.id, caller.as)) throw new ColonyError('provider_running', 'provider with that ID is already running')
  if (system.get(p.id) !== undefined) throw new ColonyError('actor_name_taken', `an actor named ${p.id} already exists on this host`)
}

/** What `stopProvider` would refuse: no such running provider (for `as`), or one built into the host. */
export function checkProviderStop (system: SystemApi, id: string, caller: ProviderCaller = {}): void {
  if (!isRunningProvider(system, id, caller.as)) throw new ColonyError('provider_not_found', 'provider with that ID is not running')
  const actor = system.get(id)
  if (actor?.protected === true) throw new ColonyError('actor_protected', `provider ${id} is built into this host and cannot be stopped`)
  // The host's own providers (started over NATS, which acts as the platform) are everyone's to use, not to stop.
  if (caller.as !== undefined && actor?.team === null && !caller.as.isAdmin) throw new ColonyError('forbidden', `provider ${id} belongs to the host; only a platform admin may stop it`)
}

/**
 * Starts a provider for a team (or the host): its actor (id and name `p.id`, not protected, under the `user`
 * supervisor) runs the built-in kind the reference names, and once it runs it is saved in started_providers, so
 * it comes back at the next start (`restoreProviders`) until it is stopped or deleted. Rejects with what
 * `checkProviderStart` refuses, `invalid_body` for an unknown reference, or why the actor did not start.
 */
export async function startProvider (system: SystemApi, memory: ProviderMemory, p: ProviderStart, caller: ProviderCaller = {}): Promise<ActorInfo> {
  checkProviderStart(system, p, caller)
  const saved: SavedProvider = { id: p.id, ref: p.ref, annotations: p.annotations ?? {}, team: p.team, origin: p.origin }
  const info = await launch(system, memory, saved)
  memory.remember(saved)
  return info
}

/** Stops and deletes a started provider; it is not started again. Rejects with what `checkProviderStop` refuses. */
export async function stopProvider (system: SystemApi, memory: ProviderMemory, id: string, caller: ProviderCaller = {}): Promise<void> {
  checkProviderStop(system, id, caller)
  await system.remove(id, caller.as)
  memory.forget(id)
}

/**
 * Starts every saved provider again (start-up, before the saved component scales that link to them). One that
 * cannot start is logged and keeps its row, so the next start tries again; one whose team is gone is forgotten.
 */
export async function restoreProviders (system: SystemApi, memory: ProviderMemory, teamExists: (teamId: string) => boolean, log: Logger): Promise<number> {
  let restored = 0
  for (const saved of memory.saved()) {
    if (saved.team !== null && !teamExists(saved.team)) {
      log.info({ provider: saved.id, team: saved.team }, 'a saved provider\'s team is gone; forgotten')
      memory.forget(saved.id)
      continue
    }
    try {
      await launch(system, memory, saved)
      restored++
    } catch (err) {
      log.warn({ err, provider: saved.id, ref: saved.ref }, 'a started provider could not be started again')
    }
  }
  return restored
}

/** Spawns the provider's actor, described first so that its first status already carries its reference. */
async function launch (system: SystemApi, memory: ProviderMemory, p: SavedProvider): Promise<ActorInfo> {
  const kind = providerKind(p.ref)
  memory.starting(p.id, { ref: p.ref, annotations: p.annotations })
  try {
    const info = await system.spawnInternal(kind, { id: p.id, name: p.id, team: p.team, protected: false })
    if (info.state !== 'running') throw new Error(info.error ?? `the provider is ${info.state}`)
    return info
  } catch (err) {
    memory.notStarted(p.id)
    throw err
  }
}
