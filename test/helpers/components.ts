/**
 * Helpers for the WebAssembly e2e tests: the fixture binaries, components built in memory from WAT, and the REST
 * calls of the component API (multipart upload with FormData + Blob, invoke-and-await, links, scale).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools'
import type { JsonResponse } from './http.js'

export const FIXTURES_DIR = fileURLToPath(new URL('../../../fixtures/components/', import.meta.url))

export type Fixture = 'adder' | 'hello' | 'counter' | 'loop' | 'kitchen' | 'clockrand' | 'memcounter' | 'memcounter2' | 'memcounter-diverge'

/** The committed bytes of a fixture component. */
export async function fixture (name: Fixture): Promise<Uint8Array> {
  return new Uint8Array(await readFile(`${FIXTURES_DIR}${name}.wasm`))
}

/** core WAT + WIT -> a component, the way scripts/build-fixtures.mjs builds the fixtures. */
export async function buildComponent (coreWat: string, witSource: string, world: string): Promise<Uint8Array> {
  return componentNew(await componentEmbed({ binary: await parse(coreWat), witSource, world }))
}

/** The adder fixture with `add` changed to a * 100 + b: the same WIT interface, a visibly different behaviour. */
export async function adderTimes100 (): Promise<Uint8Array> {
  const wat = await readFile(`${FIXTURES_DIR}adder/component.wat`, 'utf8')
  const wit = await readFile(`${FIXTURES_DIR}adder/world.wit`, 'utf8')
  const body = '(i32.add (local.get $a) (local.get $b))'
  assert.ok(wat.includes(body), 'the adder fixture still adds the way this helper expects')
  const changed = wat.replace(body, '(i32.add (i32.mul (local.get $a) (i32.const 100)) (local.get $b))')
  return buildComponent(changed, wit, 'adder')
}

/**
 * The counter fixture plus `hang: func()`, an endless loop: a component whose state lives in wasi:keyvalue and whose
 * instance can be made to die of a timeout.
 */
export async function counterWithHang (): Promise<Uint8Array> {
  const wat = (await readFile(`${FIXTURES_DIR}counter/component.wat`, 'utf8')).trimEnd()
  const world = await readFile(`${FIXTURES_DIR}counter/world.wit`, 'utf8')
  const keyvalue = await readFile(`${FIXTURES_DIR}wit/wasi-keyvalue.wit`, 'utf8')
  const anchor = 'get: func() -> u32;'
  assert.ok(world.includes(anchor) && wat.endsWith(')'), 'the counter fixture still looks the way this helper expects')
  const hang = '  (func (export "colony:counter/api#hang") (loop $forever (br $forever)))\n)'
  return buildComponent(wat.slice(0, -1) + hang, `${world.replace(anchor, `${anchor}\n  hang: func();`)}\n${keyvalue}`, 'counter')
}

/** Counts what WASI's environment interface hands the guest: its env vars and its arguments. */
const ENV_WIT = `package colony:envcheck;
interface api { env-count: func() -> u32; args-count: func() -> u32; dirs-count: func() -> u32; }
world envcheck {
  import wasi:cli/environment@0.2.0;
  import wasi:filesystem/preopens@0.2.0;
  export api;
}
package wasi:cli@0.2.0 { interface environment { get-environment: func() -> list<tuple<string, string>>; get-arguments: func() -> list<string>; } }
package wasi:filesystem@0.2.0 {
  interface types { resource descriptor; }
  interface preopens { use types.{descriptor}; get-directories: func() -> list<tuple<descriptor, string>>; }
}`

