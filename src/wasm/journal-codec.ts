/**
 * JSON-safe form of the values a host call passes or returns, so a recorded call survives a trip through the oplog
 * (JSON in SQLite) and decodes back to exactly the value the guest saw. Plain JSON values stay as they are; the rest
 * become one-key tagged objects: `{"$bigint":"18446744073709551615"}`, `{"$bytes":"<base64>"}` (any Uint8Array,
 * Buffer included), `{"$undefined":true}`, `{"$number":"NaN"}` (NaN, ±Infinity, -0). A plain object with a key
 * starting with `$` is wrapped as `{"$object":{...}}` so it can never be mistaken for a tag.
 */
export function toJsonSafe (value: unknown): unknown {
  switch (typeof value) {
    case 'bigint': return { $bigint: value.toString() }
    case 'undefined': return { $undefined: true }
    case 'number': return Number.isFinite(value) && !Object.is(value, -0) ? value : { $number: String(Object.is(value, -0) ? '-0' : value) }
    case 'string': case 'boolean': return value
    case 'object': break
    default: throw new TypeError(`a host call value of type ${typeof value} cannot be recorded`)
  }
  if (value === null) return null
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') }
  if (Array.isArray(value)) return value.map(toJsonSafe)
  const out: Record<string, unknown> = {}
  let tagLike = false
  for (const [key, v] of Object.entries(value)) {
    // An absent property and one set to undefined read the same to the adapters: keep the JSON small.
    if (v === undefined) continue
    if (key.startsWith('$')) tagLike = true
    out[key] = toJsonSafe(v)
  }
  return tagLike ? { $object: out } : out
}

export function fromJsonSafe (json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json
  if (Array.isArray(json)) return json.map(fromJsonSafe)
  const record = json as Record<string, unknown>
  const keys = Object.keys(record)
  if (keys.length === 1) {
    const [key] = keys as [string]
    const inner = record[key]
    if (key === '$bigint') return BigInt(inner as string)
    if (key === '$bytes') return new Uint8Array(Buffer.from(inner as string, 'base64'))
    if (key === '$undefined') return undefined
    if (key === '$number') return inner === '-0' ? -0 : Number(inner)
    if (key === '$object') return decodeEntries(inner as Record<string, unknown>)
  }
  return decodeEntries(record)
}

function decodeEntries (record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(record)) out[key] = fromJsonSafe(v)
  return out
}

/** JSON with object keys sorted: two JSON-safe values are equal when their canonical texts are. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key]
    return sorted
  }) ?? 'undefined'
}
