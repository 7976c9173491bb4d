import { ColonyError } from '../errors.js'

/** How instances of a component run: environment, arguments, and an optional private directory as `/`. */
export interface InstanceSettings {
  env?: Record<string, string>
  args?: string[]
  /** Give the guest a filesystem: a directory of its own under the data dir, mounted at `/`. */
  filesystem?: boolean
  /** Run this revision instead of following the latest one (a `component:<id>@<version>` reference); null: follow the latest again. */
  version?: number | null
}

/** Reads the instance settings of a scale request; anything malformed is refused as `invalid_body`, naming the field. */
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