const ENV_WAT = `(module
  (import "wasi:cli/environment@0.2.0" "get-environment" (func $env (param i32)))
  (import "wasi:cli/environment@0.2.0" "get-arguments" (func $args (param i32)))
  (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $dirs (param i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  ;; A bump allocator: the host copies the lists and strings in here.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1))) (i32.sub (i32.const 0) (local.get 2))))
    (global.set $next (i32.add (local.get $at) (local.get 3)))
    (local.get $at))
  ;; Each returns the list's length, which the host wrote at retptr + 4.
  (func (export "colony:envcheck/api#env-count") (result i32) (call $env (i32.const 16)) (i32.load (i32.const 20)))
  (func (export "colony:envcheck/api#args-count") (result i32) (call $args (i32.const 16)) (i32.load (i32.const 20)))
  (func (export "colony:envcheck/api#dirs-count") (result i32) (call $dirs (i32.const 16)) (i32.load (i32.const 20))))`

/** The envcheck component: `env-count`, `args-count` and `dirs-count` report what its instance was given. */
export async function envCheck (): Promise<Uint8Array> {
  return buildComponent(ENV_WAT, ENV_WIT, 'envcheck')
}

/** A valid core module (not a component): what jco's `parse` makes of a plain `(module)`. */
export async function coreModule (): Promise<Uint8Array> {
  return parse('(module)')
}

/** Optional credentials for every call below. */
export interface Caller { token?: string }

function headers (c: Caller, extra: Record<string, string> = {}): Record<string, string> {
  return c.token === undefined ? extra : { ...extra, authorization: `Bearer ${c.token}` }
}

async function toJson (res: Response): Promise<JsonResponse> {
  const text = await res.text()
  let body: unknown
  try { body = text === '' ? undefined : JSON.parse(text) } catch { body = text }
  return { status: res.status, body, headers: res.headers }
}

/** A multipart body with a `component` file (when bytes are given) and the given text fields. */
export function form (bytes: Uint8Array | undefined, fields: Record<string, string> = {}): FormData {
  const data = new FormData()
  for (const [k, v] of Object.entries(fields)) data.append(k, v)
  if (bytes !== undefined) data.append('component', new Blob([bytes], { type: 'application/wasm' }), 'component.wasm')
  return data
}

/** `POST /v1/envs/{env}/components` (Golem's createComponent). */
export async function upload (base: string, name: string, bytes: Uint8Array | undefined, c: Caller & { env?: string } = {}): Promise<JsonResponse> {
  const res = await fetch(`${base}/v1/envs/${c.env ?? 'default'}/components`, { method: 'POST', body: form(bytes, { name }), headers: headers(c) })
  return toJson(res)
}

/** Uploads and asserts success; returns the component id. */
export async function create (base: string, name: string, bytes: Uint8Array, c: Caller & { env?: string } = {}): Promise<string> {
  const res = await upload(base, name, bytes, c)
  assert.equal(res.status, 200, JSON.stringify(res.body))
  assert.equal(typeof res.body.componentId, 'string')
  return res.body.componentId as string
}

/** `PATCH /v1/components/{id}`: a new version. */
export async function update (base: string, id: string, bytes: Uint8Array, c: Caller = {}): Promise<JsonResponse> {
  return toJson(await fetch(`${base}/v1/components/${id}`, { method: 'PATCH', body: form(bytes), headers: headers(c) }))
}

/** A JSON request with optional credentials. */
export async function call (method: string, url: string, body?: unknown, c: Caller = {}): Promise<JsonResponse> {
  const init: RequestInit = { method, headers: headers(c, body === undefined ? {} : { 'content-type': 'application/json' }) }
  if (body !== undefined) init.body = JSON.stringify(body)
  return toJson(await fetch(url, init))
}

/** `GET /v1/components/{id}/revisions/{revision}/wasm`: status and raw bytes. */
export async function download (base: string, id: string, revision: number | string, c: Caller = {}): Promise<{ status: number, bytes: Uint8Array, type: string | null }> {
  const res = await fetch(`${base}/v1/components/${id}/revisions/${revision}/wasm`, { headers: headers(c) })
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get('content-type') }
}

/** `POST /v1/components/{id}/invoke-and-await?function=...` with `{params}`. */
export async function invoke (base: string, id: string, fn: string, params: unknown, c: Caller = {}): Promise<JsonResponse> {
  return call('POST', `${base}/v1/components/${id}/invoke-and-await?function=${encodeURIComponent(fn)}`, { params }, c)
}

