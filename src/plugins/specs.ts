import { ColonyError } from '../errors.js'
import type { PluginCreation, PluginScope, PluginSpecs, PluginSpecsInput } from './types.js'

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/
const VERSION = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/
const KINDS = new Set(['OplogProcessor', 'ComponentTransformer', 'App', 'Library'])

const invalid = (field: string, message: string): ColonyError => new ColonyError('invalid_body', message, { details: { field } })

/** An http(s) URL, or the field named in a 400. */
function checkUrl (field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(field, `${field} must be an http or https URL`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid(field, `${field} must be an http or https URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(field, `${field} must be an http or https URL`)
  return value
}

/**
 * The parts of a registration that need no lookup: names, URLs and the shape of `specs` and `scope`, whichever
 * door it came through (the REST schema checks the same shape first). Returns the specs and scope as stored.
 */
export function checkCreation (c: PluginCreation): { specs: PluginSpecs, scope: PluginScope } {
  if (!NAME.test(c.name)) throw invalid('name', 'name must be 1 to 128 of A-Z a-z 0-9 _ . : -, starting with a letter or digit')
  if (!VERSION.test(c.version)) throw invalid('version', 'version must be 1 to 64 of A-Z a-z 0-9 _ . + -, starting with a letter or digit')
  if (c.homepage !== undefined && c.homepage !== '') checkUrl('homepage', c.homepage)
  return { specs: checkSpecs(c.specs), scope: checkScope(c.scope) }
}

function checkSpecs (specs: PluginSpecsInput): PluginSpecs {
  const type = (specs as { type?: unknown } | undefined)?.type
  if (typeof type !== 'string' || !KINDS.has(type)) throw invalid('specs.type', 'specs.type must be OplogProcessor, ComponentTransformer, App or Library')
  switch (specs.type) {
    case 'OplogProcessor': {
      const { componentId, componentVersion } = specs
      if (typeof componentId !== 'string' || componentId === '') throw invalid('specs.componentId', 'an OplogProcessor names its componentId')
      if (componentVersion === undefined || !Number.isInteger(componentVersion) || componentVersion < 0) {
        throw invalid('specs.componentVersion', 'an OplogProcessor names its componentVersion, a whole number from 0')
      }
      return { type: specs.type, componentId, componentVersion }
    }
    case 'ComponentTransformer':
      return {
        type: specs.type,
        ...(specs.providedWitPackage !== undefined && { providedWitPackage: specs.providedWitPackage }),
        ...(specs.jsonSchema !== undefined && { jsonSchema: specs.jsonSchema }),
        validateUrl: checkUrl('specs.validateUrl', specs.validateUrl),
        transformUrl: checkUrl('specs.transformUrl', specs.transformUrl),
      }
    default:
      return { type: specs.type }
  }
}

function checkScope (scope: PluginCreation['scope']): PluginScope {
  if (scope === undefined || scope.type === 'Global') return { type: 'Global' }
  if (scope.type === 'Component' && typeof scope.componentId === 'string' && scope.componentId !== '') return { type: 'Component', componentId: scope.componentId }
  throw invalid('scope', 'scope is {type: "Global"} or {type: "Component", componentId}')
}

/** Installation parameters: a flat map of strings (Golem's `parameters`). */
export function checkParameters (parameters: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(parameters ?? {})) {
    if (typeof value !== 'string') throw invalid(`parameters.${key}`, 'parameter values are strings')
    out[key] = value
  }
  return out
}

/** Priorities order a component's installations (lowest first), as 32-bit integers in Golem. */
export function checkPriority (priority: number): number {
  if (!Number.isInteger(priority) || priority < -2147483648 || priority > 2147483647) throw invalid('priority', 'priority is a 32-bit integer')
  return priority
}
