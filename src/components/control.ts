import { ColonyError } from '../errors.js'
import type { Identity } from '../auth/identity.js'
import type { ActorInfo, SystemApi } from '../actor/types.js'
import type { ComponentRegistry } from './registry.js'
import type { InvokeOutcome } from './invoke.js'
import type { ScaleOrigin } from './types.js'
import type { InstanceSettings } from './instance-settings.js'
import type { LinkService } from './links.js'
import { componentMessages } from './messages.js'
import type { Logger } from '../log.js'

/** How long an invocation may wait for its actor beyond the call's own timeout (queueing, instance start). */
const ASK_MARGIN_MS = 30_000

/** How a scale is asked for: by whom, with which instance settings, from where (NATS), and whether to keep it. */
export interface ScaleOptions {
  /** The caller, who must be allowed to see the component; undefined: the runtime itself. */
  as?: Identity
  settings?: InstanceSettings
  origin?: ScaleOrigin
  /** Save it so that `restoreScales` brings it back after a restart (default true; false for scale-from-zero). */
  remember?: boolean
}

/**
 * Scales a component on this host. Its actor (id = component id) is created on the first scale above zero, asked
 * to resize afterwards, and removed at zero. The registry emits `scaled` or `scaleFailed` with the origin, so every
 * door's scales reach the lattice events. A remembered scale is saved before it is acknowledged.
 */
export async function scaleComponent (system: SystemApi, registry: ComponentRegistry, componentId: string, instances: number,
  options: ScaleOptions = {}): Promise<ActorInfo | undefined> {
  const { as, settings = {}, origin = {}, remember = true } = options
  if (!Number.isInteger(instances) || instances < 0 || instances > 1024) {
    throw new ColonyError('invalid_body', 'instances must be an integer from 0 to 1024', { details: { field: 'instances' } })
  }
  const record = registry.visible(as, componentId)
  // A running actor keeps its env, args and filesystem on a resize: remember those, with the new version pin if any.
  const state = system.stateOf(record.id)
  const kept = state !== undefined && state !== 'stopped' && state !== 'failed'
  const previous = registry.scales.get(record.id)
  try {
    const info = await resize(system, registry, record.id, record.name, record.teamId, instances, settings)
    if (remember) {
      const effective: InstanceSettings = kept ? { ...previous?.settings, ...(settings.version !== undefined && { version: settings.version }) } : settings
      registry.scales.remember({ componentId: record.id, instances, settings: effective, origin: Object.keys(origin).length > 0 ? origin : previous?.origin ?? {} })
    }
    registry.emit('scaled', {
      componentId: record.id, name: record.name, instances, version: settings.version ?? registry.latestVersion(record.id), origin,
    })
    return info
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    registry.emit('scaleFailed', { componentId: record.id, name: record.name, instances, error: message, origin })
    throw err
  }
}

async function resize (system: SystemApi, registry: ComponentRegistry, componentId: string, name: string, team: string, instances: number,
  settings: InstanceSettings): Promise<ActorInfo | undefined> {
  const actor = system.get(componentId)
  if (instances === 0) {
    if (actor !== undefined) await system.remove(componentId)
    return undefined
  }
  if (actor === undefined || actor.state === 'stopped' || actor.state === 'failed') {
    if (actor !== undefined) await system.remove(componentId)
    const taken = system.get(name) !== undefined
    const info = await system.spawnInternal('component', {
      id: componentId,
      name: taken ? `${name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${componentId.slice(0, 8)}` : name.replace(/[^A-Za-z0-9_-]/g, '-'),
      team,
      options: { componentId, instances, ...settings, version: settings.version ?? undefined },
    })
    if (info.state !== 'running') {
      const failed = system.get(componentId)
      if (failed !== undefined) await system.remove(componentId).catch(() => undefined)
      throw new ColonyError('invoke_failed', `${name} could not start: ${info.error ?? 'see its alerts'}`)
    }
    return info
  }
  await system.ask(componentId, componentMessages.scale(instances, settings.version), { timeoutMs: ASK_MARGIN_MS + 30_000 })
  return system.get(componentId)
}

/**
 * Invokes a function of a component, starting one instance first when none runs (scale-from-zero). An actor started
 * only for this call that cannot serve it (its imports are not linked) is removed again.
 */
export async function invokeComponent (system: SystemApi, registry: ComponentRegistry, componentId: string, fn: string, params: unknown,
  options: { as?: Identity, timeoutMs: number }): Promise<InvokeOutcome> {
  registry.visible(options.as, componentId)
  const started = system.stateOf(componentId) === undefined
  if (started) await scaleComponent(system, registry, componentId, 1, { ...(options.as !== undefined && { as: options.as }), remember: false })
  try {
    return await system.ask(componentId, componentMessages.invoke(fn, params, options.timeoutMs),
      { ...(options.as !== undefined && { as: options.as }), timeoutMs: options.timeoutMs + ASK_MARGIN_MS }) as InvokeOutcome
  } catch (err) {
    if (started && err instanceof ColonyError && err.code === 'link_missing') await scaleComponent(system, registry, componentId, 0, { ...(options.as !== undefined && { as: options.as }), remember: false }).catch(() => undefined)
    throw err
  }
}

/** Components started at once while restoring (each is a worker thread starting and instantiating). */
const RESTORE_CONCURRENCY = 4

/**
 * Brings back every remembered scale (start-up, before the listeners open): each component's actor with its
 * instances, env, args, filesystem, version pin, and its lattice id as a link alias. A component that cannot start
 * is logged and keeps its saved scale, so the next start tries again.
 */
export async function restoreScales (system: SystemApi, registry: ComponentRegistry, links: Pick<LinkService, 'alias'>, log: Logger): Promise<number> {
  const queue = registry.scales.all()
  let restored = 0
  const lane = async (): Promise<void> => {
    for (let saved = queue.shift(); saved !== undefined; saved = queue.shift()) {
      try {
        if (saved.origin.latticeId !== undefined) links.alias(saved.origin.latticeId, saved.componentId)
        await scaleComponent(system, registry, saved.componentId, saved.instances, { settings: saved.settings, origin: saved.origin })
        restored++
      } catch (err) {
        registry.scales.remember(saved)
        log.warn({ err, componentId: saved.componentId, instances: saved.instances }, 'a component\'s saved scale could not be restored')
      }
    }
  }
  const started = Date.now()
  await Promise.all(Array.from({ length: Math.min(RESTORE_CONCURRENCY, queue.length) }, lane))
  if (restored > 0) log.info({ restored, ms: Date.now() - started }, 'component scales restored')
  return restored
}
