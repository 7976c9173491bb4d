// Compiles the TypeScript to dist/ with tsc and records when that build started (dist/.build-stamp).
//
// Usage: node scripts/build.mjs [--if-stale]
//   (no flag)     always build (`npm run build`)
//   --if-stale    build only when a source `npm start` runs (src/, actors/, bridges/, tsconfig.json, the C below) changed
//                 since the last successful build; `npm start` uses it, so an unchanged checkout starts at once
//                 instead of paying for a full type-check every time
//
// Also compiles src/capsules/namespace/capsule-enter.c into dist/native/capsule-enter with gcc. Without gcc that is
// skipped with a warning: the namespace capsule driver then enters capsules through a chain of tools (slower).
//
// The stamp gets the time the build started, not ended: a file saved while tsc ran is newer and builds again.
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const STAMP = join(root, 'dist', '.build-stamp')
const SOURCES = ['src', 'actors', 'bridges']

function newestSourceMs () {
  let newest = statSync(join(root, 'tsconfig.json')).mtimeMs
  for (const dir of SOURCES) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !(entry.name.endsWith('.ts') || entry.name.endsWith('.c'))) continue
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
    }
  }
  return newest
}

function stampMs () {
  try {
    return statSync(STAMP).mtimeMs
  } catch {
    return -1
  }
}

/**
 * Removes what tsc emitted for a source that no longer exists: a moved or deleted test would otherwise still run
 * from its old place in dist/ (twice, or failing against code it no longer matches).
 */
function pruneOrphans () {
  for (const dir of [...SOURCES, 'test']) {
    const out = join(root, 'dist', dir)
    if (!existsSync(out)) continue
    for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
      const match = /^(.*)\.(js|js\.map|d\.ts|d\.ts\.map)$/.exec(entry.name)
      if (!entry.isFile() || match === null) continue
      const source = join(root, dir, entry.parentPath.slice(out.length), `${match[1]}.ts`)
      if (!existsSync(source)) rmSync(join(entry.parentPath, entry.name))
    }
  }
}

const NATIVE = [['src/capsules/namespace/capsule-enter.c', 'dist/native/capsule-enter']]

/** Compiles the C helpers; a missing gcc is a warning (they are optional), a compile error fails the build. */
function buildNative () {
  const gcc = spawnSync('gcc', ['--version'], { stdio: 'ignore' })
  if (gcc.error !== undefined || gcc.status !== 0) {
    process.stderr.write('colony: gcc not found; capsules will enter through nsenter (scripts/setup.sh installs gcc)\n')
    for (const [, out] of NATIVE) rmSync(join(root, out), { force: true })
    return 0
  }
  mkdirSync(join(root, 'dist', 'native'), { recursive: true })
  for (const [src, out] of NATIVE) {
    const cc = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', join(root, out), join(root, src)], { stdio: 'inherit' })
    if (cc.status !== 0) return cc.status ?? 1
  }
  return 0
}

function build () {
  const startedAt = new Date()
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
  if (tsc.status !== 0) return tsc.status ?? 1
  pruneOrphans()
  const native = buildNative()
  if (native !== 0) return native
  closeSync(openSync(STAMP, 'a'))
  utimesSync(STAMP, startedAt, startedAt)
  return 0
}

if (!process.argv.includes('--if-stale')) {
  process.exitCode = build()
} else if (stampMs() < newestSourceMs()) {
  process.stderr.write('colony: building dist/ (sources changed since the last build)\n')
  process.exitCode = build()
}
