/**
 * A capsule's files done inside the capsule, for drivers that run real processes (namespace): every operation is
 * a small process run in the capsule's own sandbox (as its user, in its mount namespace), like Wrenn's guest agent
 * does it. So a path is a capsule path and nothing the capsule creates (a symlink, `..`, a hard link,
 * `/proc/1/root`) reaches further than the capsule itself can: the sandbox is the only boundary, and there is one.
 * Paths are passed as arguments, never into a script.
 */
import { posix } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { ColonyError } from '../errors.js'
import type { CapsuleFiles, CapsuleSandbox, ExecResult, FileEntry } from './driver.js'

/** What the operations need of the sandbox: its processes. */
type Sandbox = Pick<CapsuleSandbox, 'exec' | 'spawn'>

const OP_TIMEOUT_MS = 60_000
/** Exit codes the scripts below use to say what is wrong with the path. */
const NOT_FOUND = 44
const WRONG_TYPE = 45
const EXISTS = 46

async function run (sandbox: Sandbox, script: string, args: string[], stdin?: Buffer, maxOutputBytes = 1024 * 1024): Promise<ExecResult> {
  return await sandbox.exec({ cmd: '/bin/sh', args: ['-c', script, 'sh', ...args], timeoutMs: OP_TIMEOUT_MS, maxOutputBytes, ...(stdin !== undefined && { stdin }) })
}

function fail (out: ExecResult, path: string, what: string): never {
  if (out.exitCode === NOT_FOUND) throw new ColonyError('file_not_found', `${path.slice(0, 200)} does not exist`)
  if (out.exitCode === WRONG_TYPE) throw new ColonyError('file_invalid', `${path.slice(0, 200)} ${what}`)
  if (out.exitCode === EXISTS) throw new ColonyError('file_exists', `${path.slice(0, 200)} already exists`)
  throw new ColonyError('capsule_exec_failed', `${what}: ${out.stderr.toString('utf8').trim().slice(0, 300) || `exit code ${out.exitCode}`}`)
}

/** The whole file (a regular file; a directory is 400, a missing path 404; over 100 MiB use the stream). */
async function readFile (sandbox: Sandbox, path: string, maxBytes: number): Promise<Buffer> {
  const out = await run(sandbox, `[ -e "$1" ] || exit ${NOT_FOUND}; [ -f "$1" ] || exit ${WRONG_TYPE}; exec cat -- "$1"`, [path], undefined, maxBytes)
  if (out.exitCode !== 0) fail(out, path, 'is not a regular file')
  if (out.truncated) throw new ColonyError('file_too_large', `${path.slice(0, 200)} is over ${maxBytes} bytes: use the streaming read`)
  return out.stdout
}

/** Creates or replaces the file, creating its parent directories. */
async function writeFile (sandbox: Sandbox, path: string, data: Buffer): Promise<void> {
  const out = await run(sandbox, `[ -d "$1" ] && exit ${WRONG_TYPE}; mkdir -p -- "$(dirname -- "$1")" && cat > "$1"`, [path], data)
  if (out.exitCode !== 0) fail(out, path, 'is a directory')
}

const PRINTF = '%y\\t%s\\t%m\\t%u\\t%g\\t%T@\\t%P\\t%l\\0'

function entries (base: string, text: string): FileEntry[] {
  return text.split('\0').filter((line) => line !== '').map((line) => {
    const [kind = '', size = '0', mode = '0', owner = '', group = '', mtime = '0', rel = '', target = ''] = line.split('\t')
    const type = kind === 'f' ? 'file' : kind === 'd' ? 'directory' : kind === 'l' ? 'symlink' : 'other'
    const path = rel === '' ? base : posix.join(base, rel)
    const perms = parseInt(mode, 8)
    return {
      name: posix.basename(path),
      path,
      type,
      size: Number(size),
      mode: perms,
      permissions: permissions(type, perms),
      owner,
      group,
      modified_at: Math.floor(Number(mtime)),
      ...(type === 'symlink' && { symlink_target: target }),
    }
  })
}

function permissions (type: FileEntry['type'], mode: number): string {
  const bits = 'rwxrwxrwx'.split('').map((c, i) => (mode & (1 << (8 - i))) !== 0 ? c : '-').join('')
  return (type === 'directory' ? 'd' : type === 'symlink' ? 'l' : '-') + bits
}

