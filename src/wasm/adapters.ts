/**
 * Worker-side import objects for interfaces a linked provider serves. Each adapter turns the guest's synchronous
 * calls (as jco's glue makes them) into host calls `(method, args) -> value` answered by the provider.
 */
export type HostCall = (method: string, args: unknown[]) => unknown
export type Adapter = (host: HostCall) => Record<string, unknown>

const ADAPTERS: Record<string, Adapter> = {}

/** Registers an adapter for an unversioned interface name (`wasi:keyvalue/store`). */
export function registerAdapter (iface: string, adapter: Adapter): void {
  ADAPTERS[iface] = adapter
}

export function adapterFor (iface: string): Adapter | undefined {
  const at = iface.indexOf('@')
  return ADAPTERS[at === -1 ? iface : iface.slice(0, at)]
}
