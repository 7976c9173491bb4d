/**
 * Wrenn's files API over any driver: the checks every path and body gets before the driver's own files see them.
 * How a driver keeps a path inside its capsule is its business (shell-files.ts runs the operations inside the
 * sandbox; the wasi driver resolves paths itself under the capsule's directory).
 */
import type { Readable } from 'node:stream'
import { ColonyError } from '../errors.js'
import type { CapsuleSandbox, FileEntry } from './driver.js'

export type { FileEntry } from './driver.js'

/** Wrenn's limit on a non-streaming write (and on a read answered in one body). */
export const MAX_FILE_BYTES = 100 * 1024 * 1024

function checkPath (path: string): string {
  if (typeof path !== 'string' || path.length === 0 || path.length > 4096 || path.includes('\0')) {
    throw new ColonyError('file_invalid', 'path must be 1 to 4096 characters without NUL', { details: { field: 'path' } })
  }
  return path
}

/** The whole file (a regular file; a directory is 400, a missing path 404; over 100 MiB use the stream). */
export async function readFile (sandbox: CapsuleSandbox, path: string): Promise<Buffer> {
  return await sandbox.files.read(checkPath(path), MAX_FILE_BYTES)
}

/** Creates or replaces the file, creating its parent directories. */
export async function writeFile (sandbox: CapsuleSandbox, path: string, data: Buffer): Promise<void> {
  if (data.length > MAX_FILE_BYTES) throw new ColonyError('file_too_large', 'the file exceeds the 100 MiB limit')
  await sandbox.files.write(checkPath(path), data)
}

/** Wrenn's list: entries under a directory down to `depth` levels (0 counts as 1), links not followed. */
export async function listDir (sandbox: CapsuleSandbox, path: string, depth = 1): Promise<FileEntry[]> {
  return await sandbox.files.list(checkPath(path), Math.max(1, Math.min(32, Math.floor(depth))))
}

/** Creates the directory and its parents; an existing directory is 409, an existing file 400. */
export async function makeDir (sandbox: CapsuleSandbox, path: string): Promise<FileEntry> {
  return await sandbox.files.mkdir(checkPath(path))
}

/** Removes a file, a link or a whole directory; a missing path is 404. */
export async function removePath (sandbox: CapsuleSandbox, path: string): Promise<void> {
  await sandbox.files.remove(checkPath(path))
}

/** Wrenn's streaming read: the file's bytes at the reader's pace (404 / 400 before any byte is sent). */
export async function readFileStream (sandbox: CapsuleSandbox, path: string): Promise<Readable> {
  return await sandbox.files.readStream(checkPath(path))
}

/** Wrenn's streaming write: no size limit, the bytes go into the capsule as they arrive (its parents created). */
export async function writeFileStream (sandbox: CapsuleSandbox, path: string, source: Readable): Promise<void> {
  await sandbox.files.writeStream(checkPath(path), source)
}
