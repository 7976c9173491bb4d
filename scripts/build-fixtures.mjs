// Builds the test components in fixtures/components/ from source with the wasm-tools bundled in
// @bytecodealliance/jco-transpile (no Rust toolchain, no network):
//
//   fixtures/components/<name>/component.wat   core module (canonical ABI written by hand)
//   fixtures/components/<name>/world.wit       its world (one package, one world)
//   fixtures/components/wit/*.wit              shared WASI packages, written as `package ns:name@ver { ... }` blocks;
//                                              each is appended to a world that mentions `ns:name/` (transitively)
//   -> fixtures/components/<name>.wasm         parse -> component embed -> component new
//
// Usage: node scripts/build-fixtures.mjs [--check] [name ...]
//   (no flag)  rebuild and write every fixture (or the named ones)
//   --check    write nothing; exit 1 listing the fixtures whose committed .wasm differs from a fresh build
//
// The output depends only on the sources and the wasm-tools version, so upgrading jco-transpile may require a
// rebuild (test/fixtures/components.test.ts fails until the committed binaries match).
import { Buffer } from 'node:buffer'
import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { URL, fileURLToPath, pathToFileURL } from 'node:url'
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools'

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/components/', import.meta.url))
const SHARED_WIT_DIR = join(FIXTURES_DIR, 'wit')

/**
 * Names of the fixtures: the directories of FIXTURES_DIR holding a component.wat, sorted.
 * @returns {Promise<string[]>}
 */
export async function listFixtures () {
  const entries = await readdir(FIXTURES_DIR, { withFileTypes: true })
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(FIXTURES_DIR, e.name, 'component.wat')))
    .map((e) => e.name)
    .sort()
}

/**
 * The committed binary of a fixture.
 * @param {string} name
 * @returns {string}
 */
export function wasmPath (name) {
  return join(FIXTURES_DIR, `${name}.wasm`)
}

/** @returns {Promise<Array<{ file: string, id: string, text: string }>>} */
async function sharedPackages () {
  const files = (await readdir(SHARED_WIT_DIR)).filter((f) => f.endsWith('.wit')).sort()
  return Promise.all(files.map(async (file) => {
    const text = await readFile(join(SHARED_WIT_DIR, file), 'utf8')
    const m = /^package\s+([a-z][\w-]*:[a-z][\w-]*)(@[^\s{;]+)?\s*\{/m.exec(text)
    if (!m) throw new Error(`${file}: expected a nested package block "package ns:name@version { ... }"`)
    return { file, id: String(m[1]), text }
  }))
}

/**
 * The world's WIT followed by every shared package it uses, directly or through another shared package.
 * @param {string} name
 * @returns {Promise<string>}
 */
export async function witSource (name) {
  const world = await readFile(join(FIXTURES_DIR, name, 'world.wit'), 'utf8')
  const shared = await sharedPackages()
  /** @type {Set<{ file: string, id: string, text: string }>} */
  const used = new Set()
  let text = world
  for (let grew = true; grew;) {
    grew = false
    for (const pkg of shared) {
      if (!used.has(pkg) && text.includes(`${pkg.id}/`)) {
        used.add(pkg)
        text += `\n${pkg.text}`
        grew = true
      }
    }
  }
  return text
}

/**
 * Builds one fixture from source; resolves to the component's bytes.
 * @param {string} name
 * @returns {Promise<Uint8Array>}
 */
export async function buildFixture (name) {
  const wat = await readFile(join(FIXTURES_DIR, name, 'component.wat'), 'utf8')
  const wit = await witSource(name)
  const pkg = /^package\s+([a-z][\w-]*:[a-z][\w-]*)\s*;/m.exec(wit)
  const world = /^world\s+([a-z][\w-]*)\s*\{/m.exec(wit)
  if (!pkg || !world) throw new Error(`${name}/world.wit: expected "package ns:name;" and one "world name { ... }"`)
  const core = await parse(wat)
  const embedded = await componentEmbed({ binary: core, witSource: wit, world: `${String(pkg[1])}/${String(world[1])}` })
  return componentNew(embedded)
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
function sameBytes (a, b) {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0
}

/** @param {string[]} argv */
async function main (argv) {
  const check = argv.includes('--check')
  const named = argv.filter((a) => !a.startsWith('--'))
  const all = await listFixtures()
  const unknown = named.filter((n) => !all.includes(n))
  if (unknown.length > 0) throw new Error(`unknown fixture(s): ${unknown.join(', ')} (known: ${all.join(', ')})`)
  const names = named.length > 0 ? named : all
  /** @type {string[]} */
  const stale = []
  const started = performance.now()
  for (const name of names) {
    const bytes = await buildFixture(name)
    const path = wasmPath(name)
    const current = existsSync(path) ? await readFile(path) : null
    const upToDate = current !== null && sameBytes(current, bytes)
    if (check) {
      if (!upToDate) stale.push(name)
    } else if (!upToDate) {
      await writeFile(path, bytes)
      process.stdout.write(`wrote ${name}.wasm (${bytes.length} bytes)\n`)
    } else {
      process.stdout.write(`${name}.wasm is up to date (${bytes.length} bytes)\n`)
    }
  }
  const ms = Math.round(performance.now() - started)
  if (check && stale.length > 0) {
    process.stderr.write(`stale fixtures (run npm run build:fixtures): ${stale.join(', ')}\n`)
    process.exitCode = 1
  } else if (check) {
    process.stdout.write(`all ${names.length} fixtures are current (${ms} ms)\n`)
  } else {
    process.stdout.write(`built ${names.length} fixtures in ${ms} ms\n`)
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((/** @type {unknown} */ err) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
