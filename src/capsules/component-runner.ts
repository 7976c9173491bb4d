/**
 * Runs a `wasi:cli/run` component inside a namespace capsule, for a session's `wasm_path`. The namespace driver
 * binds this file (as `/usr/lib/colony/component-runner.mjs`) and Colony's node_modules (read-only) into every
 * capsule; the WASI runner (wasi-runner.ts) imports it when the module it was given is a component. So the
 * component runs in the sandbox, as the capsule user, under the capsule's limits, seeing its directory through
 * preview2-shim's sandboxed filesystem.
 *
 * It imports nothing of Colony: only the npm packages bound beside it. The transpiled glue is kept in the capsule's
 * own /tmp by content hash, so a second run of the same component starts at once.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { transpileBytes } from '@bytecodealliance/jco-transpile'
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation'

const CACHE = '/tmp/.colony-components'

async function glue (bytes: Uint8Array): Promise<string> {
  const dir = join(CACHE, createHash('sha256').update(bytes).digest('hex'))
  if (!existsSync(join(dir, 'ready'))) {
    const out = await transpileBytes(bytes, { name: 'c', instantiation: 'async' }) as { files: Record<string, Uint8Array> }
    const tmp = `${dir}.tmp-${process.pid}`
    await mkdir(tmp, { recursive: true })
    for (const [name, data] of Object.entries(out.files)) {
      if (name === 'c.js' || name.endsWith('.wasm')) await writeFile(join(tmp, name === 'c.js' ? 'c.mjs' : name), data)
    }
    await writeFile(join(tmp, 'ready'), '') // written last: a half-made entry is never used
    await rename(tmp, dir).catch(() => { /* another run made it first */ })
  }
  return dir
}

/** Runs the component's `wasi:cli/run`, setting the exit code (the guest's own exit() ends the process, in preview2-shim). */
export async function main (bytes: Uint8Array, env: Record<string, string>, argv0: string, args: string[], root: string): Promise<void> {
  const dir = await glue(bytes)
  const { instantiate } = await import(pathToFileURL(join(dir, 'c.mjs')).href) as {
    instantiate: (core: (name: string) => Promise<WebAssembly.Module>, imports: unknown) => Promise<Record<string, { run?: () => void } | undefined>>
  }
  const shim = new WASIShim({ sandbox: { preopens: { '/': root }, env, args: [argv0, ...args], enableNetwork: false } })
  const exports = await instantiate(async (name) => await WebAssembly.compile(await readFile(join(dir, name))), shim.getImportObject())
  const run = exports.run ?? exports['wasi:cli/run@0.2.0']
  if (typeof run?.run !== 'function') {
    process.stderr.write(`${argv0}: the component exports no wasi:cli/run\n`)
    process.exitCode = 126
    return
  }
  try {
    run.run()
  } catch (err) {
    // A run that returns err is thrown by jco (as undefined); a trap is a RuntimeError.
    if (err instanceof Error) process.stderr.write(`${argv0}: ${err.message}\n`)
    process.exitCode = 1
  }
}
