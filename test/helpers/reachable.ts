/**
 * Every string reachable from `root` through own properties (enumerable or not, symbols too), Maps and Sets; bytes
 * (a Buffer holding a signing key) count as their UTF-8 text.
 */
export function reachableStrings (root: unknown): string[] {
  const strings: string[] = []
  const seen = new Set<unknown>()
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const value = stack.pop()
    if (typeof value === 'string') { strings.push(value); continue }
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue
    seen.add(value)
    if (ArrayBuffer.isView(value)) {
      strings.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'))
      continue
    }
    if (value instanceof Map) for (const [k, v] of value) stack.push(k, v)
    if (value instanceof Set) for (const v of value) stack.push(v)
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key === 'string') strings.push(key)
      // Data properties only: a getter could compute anything, and what the context holds is what matters.
      const descriptor = Object.getOwnPropertyDescriptor(value, key)
      if (descriptor !== undefined && 'value' in descriptor) stack.push(descriptor.value)
    }
  }
  return strings
}

/** Which of `secrets` appear (whole or inside a longer string) anywhere reachable from `root`. */
export function secretsOf (root: unknown, secrets: Record<string, string>): string[] {
  const strings = reachableStrings(root)
  return Object.values(secrets).filter((secret) => strings.some((s) => s.includes(secret)))
}