/** Invokes and asserts a 200; returns the single result value (Golem's `result.value[0]`). */
export async function invokeOk (base: string, id: string, fn: string, params: unknown, c: Caller = {}): Promise<unknown> {
  const res = await invoke(base, id, fn, params, c)
  assert.equal(res.status, 200, `${fn} ${JSON.stringify(params)}: ${JSON.stringify(res.body)}`)
  return res.body.result.value[0]
}

/** `POST /v1/components/{id}/scale` with `{instances}`. */
export async function scale (base: string, id: string, instances: number, c: Caller = {}): Promise<JsonResponse> {
  return call('POST', `${base}/v1/components/${id}/scale`, { instances }, c)
}

/** `PUT /v1/links`: the keyvalue provider serves `wasi:keyvalue/store` to the component. */
export async function linkKeyvalue (base: string, sourceId: string, c: Caller = {}): Promise<JsonResponse> {
  return call('PUT', `${base}/v1/links`, {
    source_id: sourceId, target: 'keyvalue-provider', wit_namespace: 'wasi', wit_package: 'keyvalue', interfaces: ['store'],
  }, c)
}

/** Asserts an `{error: {code}}` response with this status; returns the message. */
export function assertError (res: JsonResponse, status: number, code: string, what = ''): string {
  assert.equal(res.status, status, `${what} ${JSON.stringify(res.body)}`)
  assert.equal(res.body?.error?.code, code, `${what} ${JSON.stringify(res.body)}`)
  assert.equal(typeof res.body.error.message, 'string')
  return res.body.error.message as string
}

/** Asserts that the runtime still answers its health check. */
export async function assertHealthy (base: string): Promise<void> {
  const health = await call('GET', `${base}/api/health`)
  assert.equal(health.status, 200, JSON.stringify(health.body))
  assert.equal(health.body.status, 'ok')
}

/**
 * How much faster four plain worker threads finish four equal busy loops than one thread finishes four, on this
 * machine right now (about 2 on an idle 2-core machine, about 1 when other load takes the second core). A timing
 * assertion about parallel instances only means something when this is well above 1.
 */
export async function threadSpeedup (iterations = 1e8): Promise<number> {
  const code = `const { parentPort } = require('node:worker_threads')
    parentPort.on('message', (n) => { let x = 0; for (let i = 0; i < n; i++) x = (Math.imul(x, 1664525) + 1013904223) | 0; parentPort.postMessage(x) })`
  const workers = [1, 2, 3, 4].map(() => new Worker(code, { eval: true }))
  const run = (w: Worker, n: number): Promise<unknown> => new Promise((resolve) => { w.once('message', resolve); w.postMessage(n) })
  try {
    await Promise.all(workers.map((w) => run(w, 1e6)))
    let t = performance.now()
    for (let i = 0; i < 4; i++) await run(workers[0] as Worker, iterations)
    const serial = performance.now() - t
    t = performance.now()
    await Promise.all(workers.map((w) => run(w, iterations)))
    return serial / (performance.now() - t)
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

/** A component with a custom section of `extra` bytes appended: the same component, a bigger upload. */
export function padded (component: Uint8Array, extra: number): Uint8Array {
  const leb = (n: number): number[] => { const out: number[] = []; do { out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0)); n >>>= 7 } while (n > 0); return out }
  const name = Buffer.from('colony-padding')
  const content = Buffer.concat([Buffer.from(leb(name.length)), name, Buffer.alloc(extra, 0x2a)])
  return Buffer.concat([component, Buffer.from([0, ...leb(content.length)]), content])
}

/** The component padded (a custom section) to exactly `size` bytes. */
export function padTo (component: Uint8Array, size: number): Uint8Array {
  const first = padded(component, size - component.length)
  const bytes = padded(component, size - component.length - (first.length - size))
  if (bytes.length !== size) throw new Error(`cannot pad ${component.length} bytes to exactly ${size}`)
  return bytes
}
