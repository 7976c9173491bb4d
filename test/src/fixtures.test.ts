/**
 * The test components in fixtures/components/ (see its README): the committed binaries are exactly what
 * scripts/build-fixtures.mjs builds from the WAT + WIT sources, and each one works when transpiled by jco and run
 * against preview2-shim (hello) or a host implementation written here (counter's wasi:keyvalue/store).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { transpileBytes } from '@bytecodealliance/jco-transpile'
import { streams } from '@bytecodealliance/preview2-shim/io'
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const BUILD_SCRIPT = join(ROOT, 'scripts', 'build-fixtures.mjs')
const FIXTURES = ['adder', 'counter', 'hello', 'kitchen', 'loop']

/** What scripts/build-fixtures.mjs exports (plain JS, so typed here). */
interface FixtureBuilder {
  listFixtures(): Promise<string[]>
  buildFixture(name: string): Promise<Uint8Array>
  wasmPath(name: string): string
}

/** The WebAssembly JS API as used here (Node 20's @types/node does not declare it). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>
  instantiate(module: object, imports: object): Promise<{ exports: Record<string, unknown> }>
  RuntimeError: new (...args: unknown[]) => Error
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

type Imports = Record<string, Record<string, unknown>>

/** A transpiled component: its glue imported once, its core modules compiled once, any number of instances. */
interface Loaded {
  gluePath: string
  files: Record<string, Uint8Array>
  instantiate(imports: Imports, onCore?: (exports: Record<string, unknown>) => void): Promise<any>
}

async function load (dir: string, bytes: Uint8Array): Promise<Loaded> {
  const { files } = await transpileBytes(bytes, { name: 'c', instantiation: 'async', emitTypescriptDeclarations: false })
  const glue = files['c.js']
  assert.ok(glue, 'transpile produced c.js')
  const gluePath = join(dir, 'c.mjs')
  await writeFile(gluePath, glue)
  const mod = await import(pathToFileURL(gluePath).href)
  const cores = new Map<string, object>()
  for (const [name, data] of Object.entries(files)) if (name.endsWith('.wasm')) cores.set(name, await wasm.compile(data))
  return {
    gluePath,
    files,
    instantiate: (imports, onCore) => mod.instantiate((name: string) => cores.get(name), imports, async (module: object, coreImports: object) => {
      const instance = await wasm.instantiate(module, coreImports)
      onCore?.(instance.exports)
      return instance
    }),
  }
}

/** preview2-shim's OutputStream has a private constructor in its types; the glue only checks `instanceof`. */
const OutputStreamBase = streams.OutputStream as unknown as new () => object

/** An output stream that appends to a per-instance list; `fail` makes every write report a stream error. */
class CaptureStream extends OutputStreamBase {
  constructor (private readonly sink: Buffer[], private readonly fail?: () => unknown) { super() }
  checkWrite (): bigint { return 1n << 20n }
  write (bytes: Uint8Array): void { this.take(bytes) }
  blockingWriteAndFlush (bytes: Uint8Array): void { this.take(bytes) }
  flush (): void {}
  blockingFlush (): void {}
  private take (bytes: Uint8Array): void {
    if (this.fail) throw this.fail()
    this.sink.push(Buffer.from(bytes))
  }
}

class GuestExit extends Error {
  constructor (readonly code: number) { super(`guest exited with ${code}`) }
}

interface Output { out: Buffer[], err: Buffer[], text(which: 'out' | 'err'): string }

/** preview2-shim with nothing reachable, stdout/stderr captured per instance and an exit that never ends the process. */
function wasiImports (fail?: () => unknown): { imports: Imports, output: Output } {
  const output: Output = { out: [], err: [], text: (which) => Buffer.concat(output[which]).toString() }
  const imports = new WASIShim({ sandbox: { preopens: {}, env: {}, args: ['c'], enableNetwork: false } }).getImportObject() as unknown as Imports
  imports['wasi:cli/stdout'] = { getStdout: () => new CaptureStream(output.out, fail) }
  imports['wasi:cli/stderr'] = { getStderr: () => new CaptureStream(output.err, fail) }
  imports['wasi:cli/exit'] = {
    exit (status: { tag: string }): never { throw new GuestExit(status.tag === 'err' ? 1 : 0) },
    exitWithCode (code: number): never { throw new GuestExit(code) },
  }
  return { imports, output }
}

