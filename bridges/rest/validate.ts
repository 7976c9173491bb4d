import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import type { TSchema } from '@sinclair/typebox'
import { ColonyError, type ErrorCode } from '../../src/index.js'

/** The one validator: every route's schemas are compiled once, when the routes are mounted, never per request. */
// Lengths count characters (code points) as JSON Schema says; the services' own checks count UTF-16 units, so a
// string of astral characters may pass here and still be refused there, with the same code.
const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, strict: true })

export type Check = (value: unknown) => void

/** What the part of a request is called in a message: `request body`, `query parameter`, `path parameter`. */
type Part = 'body' | 'query' | 'params'

/** Compiles `schema` into a check that throws `code` naming the first field that does not match. */
export function compileCheck (schema: TSchema, part: Part, code: ErrorCode): Check {
  const validate: ValidateFunction = ajv.compile(schema)
  return (value) => {
    if (validate(value)) return
    const error = (validate.errors ?? [])[0]
    throw mismatch(error, part, code)
  }
}

function mismatch (error: ErrorObject | undefined, part: Part, code: ErrorCode): ColonyError {
  if (error === undefined) return new ColonyError(code)
  const field = fieldOf(error)
  if (field === undefined) {
    const what = part === 'body' ? 'request body' : part === 'query' ? 'the query' : 'the path'
    return new ColonyError(code, `${what} must be ${error.keyword === 'type' ? `a JSON ${String(error.params.type)}` : String(error.message)}`)
  }
  return new ColonyError(code, `${field} ${describe(error)}`, { details: { field } })
}

/** The top-level field a mismatch is about (`params` for `/params/0/x`), or undefined when it is about the whole part. */
function fieldOf (error: ErrorObject): string | undefined {
  if (error.keyword === 'required' && error.instancePath === '') return String(error.params.missingProperty)
  if (error.keyword === 'additionalProperties' && error.instancePath === '') return String(error.params.additionalProperty)
  const first = error.instancePath.split('/')[1]
  return first === undefined || first === '' ? undefined : first.replace(/~1/g, '/').replace(/~0/g, '~')
}

function describe (error: ErrorObject): string {
  const p = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required': return error.instancePath === '' ? 'is required' : `needs ${String(p.missingProperty)}`
    case 'additionalProperties': return 'is not a known field'
    case 'type': return `must be ${article(String(p.type))}`
    case 'maxLength': return `is longer than ${String(p.limit)} characters`
    case 'minLength': return p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`
    case 'const': return `must be ${JSON.stringify(p.allowedValue)}`
    case 'enum': return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'pattern': return 'is not in the expected form'
    case 'maxItems': return `has more than ${String(p.limit)} items`
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum': return `must be ${String(p.comparison)} ${String(p.limit)}`
    default: return String(error.message ?? 'is invalid')
  }
}

function article (type: string): string {
  const types = type.split(',')
  return types.map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`)).join(' or ')
}
