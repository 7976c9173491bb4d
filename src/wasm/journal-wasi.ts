/**
 * Puts the host-call journal between the guest and the non-deterministic WASI functions of preview2-shim's import
 * object (the shim itself is untouched): clocks, random and environment. Outside a journaled call a wrapper costs
 * one check and calls the shim's function.
 */
import type { JournalRun } from './host-journal.js'

interface Codec { encode: (v: unknown) => unknown, decode: (json: unknown) => unknown }
/** What a wrapped function records: its WIT name, its arguments as JSON-safe values, its result's codec. */
interface Spec { fn: string, request: (args: unknown[]) => unknown[], codec: Codec }

const u64: Codec = { encode: (v) => String(v), decode: (json) => BigInt(json as string) }
const bytes: Codec = {
  encode: (v) => Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength).toString('base64'),
  decode: (json) => new Uint8Array(Buffer.from(json as string, 'base64')),
}
const datetime: Codec = {
  encode: (v) => ({ seconds: String((v as { seconds: bigint }).seconds), nanoseconds: (v as { nanoseconds: number }).nanoseconds }),
  decode: (json) => ({ seconds: BigInt((json as { seconds: string }).seconds), nanoseconds: (json as { nanoseconds: number }).nanoseconds }),
}
const u64Pair: Codec = {
  encode: (v) => (v as bigint[]).map(String),
  decode: (json) => (json as string[]).map((s) => BigInt(s)),
}
/** Lists of strings and string pairs are JSON already; copied so a later change by the shim cannot alter the record. */
const plain: Codec = { encode: (v) => structuredClone(v), decode: (json) => structuredClone(json) }
const optionalString: Codec = { encode: (v) => v ?? null, decode: (json) => json ?? undefined }

const none = (): unknown[] => []
const length = (args: unknown[]): unknown[] => [String(args[0])]

/** By import-object key, then jco's camelCase name of the function. */
const JOURNALED: Record<string, Record<string, Spec>> = {
  'wasi:clocks/wall-clock': {
    now: { fn: 'now', request: none, codec: datetime },
    resolution: { fn: 'resolution', request: none, codec: datetime },
  },
  // subscribe-instant / subscribe-duration stay live: a pollable only delays, the time it reports is read by now().
  'wasi:clocks/monotonic-clock': {
    now: { fn: 'now', request: none, codec: u64 },
    resolution: { fn: 'resolution', request: none, codec: u64 },
  },
  'wasi:random/random': {
    getRandomBytes: { fn: 'get-random-bytes', request: length, codec: bytes },
    getRandomU64: { fn: 'get-random-u64', request: none, codec: u64 },
  },
  'wasi:random/insecure': {
    getInsecureRandomBytes: { fn: 'get-insecure-random-bytes', request: length, codec: bytes },
    getInsecureRandomU64: { fn: 'get-insecure-random-u64', request: none, codec: u64 },
  },
  'wasi:random/insecure-seed': {
    insecureSeed: { fn: 'insecure-seed', request: none, codec: u64Pair },
  },
  'wasi:cli/environment': {
    getEnvironment: { fn: 'get-environment', request: none, codec: plain },
    getArguments: { fn: 'get-arguments', request: none, codec: plain },
    initialCwd: { fn: 'initial-cwd', request: none, codec: optionalString },
  },
}

/** The interfaces whose functions are journaled here (versionless ids). */
export const JOURNALED_WASI = Object.keys(JOURNALED)

/**
 * Replaces, in `imports`, each journaled interface by a copy whose functions consult the current journal run
 * (`current()`, undefined outside a journaled call).
 */
export function journalWasi (imports: Record<string, unknown>, current: () => JournalRun | undefined): void {
  for (const [iface, specs] of Object.entries(JOURNALED)) {
    const original = imports[iface] as Record<string, unknown> | undefined
    if (original === undefined) continue
    const wrapped: Record<string, unknown> = { ...original }
    for (const [name, spec] of Object.entries(specs)) {
      if (typeof original[name] !== 'function') continue
      const live = original[name] as (...args: unknown[]) => unknown
      wrapped[name] = function journaled (...args: unknown[]): unknown {
        const run = current()
        if (run === undefined) return live.apply(original, args)
        return run.call(iface, spec.fn, spec.request(args), () => live.apply(original, args), spec.codec.encode, spec.codec.decode)
      }
    }
    imports[iface] = wrapped
  }
}
