/**
 * A capsule's files for the `wasi` driver, done by Colony itself on the host: the capsule is a plain directory (its
 * root) and nothing runs inside a sandbox to do the work, so this file is the boundary. A capsule path is resolved
 * as a process chrooted at the root would see it: component by component with lstat, a symlink read and resolved
 * again inside the root (an absolute target starts over at the root, `..` stops at the root), at most 40 links.
 *
 * That walk is only advice: the capsule's processes may swap a directory for a symlink while it runs. What makes an
 * operation safe is where it happens: on a name inside a directory opened by fd and checked to be inside the root
 * (`/proc/self/fd/N/name` is openat/mkdirat/unlinkat for Node), with O_NOFOLLOW on the name. So Linux's /proc is
 * needed. Hard links are fine: a WASI process can only link files it can reach, which are inside the root.
 * Error messages name capsule paths and errno codes, never a host path.
 */
import { constants, type Dirent, type Stats } from 'node:fs'
import { lstat, mkdir, open, readdir, readlink, realpath, rmdir, unlink, type FileHandle } from 'node:fs/promises'
import { posix } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { ColonyError } from '../../errors.js'
import type { CapsuleFiles, FileEntry } from '../driver.js'

/** Linux's limit on links followed in one lookup (ELOOP past it). */
const MAX_LINKS = 40
const MAX_PATH = 4096
/** A listing stops here, as the namespace driver's stops at 64 MiB of output. */
const MAX_ENTRIES = 100_000
const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants
/** O_NONBLOCK: opening a FIFO the capsule made must not hang Colony (no effect on regular files). */
const READ_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK
const WRITE_FLAGS = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW

/** A resolved capsule path: its real components under the root; `stat` is the final one's lstat, absent if it does not exist. */
interface Resolved { parts: string[], stat: Stats | undefined }

function short (path: string): string {
  return path.slice(0, 200)
}

function errno (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code
}

/** An fs error as Colony's code, without the host path Node puts in its message. */
function failure (err: unknown, path: string, what: string): ColonyError {
  if (err instanceof ColonyError) return err
  const code = errno(err)
  if (code === 'ENOENT') return new ColonyError('file_not_found', `${short(path)} does not exist`)
  if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENOTDIR') return new ColonyError('file_invalid', `${short(path)} ${what}`)
  return new ColonyError('capsule_exec_failed', `${short(path)}: ${code ?? 'failed'}`)
}

async function lstatOrUndefined (host: string): Promise<Stats | undefined> {
  try {
    return await lstat(host)
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined
    throw err
  }
}