/** Host side of wasi:keyvalue/store: buckets are Maps kept by the test, so state outlives component instances. */
function keyvalueStore (stores: Map<string, Map<string, Uint8Array>>, failGet?: unknown) {
  const log = { opened: [] as string[], disposed: 0 }
  class Bucket {
    constructor (readonly entries: Map<string, Uint8Array>) {}
    get (key: string): Uint8Array | undefined {
      // The glue turns a thrown value into the `err` case: an Error with an own `payload`, or any non-Error value.
      if (failGet !== undefined) throw Object.assign(new Error('keyvalue get failed'), { payload: failGet })
      return this.entries.get(key)
    }

    set (key: string, value: Uint8Array): void { this.entries.set(key, Uint8Array.from(value)) }
    /** Called by the glue when the guest drops its handle. */
    [Symbol.dispose] (): void { log.disposed++ }
  }
  function open (identifier: string): Bucket {
    log.opened.push(identifier)
    let entries = stores.get(identifier)
    if (!entries) { entries = new Map(); stores.set(identifier, entries) }
    return new Bucket(entries)
  }
  return { imports: { 'wasi:keyvalue/store': { Bucket, open } } as Imports, log }
}

function thrown (fn: () => unknown): { threw: boolean, value: unknown } {
  try { return { threw: false, value: fn() } } catch (value) { return { threw: true, value } }
}

/** JS reference for adder's spin. */
function spinReference (n: number): number {
  let x = 0
  for (let i = 0; i < n; i++) x = (Math.imul(x, 1664525) + 1013904223) >>> 0
  return x
}