/** Wrenn's list: entries under a directory down to `depth` levels (0 counts as 1), links not followed. */
async function listDir (sandbox: Sandbox, path: string, depth = 1): Promise<FileEntry[]> {
  const levels = Math.max(1, Math.min(32, Math.floor(depth)))
  const out = await run(sandbox, `[ -e "$1" ] || exit ${NOT_FOUND}; [ -d "$1" ] || exit ${WRONG_TYPE}; exec find "$1" -mindepth 1 -maxdepth ${levels} -printf '${PRINTF}'`,
    [path], undefined, 64 * 1024 * 1024)
  if (out.exitCode !== 0) fail(out, path, 'is not a directory')
  return entries(path, out.stdout.toString('utf8'))
}

/** Creates the directory and its parents; an existing directory is 409, an existing file 400. */
async function makeDir (sandbox: Sandbox, path: string): Promise<FileEntry> {
  const out = await run(sandbox, `[ -d "$1" ] && exit ${EXISTS}; [ -e "$1" ] && exit ${WRONG_TYPE}; mkdir -p -- "$1" && exec find "$1" -maxdepth 0 -printf '${PRINTF}'`, [path])
  if (out.exitCode !== 0) fail(out, path, 'exists and is not a directory')
  const [entry] = entries(path, out.stdout.toString('utf8'))
  if (entry === undefined) throw new ColonyError('capsule_exec_failed', 'the directory was created but could not be read back')
  return entry
}

/** Removes a file, a link or a whole directory; a missing path is 404. */
async function removePath (sandbox: Sandbox, path: string): Promise<void> {
  const out = await run(sandbox, `{ [ -e "$1" ] || [ -L "$1" ]; } || exit ${NOT_FOUND}; exec rm -rf -- "$1"`, [path])
  if (out.exitCode !== 0) fail(out, path, 'could not be removed')
}

/**
 * Wrenn's streaming read: the file's bytes as they come out of `cat` in the capsule, at the reader's pace. The
 * path is checked first (404 / 400 before any byte is sent).
 */
async function readFileStream (sandbox: Sandbox, path: string): Promise<Readable> {
  const check = await run(sandbox, `[ -e "$1" ] || exit ${NOT_FOUND}; [ -f "$1" ] || exit ${WRONG_TYPE}`, [path])
  if (check.exitCode !== 0) fail(check, path, 'is not a regular file')
  const proc = sandbox.spawn({ cmd: 'cat', args: ['--', path] })
  const out = new PassThrough()
  proc.on('stdout', (chunk) => { if (!out.write(chunk)) proc.pause() })
  out.on('drain', () => proc.resume())
  proc.on('exit', (code) => {
    if (code === 0) out.end()
    else out.destroy(new ColonyError('capsule_exec_failed', `reading ${path.slice(0, 200)} stopped with exit code ${code}`))
  })
  // A reader that goes away stops the cat.
  out.on('close', () => { if (!out.writableFinished) proc.kill() })
  return out
}

/** Wrenn's streaming write: no size limit, the bytes go into the capsule as they arrive (its parents created). */
async function writeFileStream (sandbox: Sandbox, path: string, source: Readable): Promise<void> {
  const proc = sandbox.spawn({ cmd: '/bin/sh', args: ['-c', `[ -d "$1" ] && exit ${WRONG_TYPE}; mkdir -p -- "$(dirname -- "$1")" && exec cat > "$1"`, 'sh', path] })
  const stderr: Buffer[] = []
  proc.on('stderr', (b) => stderr.push(b))
  const exited = new Promise<number>((resolve) => proc.once('exit', (code) => resolve(code)))
  for await (const chunk of source) {
    if (!proc.write(chunk as Buffer)) {
      // The process may exit (a bad path) instead of draining.
      if (await Promise.race([new Promise<'drain'>((resolve) => proc.once('drain', () => resolve('drain'))), exited.then(() => 'exit' as const)]) === 'exit') break
    }
  }
  proc.end()
  const code = await exited
  if (code !== 0) fail({ stdout: Buffer.alloc(0), stderr: Buffer.concat(stderr), exitCode: code, durationMs: 0, timedOut: false, truncated: false }, path, 'is a directory')
}

/** The files of a sandbox that runs processes. */
export function shellFiles (sandbox: Sandbox): CapsuleFiles {
  return {
    read: async (path, maxBytes) => await readFile(sandbox, path, maxBytes),
    write: async (path, data) => { await writeFile(sandbox, path, data) },
    readStream: async (path) => await readFileStream(sandbox, path),
    writeStream: async (path, source) => { await writeFileStream(sandbox, path, source) },
    list: async (path, depth) => await listDir(sandbox, path, depth),
    mkdir: async (path) => await makeDir(sandbox, path),
    remove: async (path) => { await removePath(sandbox, path) },
  }
}
