import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { transpileBytes } from '@bytecodealliance/jco-transpile'
import { ColonyError } from '../errors.js'
import type { Logger } from '../log.js'

/** A component ready to instantiate: its JS glue on disk and its core modules compiled once, shared by every instance. */
export interface Compiled {
  hash: string
  /** Absolute path of the generated ES module (`c.mjs`) exporting `instantiate`. */
  gluePath: string
  /** Core modules by the file name the glue asks for. WebAssembly.Module objects can be posted to workers. */
  cores: Map<string, WebAssembly.Module>
}

const READY = 'ready.json'
const SYNC_COMPILE_BYTES = 512 * 1024
/**
 * The generated glue checks `process.env.JCO_DEBUG` in a helper it calls hundreds of times per invocation (a slow
 * getenv each time); reading it once at load makes a call about 3x cheaper (notes/wasm-protocols.md §4.3).
 */
const DEBUG_CHECK = 'if (!globalThis?.process?.env?.JCO_DEBUG) { return; }'

/**
 * Transpiles each component once per content hash (kept in `<data>/wasm-cache/<sha256>/`, reused across restarts)
 * and compiles its core modules once per process.
 */
export class ComponentCompiler {
  private readonly compiled = new Map<string, Promise<Compiled>>()

  constructor (private readonly cacheDir: string, private readonly log: Logger) {}

  static hash (bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex')
  }

  prepare (bytes: Uint8Array): Promise<Compiled> {
    const hash = ComponentCompiler.hash(bytes)
    let pending = this.compiled.get(hash)
    if (pending === undefined) {
      pending = this.build(hash, bytes)
      this.compiled.set(hash, pending)
      pending.catch(() => this.compiled.delete(hash))
    }
    return pending
  }

  private async build (hash: string, bytes: Uint8Array): Promise<Compiled> {
    const dir = join(this.cacheDir, hash)
    let files = await this.readCache(dir)
    if (files === undefined) {
      const started = performance.now()
      files = await this.transpile(bytes)
      await this.writeCache(dir, files)
      this.log.info({ hash, ms: Math.round(performance.now() - started) }, 'component transpiled')
    }
    const cores = new Map<string, WebAssembly.Module>()
    for (const [name, data] of Object.entries(files)) {
      if (!name.endsWith('.wasm')) continue
      // A small core compiles in well under a millisecond synchronously, while the async path can queue for
      // hundreds behind V8's background jobs (jco's own wasm has just been compiled); big ones stay async.
      cores.set(name, data.length < SYNC_COMPILE_BYTES ? new WebAssembly.Module(data) : await WebAssembly.compile(data))
    }
    return { hash, gluePath: join(dir, 'c.mjs'), cores }
  }

  private async transpile (bytes: Uint8Array): Promise<Record<string, Uint8Array>> {
    let out: { files: Record<string, Uint8Array> }
    try {
      out = await transpileBytes(bytes, { name: 'c', instantiation: 'async' })
    } catch (err) {
      throw new ColonyError('component_invalid', `the component cannot be transpiled: ${firstLine(err)}`, { cause: err })
    }
    const glue = new TextDecoder().decode(out.files['c.js'])
    const patched = `const __colonyJcoDebug = Boolean(globalThis?.process?.env?.JCO_DEBUG);\n${glue.replaceAll(DEBUG_CHECK, 'if (!__colonyJcoDebug) { return; }')}`
    const files: Record<string, Uint8Array> = { 'c.mjs': new TextEncoder().encode(patched) }
    for (const [name, data] of Object.entries(out.files)) if (name.endsWith('.wasm')) files[name] = data
    return files
  }

  private async readCache (dir: string): Promise<Record<string, Uint8Array> | undefined> {
    try {
      const names = JSON.parse(await readFile(join(dir, READY), 'utf8')) as string[]
      const files: Record<string, Uint8Array> = {}
      for (const name of names) files[name] = await readFile(join(dir, name))
      return files
    } catch {
      return undefined
    }
  }

  /** Written to a temporary directory and renamed, so a crash never leaves a half-written cache entry. */
  private async writeCache (dir: string, files: Record<string, Uint8Array>): Promise<void> {
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
    await mkdir(tmp, { recursive: true })
    for (const [name, data] of Object.entries(files)) await writeFile(join(tmp, name), data)
    await writeFile(join(tmp, READY), JSON.stringify(Object.keys(files)))
    await rm(dir, { recursive: true, force: true })
    await rename(tmp, dir).catch(async (err: unknown) => {
      // Another process or call won the race: its identical entry stands.
      await rm(tmp, { recursive: true, force: true })
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    })
  }
}

function firstLine (err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n').find((l) => l.trim() !== '')?.slice(0, 300) ?? 'unknown error'
}
