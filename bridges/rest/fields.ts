import { ColonyError } from '../../src/index.js'

/** A required string field of a JSON body, or 400 `invalid_body` naming it. */
export function requireString (body: Record<string, unknown>, field: string, max = 4096): string {
  const value = Object.hasOwn(body, field) ? body[field] : undefined
  if (typeof value !== 'string') throw new ColonyError('invalid_body', `${field} is required and must be a string`, { details: { field } })
  if (value.length > max) throw new ColonyError('invalid_body', `${field} is longer than ${max} characters`, { details: { field } })
  return value
}