describe('fixture components', function () {
  let tmp: string
  let builder: FixtureBuilder
  const loaded = new Map<string, Loaded>()

  before(async function () {
    tmp = await mkdtemp(join(tmpdir(), 'colony-fixtures-'))
    builder = (await import(pathToFileURL(BUILD_SCRIPT).href)) as FixtureBuilder
  })

  after(async function () {
    await rm(tmp, { recursive: true, force: true })
  })

  async function component (name: string): Promise<Loaded> {
    let c = loaded.get(name)
    if (!c) {
      const dir = await mkdtemp(join(tmp, `${name}-`))
      c = await load(dir, await readFile(builder.wasmPath(name)))
      loaded.set(name, c)
    }
    return c
  }

  describe('build', function () {
    it('lists the fixtures', async function () {
      assert.deepEqual(await builder.listFixtures(), FIXTURES)
    })

    for (const name of FIXTURES) {
      it(`${name}.wasm is byte-identical to a fresh build of its sources`, async function () {
        const committed = await readFile(builder.wasmPath(name))
        const built = await builder.buildFixture(name)
        assert.ok(Buffer.from(built).equals(committed),
          `fixtures/components/${name}.wasm is stale (${committed.length} committed, ${built.length} built): run npm run build:fixtures`)
        const again = await builder.buildFixture(name)
        assert.ok(Buffer.from(again).equals(Buffer.from(built)), 'the build is deterministic')
      })
    }

    it('build-fixtures.mjs --check passes', async function () {
      const { code, stdout, stderr } = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [BUILD_SCRIPT, '--check'], { cwd: ROOT }, (error, stdout, stderr) => {
          resolve({ code: error ? (child.exitCode ?? 1) : 0, stdout, stderr })
        })
      })
      assert.equal(code, 0, stderr)
      assert.match(stdout, new RegExp(`all ${FIXTURES.length} fixtures are current`))
    })
  })

  describe('adder', function () {
    it('adds, wrapping at 32 bits', async function () {
      const { imports } = wasiImports()
      const c = await (await component('adder')).instantiate(imports)
      assert.equal(c.math.add(2, 3), 5)
      assert.equal(c.math.add(-7, 3), -4)
      assert.equal(c.math.add(2147483647, 1), -2147483648)
      assert.equal(c['colony:adder/math'].add(40, 2), 42)
    })

    it('greets with strings crossing the boundary both ways', async function () {
      const { imports } = wasiImports()
      const c = await (await component('adder')).instantiate(imports)
      assert.equal(c.math.greet('world'), 'hello, world')
      assert.equal(c.math.greet(''), 'hello, ')
      assert.equal(c.math.greet('ünïcødé 🐝'), 'hello, ünïcødé 🐝')
      const big = 'x'.repeat(200_000)
      assert.equal(c.math.greet(big), `hello, ${big}`)
    })

    it('frees what greet allocated after each call (memory does not grow with repeated calls)', async function () {
      const { imports } = wasiImports()
      let memory: { buffer: ArrayBuffer } | undefined
      const c = await (await component('adder')).instantiate(imports, (exports) => {
        if (exports.memory) memory = exports.memory as { buffer: ArrayBuffer }
      })
      assert.ok(memory, 'saw the core memory')
      const name = 'y'.repeat(20_000)
      c.math.greet(name)
      const size = memory.buffer.byteLength
      for (let i = 0; i < 200; i++) assert.equal(c.math.greet(name).length, 20_007)
      assert.equal(memory.buffer.byteLength, size)
    })

    it('spin(n) is deterministic, returns u32 values above 2^31 and takes longer for larger n', async function () {
      const { imports } = wasiImports()
      const c = await (await component('adder')).instantiate(imports)
      assert.equal(c.math.spin(0), 0)
      assert.equal(c.math.spin(1), 1013904223)
      assert.equal(c.math.spin(3), spinReference(3))
      assert.equal(c.math.spin(1_000_000), spinReference(1_000_000))
      assert.ok([1, 2, 3, 4, 5, 6, 7, 8].map((n) => c.math.spin(n) as number).some((x) => x >= 2 ** 31), 'some result ≥ 2^31')
      const t0 = performance.now()
      c.math.spin(50_000_000)
      const slow = performance.now() - t0
      const t1 = performance.now()
      c.math.spin(1000)
      const fast = performance.now() - t1
      assert.ok(slow > fast, `spin(5e7) took ${slow} ms, spin(1000) ${fast} ms`)
    })
  })

  describe('hello', function () {
    it('run() writes one line to stdout and one to stderr, captured per instance', async function () {
      const hello = await component('hello')
      const a = wasiImports()
      const b = wasiImports()
      const first = await hello.instantiate(a.imports)
      const second = await hello.instantiate(b.imports)
      assert.equal(first.run.run(), undefined)
      assert.equal(a.output.text('out'), 'hello from colony\n')
      assert.equal(a.output.text('err'), 'a line on stderr\n')
      assert.equal(b.output.text('out'), '', 'the other instance wrote nothing')
      second['wasi:cli/run@0.2.0'].run()
      first.run.run()
      assert.equal(a.output.text('out'), 'hello from colony\nhello from colony\n')
      assert.equal(b.output.text('out'), 'hello from colony\n')
      assert.equal(b.output.text('err'), 'a line on stderr\n')
    })

    it('greeter.say-hello returns a string and prints the same lines', async function () {
      const { imports, output } = wasiImports()
      const c = await (await component('hello')).instantiate(imports)
      assert.equal(c.greeter.sayHello(), 'hello from colony')
      assert.equal(c['colony:hello/greeter'].sayHello(), 'hello from colony')
      assert.equal(output.text('out'), 'hello from colony\n'.repeat(2))
      assert.equal(output.text('err'), 'a line on stderr\n'.repeat(2))
    })

    it('run() returns err when the host stream fails (closed, or last-operation-failed with an error resource)', async function () {
      const hello = await component('hello')
      // jco throws a top-level result's err payload as is: for `run: func() -> result` that is `undefined`.
      const c1 = await hello.instantiate(wasiImports(() => ({ tag: 'closed' })).imports)
      assert.deepEqual(thrown(() => c1.run.run()), { threw: true, value: undefined })

      const IoError = (wasiImports().imports['wasi:io/error'] as { Error: new (payload: unknown) => object }).Error
      const c2 = await hello.instantiate(wasiImports(() => ({ tag: 'last-operation-failed', val: new IoError('disk on fire') })).imports)
      assert.deepEqual(thrown(() => c2.run.run()), { threw: true, value: undefined })
      // The component dropped the error resources it was handed and can be called again.
      assert.deepEqual(thrown(() => c2.run.run()), { threw: true, value: undefined })
      // say-hello has no error channel: it traps.
      const c3 = await hello.instantiate(wasiImports(() => ({ tag: 'closed' })).imports)
      assert.throws(() => c3.greeter.sayHello(), wasm.RuntimeError)
    })
  })

  describe('counter', function () {
    it('counts 1, 2, 3 in the host bucket "counter" under "count" as decimal text', async function () {
      const stores = new Map<string, Map<string, Uint8Array>>()
      const kv = keyvalueStore(stores)
      const c = await (await component('counter')).instantiate(kv.imports)
      assert.equal(c.api.get(), 0)
      assert.deepEqual([c.api.increment(), c.api.increment(), c.api.increment()], [1, 2, 3])
      assert.equal(c['colony:counter/api'].get(), 3)
      assert.deepEqual([...stores.keys()], ['counter'])
      assert.equal(Buffer.from(stores.get('counter')?.get('count') ?? []).toString(), '3')
      assert.deepEqual(kv.log.opened, ['counter', 'counter', 'counter', 'counter', 'counter'])
      assert.equal(kv.log.disposed, 5, 'every bucket handle was dropped')
    })

    it('keeps counting from the stored value in a new instance (state lives in the host)', async function () {
      const stores = new Map<string, Map<string, Uint8Array>>()
      const counter = await component('counter')
      const first = await counter.instantiate(keyvalueStore(stores).imports)
      first.api.increment()
      first.api.increment()
      const second = await counter.instantiate(keyvalueStore(stores).imports)
      assert.equal(second.api.get(), 2)
      assert.equal(second.api.increment(), 3)
      assert.equal(first.api.get(), 3, 'the first instance sees the shared store too')
    })

    it('reads a seeded value and handles the u32 range', async function () {
      const counter = await component('counter')
      const stores = new Map([['counter', new Map([['count', Buffer.from('41')]])]])
      const c = await counter.instantiate(keyvalueStore(stores).imports)
      assert.equal(c.api.increment(), 42)
      stores.get('counter')?.set('count', Buffer.from('4294967294'))
      assert.equal(c.api.increment(), 4294967295)
      assert.equal(Buffer.from(stores.get('counter')?.get('count') ?? []).toString(), '4294967295')
    })

    it('traps on a keyvalue error or a value that is not decimal digits', async function () {
      const counter = await component('counter')
      const failing = await counter.instantiate(keyvalueStore(new Map(), { tag: 'other', val: 'backend down' }).imports)
      assert.throws(() => failing.api.increment(), wasm.RuntimeError)
      const garbage = await counter.instantiate(keyvalueStore(new Map([['counter', new Map([['count', Buffer.from('12a')]])]])).imports)
      assert.throws(() => garbage.api.get(), wasm.RuntimeError)
    })
  })

  describe('kitchen', function () {
    it('echoes every kind of WIT value as jco represents it', async function () {
      const c = (await (await component('kitchen')).instantiate({})).echo
      assert.equal(c.echoBool(true), true)
      assert.equal(c.echoBool(false), false)
      assert.equal(c.echoU8(255), 255)
      assert.equal(c.echoS32(-2147483648), -2147483648)
      assert.equal(c.echoU32(4294967295), 4294967295)
      assert.equal(c.echoS64(-(2n ** 63n)), -(2n ** 63n))
      assert.equal(c.echoU64(2n ** 64n - 1n), 2n ** 64n - 1n)
      assert.equal(c.echoF32(1.5), 1.5)
      assert.equal(c.echoF32(0.1), Math.fround(0.1))
      assert.equal(c.echoF64(-0.1), -0.1)
      assert.ok(Number.isNaN(c.echoF64(NaN)))
      assert.equal(c.echoChar('🐝'), '🐝')
      assert.equal(c.echoString('ünïcødé'), 'ünïcødé')
      assert.deepEqual(c.echoBytes(Uint8Array.of(0, 1, 255)), Uint8Array.of(0, 1, 255))
      assert.deepEqual([...c.echoList([1, 2, 4294967295])], [1, 2, 4294967295])
      assert.deepEqual(c.echoStrings(['a', '', 'ccc']), ['a', '', 'ccc'])
      assert.equal(c.echoOption('x'), 'x')
      assert.equal(c.echoOption(undefined), undefined)
      assert.equal(c.echoResult({ tag: 'ok', val: 7 }), 7)
      assert.deepEqual(thrown(() => c.echoResult({ tag: 'err', val: 'nope' })), { threw: true, value: 'nope' })
      assert.equal(c.echoEnum('blue'), 'blue')
      assert.deepEqual(c.echoFlags({ read: true, write: false, exec: true }), { read: true, write: false, exec: true })
      assert.deepEqual(c.echoRecord({ x: -1, y: 2, label: 'p' }), { x: -1, y: 2, label: 'p' })
      assert.deepEqual(c.echoVariant({ tag: 'circle', val: 2.5 }), { tag: 'circle', val: 2.5 })
      assert.deepEqual(c.echoVariant({ tag: 'square', val: 4000000000 }), { tag: 'square', val: 4000000000 })
      assert.deepEqual(c.echoVariant({ tag: 'none' }), { tag: 'none' })
      assert.deepEqual(c.echoTuple([7, 'seven', 7.5]), [7, 'seven', 7.5])
      const points = Array.from({ length: 100 }, (_, i) => ({ x: i, y: 0 - i, label: `p${i}` }))
      assert.deepEqual(c.echoPoints(points), points)
    })
  })

  describe('loop', function () {
    it('ok() returns 42', async function () {
      const c = await (await component('loop')).instantiate({})
      assert.equal(c.api.ok(), 42)
      assert.equal(c['colony:loop/api'].ok(), 42)
    })

    it('forever() does not return; terminating its worker stops it and a fresh instance still answers', async function () {
      const loop = await component('loop')
      const cores = Object.entries(loop.files).filter(([name]) => name.endsWith('.wasm'))
      const worker = new Worker(`
        const { parentPort, workerData } = require('node:worker_threads')
        ;(async () => {
          const mod = await import(workerData.glueUrl)
          const cores = new Map()
          for (const [name, bytes] of workerData.cores) cores.set(name, await WebAssembly.compile(bytes))
          const c = await mod.instantiate((name) => cores.get(name), {})
          parentPort.postMessage('calling')
          c.api.forever()
          parentPort.postMessage('returned')
        })().catch((e) => parentPort.postMessage('failed: ' + e))
      `, { eval: true, workerData: { glueUrl: pathToFileURL(loop.gluePath).href, cores } })
      const abort = new AbortController()
      try {
        const events = new Promise<string>((resolve) => {
          worker.on('message', (m: string) => { if (m !== 'calling') resolve(m) })
          worker.on('error', (e) => resolve(`error: ${e.message}`))
          worker.on('exit', (code) => resolve(`exit ${code}`))
        })
        const started = new Promise<string>((resolve) => worker.on('message', (m: string) => { if (m === 'calling') resolve(m) }))
        assert.equal(await Promise.race([started, events]), 'calling')
        const outcome = await Promise.race([events, delay(200, 'still running', { signal: abort.signal })])
        assert.equal(outcome, 'still running')
      } finally {
        abort.abort()
        const t0 = performance.now()
        await worker.terminate()
        assert.ok(performance.now() - t0 < 5000)
      }
      const fresh = await loop.instantiate({})
      assert.equal(fresh.api.ok(), 42)
    })
  })
})
