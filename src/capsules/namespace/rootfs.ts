/**
 * A capsule's root filesystem: an overlay of its writable `upper` dir over read-only lower layers:
 * `spec.layers` (topmost first), then the capsule's *mask*, then the base (the host `/`).
 *
 * The mask is a small layer of overlayfs whiteouts (character devices 0:0) that hides what the capsule must never
 * see of the host: every top-level entry except the system trees (`/usr`, `/etc`, `/bin`...), so `/root`, `/home`,
 * `/work`, `/tmp`, `/var`, `/run`, `/opt`, `/srv`, `/mnt`... are gone; in `/etc`, the shadow files and everything
 * not world-readable; and any extra path the driver is given (Colony's data dirs). The init process then creates its
 * own empty `/home/user`, `/tmp`, `/var/tmp`, `/run`... in the upper dir. Because the mask sits *under* the
 * snapshot layers, a snapshot that lost its opaque-dir xattrs still cannot uncover the host.
 *
 * Only the root filesystem of the host is visible through the base layer (overlayfs does not cross mounts), so
 * `/proc`, `/sys` and `/dev` of the host never show; bwrap mounts the capsule's own /proc and /dev.
 *
 * The overlay is mounted inside a private mount namespace owned by the init process (never on the host), so it goes
 * away with the last process of the capsule, even when Colony is killed.
 */
import { readdir, lstat, mkdir, rm, writeFile, readFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { join, isAbsolute, normalize, dirname } from 'node:path'
import { ColonyError } from '../../errors.js'

/** Top-level entries of the base that stay visible. Everything else at the top is hidden. */
const VISIBLE_TOP = new Set(['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'usr', 'etc', 'proc', 'dev', 'sys'])
/** Hidden in `/etc` whatever their mode (they are also caught by the world-readable scan on most hosts). */
const ETC_SECRETS = ['shadow', 'shadow-', 'gshadow', 'gshadow-', 'ssl/private', 'security/opasswd', '.pwd.lock']

export { CAPSULE_HOME, CAPSULE_UID, CAPSULE_USER, diskBytes } from '../layout.js'
import { CAPSULE_HOME, CAPSULE_UID, CAPSULE_USER } from '../layout.js'

export interface RootfsPaths {
  dir: string
  upper: string
  work: string
  merged: string
  /** The mask as built on disk... */
  mask: string
  /** ...and where a copy of it is mounted (a tmpfs) in the init's mount namespace. */
  maskMount: string
  /** Where the base under its mask is mounted when the capsule has snapshot layers (see overlayMounts). */
  baseMount: string
}

export function rootfsPaths (dir: string): RootfsPaths {
  return {
    dir, upper: join(dir, 'upper'), work: join(dir, 'work'), merged: join(dir, 'merged'),
    mask: join(dir, 'mask'), maskMount: join(dir, 'mask-mnt'), baseMount: join(dir, 'base'),
  }
}

/** Paths go into overlay mount options and shell words: absolute, normalised, nothing that separates options. */
export function checkHostPath (what: string, path: string): string {
  if (!isAbsolute(path) || normalize(path) !== path) {
    throw new ColonyError('invalid_body', `${what} must be an absolute, normalised path: ${path}`)
  }
  if (/[:,\\\n\0"'$`]/.test(path)) throw new ColonyError('invalid_body', `${what} contains a character that is not allowed: ${path}`)
  return path
}

/**
 * The overlay mounts of a capsule, in order: `[mountpoint, options]`.
 *
 * overlayfs refuses a lower layer that lies inside another lower layer of the same filesystem (ELOOP), and every
 * directory of the host's root filesystem lies inside the base `/`. So the mask is copied to a tmpfs first, and with
 * snapshot layers the base and its mask become one read-only overlay of their own, which the capsule's overlay then
 * stacks its layers on (two levels: the kernel's limit).
 */
export function overlayMounts (paths: RootfsPaths, layers: string[], base: string): Array<[string, string]> {
  const rw = `upperdir=${paths.upper},workdir=${paths.work}`
  if (layers.length === 0) return [[paths.merged, `lowerdir=${paths.maskMount}:${base},${rw}`]]
  const lower = layers.map((l) => checkHostPath('layer', l)).join(':')
  return [
    [paths.baseMount, `lowerdir=${paths.maskMount}:${base}`],
    [paths.merged, `lowerdir=${lower}:${paths.baseMount},${rw}`],
  ]
}

/** Paths in the host's /etc that are not world-readable (walked once per driver; never follows links). */
export async function unreadableUnder (root: string, limit = 20_000): Promise<string[]> {
  const found: string[] = []
  let seen = 0
  const walk = async (dir: string): Promise<void> => {
    let entries
    try { entries = await readdir(dir, { withFileTypes: true }) } catch { return }
    for (const e of entries) {
      if (++seen > limit) return
      const path = join(dir, e.name)
      let st
      try { st = await lstat(path) } catch { continue }
      if (st.isSymbolicLink()) continue
      if ((st.mode & 0o004) === 0) { found.push(path); continue }
      if (st.isDirectory()) await walk(path)
    }
  }
  await walk(root)
  return found
}

export interface MaskOptions {
  base: string
  /** Extra absolute host paths to hide (Colony's data dirs...). */
  hidden: string[]
  /** Non-world-readable paths of the base's /etc (from `unreadableUnder`), absolute host paths. */
  etcUnreadable: string[]
  /** The host's resolver configuration is copied in when the capsule shares the host network. */
  network: boolean
}

/** Which paths (relative to `/`) the mask turns into whiteouts. */
export async function maskedPaths (opts: MaskOptions): Promise<string[]> {
  const out = new Set<string>()
  for (const name of await readdir(opts.base)) {
    if (!VISIBLE_TOP.has(name)) out.add(name)
  }
  const hiddenTop = (rel: string): boolean => out.has(rel.split('/')[0] ?? '')
  for (const rel of ETC_SECRETS.map((p) => `etc/${p}`)) out.add(rel)
  const baseEtc = join(opts.base, 'etc')
  for (const abs of opts.etcUnreadable) {
    if (abs.startsWith(baseEtc + '/')) out.add(abs.slice(opts.base.length).replace(/^\/+/, ''))
  }
  for (const abs of opts.hidden) {
    const rel = normalize(abs).replace(/^\/+/, '')
    if (rel.length > 0 && !hiddenTop(rel)) out.add(rel)
  }
  // A path under another hidden path needs no whiteout of its own.
  const all = [...out].sort()
  return all.filter((p) => !all.some((q) => q !== p && p.startsWith(q + '/')))
}

function run (file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err) reject(new ColonyError('capsule_start_failed', `${file} failed: ${stderr.trim() || err.message}`, { cause: err }))
      else resolve()
    })
  })
}