/** The capsule files of `root` (absolute host path); `home` is the capsule path a relative path starts from. */
export function hostFiles (root: string, home: string): CapsuleFiles {
  /** The root as the kernel names it, so an fd's /proc name can be compared with it. */
  const realRoot = async (): Promise<string> => {
    try {
      return await realpath(root)
    } catch (err) {
      throw new ColonyError('capsule_exec_failed', `the capsule's directory is unusable: ${errno(err) ?? 'failed'}`)
    }
  }
  const hostOf = (real: string, parts: string[]): string => parts.length === 0 ? real : `${real}/${parts.join('/')}`

  /** Throws unless the fd is inside the root (what the kernel says it is, not what a path said). */
  async function checkInside (real: string, fd: number, path: string): Promise<void> {
    const at = await readlink(`/proc/self/fd/${fd}`)
    if (at !== real && !at.startsWith(real + '/')) throw new ColonyError('file_invalid', `${short(path)} changed while it was opened`)
  }

  /** The directory of `parts`, opened and checked; the caller closes it. */
  async function openDir (real: string, parts: string[], path: string): Promise<FileHandle> {
    const dir = await open(hostOf(real, parts), DIR_FLAGS)
    try {
      await checkInside(real, dir.fd, path)
      return dir
    } catch (err) {
      await dir.close()
      throw err
    }
  }

  /** Runs `fn` with the path of the name inside its checked parent directory (`/proc/self/fd/N/name`). */
  async function atParent<T> (real: string, parts: string[], path: string, fn: (at: string) => Promise<T>): Promise<T> {
    const dir = await openDir(real, parts.slice(0, -1), path)
    try {
      return await fn(`/proc/self/fd/${dir.fd}/${parts.at(-1)!}`)
    } finally {
      await dir.close()
    }
  }

  /**
   * Resolves a capsule path inside the root. `follow`: a symlink as the last component is followed. `create`: a
   * missing directory on the way is made (mkdir -p), else it is 404; a file on the way is 404 (400 when creating).
   */
  async function resolve (real: string, path: string, follow: boolean, create: boolean): Promise<Resolved> {
    if (path === '' || path.includes('\0')) throw new ColonyError(path === '' ? 'file_not_found' : 'file_invalid', 'the path is empty or has a NUL byte')
    if (path.length > MAX_PATH) throw new ColonyError('file_invalid', `the path is over ${MAX_PATH} characters`)
    const todo = (path.startsWith('/') ? path : `${home}/${path}`).split('/')
    let parts: string[] = []
    let links = 0
    let made = 0
    while (true) {
      const name = todo.shift()
      if (name === undefined) return { parts, stat: await lstat(hostOf(real, parts)) }
      if (name === '' || name === '.') continue
      if (name === '..') { parts.pop(); continue }
      const last = todo.every((c) => c === '' || c === '.')
      const host = hostOf(real, [...parts, name])
      const stat = await lstatOrUndefined(host)
      if (stat === undefined) {
        if (last) return { parts: [...parts, name], stat: undefined }
        if (!create) throw new ColonyError('file_not_found', `${short(path)} does not exist`)
        if (++made > MAX_LINKS) throw new ColonyError('capsule_exec_failed', `${short(path)} keeps changing while its parents are made`)
        await atParent(real, [...parts, name], path, async (at) => {
          // A directory made meanwhile is as good; anything else is seen by the lstat on the next turn.
          try { await mkdir(at, 0o755) } catch (err) { if (errno(err) !== 'EEXIST') throw err }
        })
        todo.unshift(name)
        continue
      }
      if (stat.isSymbolicLink() && (follow || !last)) {
        if (++links > MAX_LINKS) throw new ColonyError('file_invalid', `${short(path)} has too many levels of symbolic links`)
        let target: string
        try {
          target = await readlink(host)
        } catch (err) {
          // No longer a link (or gone) since the lstat: look at the name again (the count above bounds the retries).
          if (errno(err) !== 'EINVAL' && errno(err) !== 'ENOENT') throw err
          todo.unshift(name)
          continue
        }
        if (target === '') throw new ColonyError('file_not_found', `${short(path)} does not exist`)
        if (target.startsWith('/')) parts = []
        todo.unshift(...target.split('/'))
        continue
      }
      if (!last && !stat.isDirectory()) {
        if (create) throw new ColonyError('file_invalid', `${short(path)} has a file where a directory is needed`)
        throw new ColonyError('file_not_found', `${short(path)} does not exist`)
      }
      parts.push(name)
      if (last) return { parts, stat }
    }
  }

  /** Opens a regular file of the capsule, checked to be inside the root; the caller closes it. */
  async function openFile (path: string, op: 'read' | 'write'): Promise<FileHandle> {
    const real = await realRoot()
    try {
      const { parts, stat } = await resolve(real, path, true, op === 'write')
      if (op === 'read' && stat === undefined) throw new ColonyError('file_not_found', `${short(path)} does not exist`)
      if (stat !== undefined && !stat.isFile()) throw new ColonyError('file_invalid', `${short(path)} is not a regular file`)
      if (parts.length === 0) throw new ColonyError('file_invalid', `${short(path)} is not a regular file`)
      const file = await atParent(real, parts, path, async (at) => await open(at, op === 'read' ? READ_FLAGS : WRITE_FLAGS, 0o644))
      try {
        await checkInside(real, file.fd, path)
        if (!(await file.stat()).isFile()) throw new ColonyError('file_invalid', `${short(path)} is not a regular file`)
        return file
      } catch (err) {
        await file.close()
        throw err
      }
    } catch (err) {
      throw failure(err, path, 'is not a regular file')
    }
  }

  async function readAll (path: string, maxBytes: number): Promise<Buffer> {
    const file = await openFile(path, 'read')
    try {
      const size = (await file.stat()).size
      if (size > maxBytes) throw new ColonyError('file_too_large', `${short(path)} is over ${maxBytes} bytes: use the streaming read`)
      // Up to one byte past the limit, whatever the size said: the file may grow meanwhile.
      const chunks: Buffer[] = []
      let total = 0
      while (total <= maxBytes) {
        const chunk = Buffer.alloc(Math.min(maxBytes + 1 - total, Math.max(size + 1 - total, 64 * 1024)))
        const { bytesRead } = await file.read(chunk, 0, chunk.length, total)
        if (bytesRead === 0) break
        chunks.push(chunk.subarray(0, bytesRead))
        total += bytesRead
      }
      if (total > maxBytes) throw new ColonyError('file_too_large', `${short(path)} is over ${maxBytes} bytes: use the streaming read`)
      return Buffer.concat(chunks, total)
    } catch (err) {
      throw failure(err, path, 'is not a regular file')
    } finally {
      await file.close()
    }
  }

  function entry (base: string, rel: string, stat: Stats, target?: string): FileEntry {
    const type = stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : stat.isSymbolicLink() ? 'symlink' : 'other'
    const path = rel === '' ? base : posix.join(base, rel)
    const mode = stat.mode & 0o7777
    const bits = 'rwxrwxrwx'.split('').map((c, i) => (mode & (1 << (8 - i))) !== 0 ? c : '-').join('')
    return {
      name: posix.basename(path),
      path,
      type,
      size: stat.size,
      mode,
      permissions: (type === 'directory' ? 'd' : type === 'symlink' ? 'l' : '-') + bits,
      // The capsule has one user.
      owner: 'user',
      group: 'user',
      modified_at: Math.floor(stat.mtimeMs / 1000),
      ...(target !== undefined && { symlink_target: target }),
    }
  }

  /** Entries of an open directory, sorted by name, each followed by its own entries while levels remain (find's order). */
  async function walk (real: string, dir: FileHandle, base: string, rel: string, levels: number, out: FileEntry[], path: string): Promise<void> {
    const names = (await readdir(`/proc/self/fd/${dir.fd}`, { withFileTypes: true })).map((d: Dirent) => d.name).sort()
    for (const name of names) {
      if (out.length >= MAX_ENTRIES) return
      const at = `/proc/self/fd/${dir.fd}/${name}`
      const stat = await lstatOrUndefined(at)
      if (stat === undefined) continue
      const target = stat.isSymbolicLink() ? await readlink(at).catch(() => '') : undefined
      const childRel = rel === '' ? name : `${rel}/${name}`
      out.push(entry(base, childRel, stat, target))
      if (levels > 1 && stat.isDirectory()) {
        let child: FileHandle
        try {
          child = await open(at, DIR_FLAGS)
        } catch (err) {
          // Swapped for something else, or gone, since the lstat: listed as it was, not descended.
          if (['ENOENT', 'ELOOP', 'ENOTDIR', 'EACCES'].includes(errno(err) ?? '')) continue
          throw err
        }
        try {
          await checkInside(real, child.fd, path)
          await walk(real, child, base, childRel, levels - 1, out, path)
        } finally {
          await child.close()
        }
      }
    }
  }

  async function list (path: string, depth: number): Promise<FileEntry[]> {
    const levels = Math.max(1, Math.min(32, Math.floor(Number.isFinite(depth) ? depth : 1)))
    const real = await realRoot()
    try {
      const { parts, stat } = await resolve(real, path, true, false)
      if (stat === undefined) throw new ColonyError('file_not_found', `${short(path)} does not exist`)
      if (!stat.isDirectory()) throw new ColonyError('file_invalid', `${short(path)} is not a directory`)
      const dir = await openDir(real, parts, path)
      try {
        const out: FileEntry[] = []
        await walk(real, dir, path, '', levels, out, path)
        return out
      } finally {
        await dir.close()
      }
    } catch (err) {
      throw failure(err, path, 'is not a directory')
    }
  }

  async function makeDir (path: string): Promise<FileEntry> {
    const real = await realRoot()
    try {
      const { parts, stat } = await resolve(real, path, true, true)
      if (stat?.isDirectory() === true) throw new ColonyError('file_exists', `${short(path)} already exists`)
      if (stat !== undefined) throw new ColonyError('file_invalid', `${short(path)} exists and is not a directory`)
      return await atParent(real, parts, path, async (at) => {
        try {
          await mkdir(at, 0o755)
        } catch (err) {
          if (errno(err) === 'EEXIST') throw new ColonyError('file_exists', `${short(path)} already exists`)
          throw err
        }
        return entry(path, '', await lstat(at))
      })
    } catch (err) {
      throw failure(err, path, 'exists and is not a directory')
    }
  }

  /** Removes `name` of an open directory, a whole tree under it, never following a link (rm -rf, by fd). */
  async function removeAt (real: string, dir: FileHandle, name: string, path: string): Promise<void> {
    const at = `/proc/self/fd/${dir.fd}/${name}`
    let sub: FileHandle
    try {
      sub = await open(at, DIR_FLAGS)
    } catch (err) {
      // Not a directory (a file, a link, anything): unlink removes that very name.
      if (errno(err) === 'ENOTDIR' || errno(err) === 'ELOOP') {
        await unlink(at).catch((e: unknown) => { if (errno(e) !== 'ENOENT') throw e })
        return
      }
      if (errno(err) === 'ENOENT') return
      throw err
    }
    try {
      await checkInside(real, sub.fd, path)
      for (const child of await readdir(`/proc/self/fd/${sub.fd}`)) await removeAt(real, sub, child, path)
    } finally {
      await sub.close()
    }
    await rmdir(at).catch((e: unknown) => { if (errno(e) !== 'ENOENT') throw e })
  }

  async function remove (path: string): Promise<void> {
    const real = await realRoot()
    try {
      const { parts, stat } = await resolve(real, path, false, false)
      if (stat === undefined) throw new ColonyError('file_not_found', `${short(path)} does not exist`)
      if (parts.length === 0) throw new ColonyError('file_invalid', 'the capsule\'s root cannot be removed')
      const dir = await openDir(real, parts.slice(0, -1), path)
      try {
        await removeAt(real, dir, parts.at(-1)!, path)
      } finally {
        await dir.close()
      }
    } catch (err) {
      throw failure(err, path, 'could not be removed')
    }
  }

  return {
    read: async (path, maxBytes) => await readAll(path, maxBytes),
    write: async (path, data) => {
      const file = await openFile(path, 'write')
      try {
        await file.writeFile(data)
      } catch (err) {
        throw failure(err, path, 'is a directory')
      } finally {
        await file.close()
      }
    },
    readStream: async (path) => {
      const file = await openFile(path, 'read')
      // The stream owns the fd: closed at its end, on an error, or when the reader destroys it.
      return file.createReadStream({ autoClose: true })
    },
    writeStream: async (path, source) => {
      const file = await openFile(path, 'write')
      const out = file.createWriteStream({ autoClose: true })
      // The stream closes the fd after it ends or fails; FileHandle.close() may answer before that close is done.
      const closed = new Promise<void>((resolve) => { out.once('close', () => { resolve() }) })
      try {
        // pipeline destroys both sides on an error; the write stream then closes the fd.
        await pipeline(source, out)
      } catch (err) {
        throw failure(err, path, 'is a directory')
      } finally {
        await closed
      }
    },
    list: async (path, depth) => await list(path, depth),
    mkdir: async (path) => await makeDir(path),
    remove: async (path) => { await remove(path) },
  }
}
