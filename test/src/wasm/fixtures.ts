/**
 * Test components built from WAT with jco's wasm-tools, and a way to run them through real jco bindings.
 *
 * The "echo" component returns its argument. A function whose flattened parameters exceed the canonical ABI's
 * 16 values receives them in linear memory (a pointer to the parameter tuple), and a result that flattens to more
 * than one value is returned as a pointer to it; a first parameter is laid out at offset 0 either way, so
 * `echo: func(v: T, p: pad) -> T` with a 16-value `pad` is `(param i32) (result i32) local.get 0` for any T.
 * Small T (one flat value) are echoed directly: `(param i64) (result i64) local.get 0`. `boom` traps.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools'
import { transpileBytes } from '@bytecodealliance/jco-transpile'

export async function buildComponent (coreWat: string, witSource: string, world: string): Promise<Uint8Array> {
  return componentNew(await componentEmbed({ binary: await parse(coreWat), witSource, world }))
}

/** A bump allocator: enough for jco to lower strings and lists into the guest. */
export const ALLOCATOR = `(memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $r i32)
    global.get $bump local.get 2 i32.add i32.const -1 i32.add i32.const 0 local.get 2 i32.sub i32.and
    local.tee $r local.get 3 i32.add global.set $bump local.get $r)`

export const PAD = `tuple<${new Array(16).fill('u8').join(', ')}>`
export const PAD_VALUE = new Array<number>(16).fill(0)

/** [name, WIT type, how it is passed: 'mem' (with the pad) or the core type of its one flat value] */
export const ECHOES: Array<[string, string, 'mem' | 'i32' | 'i64' | 'f32' | 'f64']> = [
  ['echo-line', 'line', 'mem'], ['echo-shape', 'shape', 'mem'], ['echo-opt', 'option<string>', 'mem'],
  ['echo-opt-opt', 'option<option<u8>>', 'mem'], ['echo-res', 'result<string, color>', 'mem'],
  ['echo-res-unit', 'result', 'i32'], ['echo-res-no-err', 'result<u32>', 'mem'], ['echo-results', 'list<result<u8, string>>', 'mem'],
  ['echo-perms', 'perms', 'i32'], ['echo-color', 'color', 'i32'], ['echo-bytes', 'list<u8>', 'mem'], ['echo-s16s', 'list<s16>', 'mem'],
  ['echo-u64s', 'list<u64>', 'mem'], ['echo-f32s', 'list<f32>', 'mem'], ['echo-strings', 'list<string>', 'mem'],
  ['echo-chars', 'list<char>', 'mem'], ['echo-tuple', 'tuple<s8, u16, string, bool>', 'mem'], ['echo-char', 'char', 'i32'],
  ['echo-u64', 'u64', 'i64'], ['echo-s64', 's64', 'i64'], ['echo-f32', 'f32', 'f32'], ['echo-f64', 'f64', 'f64'],
  ['echo-s8', 's8', 'i32'], ['echo-u32', 'u32', 'i32'], ['echo-bool', 'bool', 'i32'],
]

export const ECHO_WIT = `package local:echo;
interface types {
  record point { x: s32, y: s32 }
  enum color { red, green-ish, BLUE }
  record line { start: point, end-point: point, color: color, label: option<string> }
  variant shape { circle(f64), rect(point), none }
  flags perms { can-read, WRITE-all, x2-y }
  type pad = ${PAD};
}
interface api {
  use types.{point, color, line, shape, perms, pad};
${ECHOES.map(([n, t, m]) => `  ${n}: func(v: ${t}${m === 'mem' ? ', p: pad' : ''}) -> ${t};`).join('\n')}
  boom: func() -> result<u8, string>;
}
world echo {
  export api;
  export echo-name: func(name: string) -> string;
}`

const ECHO_CORE = `(module ${ALLOCATOR}
${ECHOES.map(([n, , m]) => {
  const core = m === 'mem' ? 'i32' : m
  return `  (func (export "local:echo/api#${n}") (param ${core}) (result ${core}) local.get 0)`
}).join('\n')}
  (func (export "local:echo/api#boom") (result i32) unreachable)
  (func (export "echo-name") (param i32 i32) (result i32) i32.const 16 local.get 0 i32.store i32.const 20 local.get 1 i32.store i32.const 16))`

let echo: Promise<Uint8Array> | undefined
export async function echoComponent (): Promise<Uint8Array> {
  echo ??= buildComponent(ECHO_CORE, ECHO_WIT, 'echo')
  return echo
}

export interface Loaded {
  exports: Record<string, unknown>
  close(): Promise<void>
}

/** Transpiles with jco (as Colony's engine does), imports the glue from a temp dir and instantiates it. */
export async function instantiate (bytes: Uint8Array, options: Record<string, unknown> = {}): Promise<Loaded> {
  const { files } = await transpileBytes(bytes, { name: 'c', instantiation: 'async', ...options }) as { files: Record<string, Uint8Array> }
  const dir = await mkdtemp(join(tmpdir(), 'colony-jco-'))
  try {
    const glue = join(dir, 'c.mjs')
    await writeFile(glue, files['c.js'] as Uint8Array)
    const mod = await import(pathToFileURL(glue).href) as {
      instantiate(get: (name: string) => WebAssembly.Module, imports: Record<string, unknown>): Promise<Record<string, unknown>>
    }
    const cores = new Map<string, WebAssembly.Module>()
    for (const [name, data] of Object.entries(files)) if (name.endsWith('.wasm')) cores.set(name, await WebAssembly.compile(data))
    const exports = await mod.instantiate((name) => cores.get(name) as WebAssembly.Module, {})
    return { exports, close: async () => rm(dir, { recursive: true, force: true }) }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}
