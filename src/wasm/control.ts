import { ColonyError } from '../errors.js'
import type { Identity } from '../auth/identity.js'
import type { ActorInfo, SystemApi } from '../actor/types.js'
import type { ComponentRegistry } from './registry.js'
import type { InvokeOutcome } from './invoke.js'

/** How long an invocation may wait for its actor beyond the call's own timeout (queueing, instance start). */
const ASK_MARGIN_MS = 30_000

/**
 * Scales a component on this host. Its actor (id = component id) is created on the first scale above zero, asked
 * to resize afterwards, and removed at zero. The caller must be allowed to see the component (checked here).
 */
/** How instances of a component run: environment, arguments, and an optional private directory as `/`. */
export interface InstanceSettings {
  env?: Record<string, string>
  args?: string[]
  /** Give the guest a filesystem: a directory of its own under the data dir, mounted at `/`. */
  filesystem?: boolean
}

export function checkSettings (raw: Record<string, unknown>): InstanceSettings {
  const out: InstanceSettings = {}
  if (raw.env !== undefined) {
    const env = raw.env
    if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.keys(env).length > 64 ||
        Object.entries(env).some(([k, v]) => typeof v !== 'string' || k.length > 256 || v.length > 4096 || k.includes('='))) {
      throw new ColonyError('invalid_body', 'env must be an object of at most 64 string values (names without "=")', { details: { field: 'env' } })
    }
    out.env = env as Record<string, string>
  }
  if (raw.args !== undefined) {
    if (!Array.isArray(raw.args) || raw.args.length > 64 || raw.args.some((a) => typeof a !== 'string' || a.length > 4096)) {
      throw new ColonyError('invalid_body', 'args must be a list of at most 64 strings', { details: { field: 'args' } })
    }
    out.args = raw.args as string[]
  }
  if (raw.filesystem !== undefined) {
    if (typeof raw.filesystem !== 'boolean') throw new ColonyError('invalid_body', 'filesystem must be true or false', { details: { field: 'filesystem' } })
    out.filesystem = raw.filesystem
  }
  return out
}

export async function scaleComponent (system: SystemApi, registry: ComponentRegistry, componentId: string, instances: number, as?: Identity,
  settings: InstanceSettings = {}): Promise<ActorInfo | undefined> {
  if (!Number.isInteger(instances) || instances < 0 || instances > 1024) {
    throw new ColonyError('invalid_body', 'instances must be an integer from 0 to 1024', { details: { field: 'instances' } })
  }
  const record = registry.visible(as, componentId)
  const actor = system.get(componentId)
  if (instances === 0) {
    if (actor !== undefined) await system.remove(componentId)
    return undefined
  }
  if (actor === undefined || actor.state === 'stopped' || actor.state === 'failed') {
    if (actor !== undefined) await system.remove(componentId)
    const taken = system.get(record.name) !== undefined
    const info = await system.spawnInternal('component', {
      id: componentId,
      name: taken ? `${record.name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${componentId.slice(0, 8)}` : record.name.replace(/[^A-Za-z0-9_-]/g, '-'),
      team: record.teamId,
      options: { componentId, instances, ...settings },
    })
    if (info.state !== 'running') {
      const failed = system.get(componentId)
      if (failed !== undefined) await system.remove(componentId).catch(() => undefined)
      throw new ColonyError(info.error?.includes('imports') === true ? 'link_missing' : 'invoke_failed', `${record.name} could not start: ${info.error ?? 'see its alerts'}`)
    }
    return info
  }
  await system.ask(componentId, { type: 'scale', instances }, { timeoutMs: ASK_MARGIN_MS + 30_000 })
  return system.get(componentId)
}

/** Invokes a function of a component, starting one instance first when none runs (scale-from-zero). */
export async function invokeComponent (system: SystemApi, registry: ComponentRegistry, componentId: string, fn: string, params: unknown,
  options: { as?: Identity, timeoutMs: number }): Promise<InvokeOutcome> {
  registry.visible(options.as, componentId)
  if (system.get(componentId) === undefined) await scaleComponent(system, registry, componentId, 1, options.as)
  return await system.ask(componentId, { type: 'invoke', function: fn, params, timeoutMs: options.timeoutMs },
    { ...(options.as !== undefined && { as: options.as }), timeoutMs: options.timeoutMs + ASK_MARGIN_MS }) as InvokeOutcome
}