/** Rebuilds the mask layer (the capsule must not be running: the mask is one of its lower layers). */
export async function buildMask (paths: RootfsPaths, opts: MaskOptions): Promise<void> {
  await rm(paths.mask, { recursive: true, force: true })
  await mkdir(paths.mask, { mode: 0o755 })
  const whiteouts = await maskedPaths(opts)
  for (const rel of whiteouts) {
    const parent = dirname(rel)
    if (parent !== '.') await mkdir(join(paths.mask, parent), { recursive: true, mode: 0o755 })
  }
  // The capsule user is uid 1000 named `user`: the host's passwd/group with that id replaced.
  await mkdir(join(paths.mask, 'etc'), { recursive: true, mode: 0o755 })
  await writeFile(join(paths.mask, 'etc/passwd'), withUser(await readText(join(opts.base, 'etc/passwd')),
    `${CAPSULE_USER}:x:${CAPSULE_UID}:${CAPSULE_UID}:${CAPSULE_USER}:${CAPSULE_HOME}:/bin/bash`), { mode: 0o644 })
  await writeFile(join(paths.mask, 'etc/group'), withUser(await readText(join(opts.base, 'etc/group')),
    `${CAPSULE_USER}:x:${CAPSULE_UID}:`), { mode: 0o644 })
  if (opts.network) {
    const resolv = await readText('/etc/resolv.conf')
    if (resolv.length > 0) await writeFile(join(paths.mask, 'etc/resolv.conf'), resolv, { mode: 0o644 })
  }
  // One mknod per whiteout, in one shell (the mask is ours: nothing in it is a link the capsule made).
  if (whiteouts.length > 0) {
    await run('/bin/sh', ['-c', 'cd "$0" || exit 1; for p in "$@"; do mknod -m 000 "./$p" c 0 0 || exit 1; done', paths.mask, ...whiteouts])
  }
}

async function readText (path: string): Promise<string> {
  try { return await readFile(path, 'utf8') } catch { return '' }
}

function withUser (table: string, line: string): string {
  const kept = table.split('\n').filter((l) => {
    if (l.length === 0) return false
    const fields = l.split(':')
    return fields[0] !== CAPSULE_USER && fields[2] !== String(CAPSULE_UID)
  })
  return [...kept, line, ''].join('\n')
}

/** Creates the capsule's directories (the upper dir is kept if it exists: a hibernated capsule's files). */
export async function prepareDirs (paths: RootfsPaths): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
  await mkdir(paths.upper, { recursive: true, mode: 0o755 })
  // overlayfs wants an empty work dir; what a killed mount left in it is of no use.
  await rm(paths.work, { recursive: true, force: true })
  await mkdir(paths.work, { mode: 0o700 })
  await mkdir(paths.merged, { recursive: true, mode: 0o755 })
  await mkdir(paths.maskMount, { recursive: true, mode: 0o755 })
  await mkdir(paths.baseMount, { recursive: true, mode: 0o755 })
}

