import { fileURLToPath } from 'node:url'

/**
 * The prebuilt components (fixtures/components/README.md) and one cheap call for each: the call that ends a cold
 * start. `loop` is called through `ok` (returns at once), never `forever`.
 */
export interface Fixture {
  name: string
  fn: string
  params: unknown[]
  /** What the call returns (a fresh counter counts 1): a cold start only counts when the result is right. */
  expected: unknown
  /** Imports wasi:keyvalue/store: needs a link to the keyvalue provider before it can start. */
  keyvalue?: boolean
}

export const FIXTURES: Fixture[] = [
  { name: 'adder', fn: 'add', params: [2, 3], expected: 5 },
  { name: 'hello', fn: 'say-hello', params: [], expected: 'hello from colony' },
  { name: 'counter', fn: 'increment', params: [], expected: 1, keyvalue: true },
  { name: 'loop', fn: 'ok', params: [], expected: 42 },
  { name: 'kitchen', fn: 'echo-s32', params: [-7], expected: -7 },
]

/** dist/test/bench/lib/ -> the repository's fixtures (not copied into dist). */
export function fixturePath (name: string): string {
  return fileURLToPath(new URL(`../../../../fixtures/components/${name}.wasm`, import.meta.url))
}
