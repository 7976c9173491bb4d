/**
 * What the namespace driver needs of the host: root, bubblewrap, util-linux (unshare, nsenter, setpriv, mount),
 * overlayfs and the cgroup controllers. A missing piece is `capsule_unavailable` naming it; the driver never runs a
 * process unsandboxed instead.
 */
import { access, readFile, constants } from 'node:fs/promises'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { ColonyError } from '../../errors.js'
import { detectCgroups, type CgroupLayout } from './cgroup.js'

export interface HostTools {
  bwrap: string
  unshare: string
  nsenter: string
  setpriv: string
  mount: string
  sh: string
}

/** Where the tools are looked for: fixed, not the process's PATH (which a caller could point anywhere). */
export const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

async function which (name: string, searchPath: readonly string[]): Promise<string | undefined> {
  for (const dir of searchPath) {
    const path = join(dir, name)
    try {
      await access(path, constants.X_OK)
      return path
    } catch { /* next */ }
  }
  return undefined
}

function version (file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, ['--version'], { timeout: 5000 }, (err, stdout) => { if (err !== null) reject(new Error(err.message)); else resolve(stdout.trim()) })
  })
}

export interface Prerequisites {
  tools: HostTools
  cgroups: CgroupLayout
}

export async function checkPrerequisites (searchPath: readonly string[] = SEARCH_PATH): Promise<Prerequisites> {
  const missing: string[] = []
  if (process.getuid?.() !== 0) missing.push('root (the namespace driver mounts overlays and writes cgroups)')
  const found: Partial<HostTools> = {}
  for (const [key, name, pkg] of [
    ['bwrap', 'bwrap', 'bubblewrap'], ['unshare', 'unshare', 'util-linux'], ['nsenter', 'nsenter', 'util-linux'],
    ['setpriv', 'setpriv', 'util-linux'], ['mount', 'mount', 'mount'], ['sh', 'sh', 'dash'],
  ] as const) {
    const path = await which(name, searchPath)
    if (path === undefined) missing.push(`${name} (Debian package ${pkg})`)
    else found[key] = path
  }
  if (found.bwrap !== undefined) {
    try {
      const v = await version(found.bwrap)
      if (!/bubblewrap/i.test(v)) missing.push(`a working bwrap (said: ${v})`)
    } catch (err) {
      missing.push(`a working bwrap (${(err as Error).message})`)
    }
  }
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '')
  if (!/\toverlay$/m.test(filesystems)) missing.push('overlayfs (kernel module overlay)')
  let cgroups: CgroupLayout | undefined
  try {
    cgroups = await detectCgroups()
  } catch (err) {
    missing.push((err as Error).message)
  }
  if (missing.length > 0 || cgroups === undefined) {
    throw new ColonyError('capsule_unavailable', `capsules cannot run on this host; missing: ${missing.join('; ')}`,
      { details: { missing } })
  }
  return { tools: found as HostTools, cgroups }
}
