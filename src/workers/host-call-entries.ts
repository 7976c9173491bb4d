/**
 * The host-call journal's records as Golem's ImportedFunctionInvoked entries and back: the function named
 * `interface::function` (e.g. `wasi:clocks/wall-clock::now`), request and response as typed values whose `typ`
 * describes the recorded JSON, and how the call touches the world (Golem's wrapped function type).
 */
import type { GolemTyp } from '../components/golem.js'
import type { HostCallRecord } from '../wasm/host-journal.js'
import { Oplog, type ImportedFunctionInvokedEntry, type WrappedFunctionType } from './oplog-entries.js'

/** Golem's analysed type of a recorded JSON value (numbers as F64, objects as records in key order). */
export function typOf (v: unknown): GolemTyp {
  if (v === null || v === undefined) return { type: 'Option', inner: { type: 'Str' } }
  if (typeof v === 'string') return { type: 'Str' }
  if (typeof v === 'boolean') return { type: 'Bool' }
  if (typeof v === 'number') return { type: 'F64' }
  if (Array.isArray(v)) return { type: 'Tuple', items: v.map(typOf) }
  return { type: 'Record', fields: Object.entries(v as Record<string, unknown>).map(([name, x]) => ({ name, typ: typOf(x) })) }
}

function wrapped (iface: string, fn: string): WrappedFunctionType {
  if (iface.startsWith('wasi:keyvalue/')) return fn === 'get' || fn === 'exists' || fn === 'list-keys' || fn === 'open' ? 'ReadRemote' : 'WriteRemote'
  if (iface.startsWith('wasmcloud:messaging/') || iface.startsWith('wasi:messaging/')) return 'WriteRemote'
  if (iface.startsWith('wasi:logging/')) return 'WriteLocal'
  return 'ReadLocal'
}

export function hostCallEntry (h: HostCallRecord, atMs: number): ImportedFunctionInvokedEntry {
  return Oplog.importedFunctionInvoked(`${h.interface}::${h.function}`, { typ: typOf(h.request), value: h.request },
    { typ: typOf(h.response), value: h.response }, wrapped(h.interface, h.function), atMs)
}

export function hostCallOf (e: ImportedFunctionInvokedEntry): HostCallRecord {
  const at = e.functionName.lastIndexOf('::')
  return { interface: e.functionName.slice(0, at), function: e.functionName.slice(at + 2), request: e.request.value, response: e.response.value }
}
