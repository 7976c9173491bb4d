import fc from 'fast-check'

type Schema = Record<string, unknown>

/** Strings a validator or a handler may trip on: empty, blank, control characters, paths, huge, non-BMP. */
const awkwardString = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.constantFrom('', ' ', '\u0000', '..', '../../etc/passwd', '@', 'a@b', '__proto__', 'constructor', '🐝'.repeat(3), 'x'.repeat(5000), '%s%n', '<script>'),
)

/** Any JSON value, a few levels deep. */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 })

/**
 * Values shaped by a JSON schema (the subset TypeBox writes: object, string, integer, number, boolean, array, null,
 * enum, const, anyOf, patternProperties), bent often enough that the boundaries get hit: lengths around the limits,
 * wrong types in single fields, missing required fields.
 */
export function fromSchema (schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const wrong = depth > 3 ? fc.constant(null) : anyJson
  if (Array.isArray(schema.enum)) return fc.oneof(fc.constantFrom(...(schema.enum as unknown[])), awkwardString)
  if ('const' in schema) return fc.oneof(fc.constant(schema.const), wrong)
  if (Array.isArray(schema.anyOf)) return fc.oneof(...(schema.anyOf as Schema[]).map((s) => fromSchema(s, depth + 1)))
  switch (schema.type) {
    case 'object': return objectOf(schema, depth)
    case 'string': {
      const max = typeof schema.maxLength === 'number' ? schema.maxLength : 64
      return fc.oneof({ weight: 3, arbitrary: fc.string({ minLength: 0, maxLength: Math.min(max, 64) }) },
        { weight: 1, arbitrary: fc.constantFrom('x'.repeat(max), 'x'.repeat(max + 1)) },
        { weight: 1, arbitrary: awkwardString }, { weight: 1, arbitrary: wrong })
    }
    case 'integer': return fc.oneof(fc.integer({ min: -2, max: 2000 }), fc.constantFrom(1.5, -0, 2 ** 53, Number.MAX_SAFE_INTEGER), wrong)
    case 'number': return fc.oneof(fc.double({ noNaN: true }), wrong)
    case 'boolean': return fc.oneof(fc.boolean(), wrong)
    case 'null': return fc.oneof(fc.constant(null), wrong)
    case 'array': {
      const items = schema.items === undefined ? anyJson : fromSchema(schema.items as Schema, depth + 1)
      return fc.oneof(fc.array(items, { maxLength: 4 }), wrong)
    }
    default: return anyJson
  }
}

function objectOf (schema: Schema, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>
  const required = new Set((schema.required ?? []) as string[])
  const fields: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [name, property] of Object.entries(properties)) fields[name] = fromSchema(property, depth + 1)
  const record = fc.record(fields, { requiredKeys: [] }).chain((value) =>
    // Usually keep the required fields, sometimes leave one out.
    fc.boolean().map((dropOne) => {
      const out: Record<string, unknown> = { ...value }
      for (const name of required) if (!(name in out) && !dropOne) out[name] = 'x'
      return out
    }))
  const extras = schema.patternProperties !== undefined || (typeof schema.additionalProperties === 'object')
    ? fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), anyJson), { maxKeys: 4 })
    : fc.constant({})
  return fc.oneof({ weight: 4, arbitrary: fc.tuple(record, extras).map(([a, b]) => ({ ...b, ...(a as object) })) }, { weight: 1, arbitrary: anyJson })
}
