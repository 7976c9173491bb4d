/**
 * Processes in a running capsule: exec (run to completion), spawn (streaming) and pty.
 *
 * Each one first joins a fresh cgroup leaf of the capsule, then sets no-new-privs and enters the capsule's user,
 * mount, pid, network, uts, ipc and cgroup namespaces as the capsule user (uid 1000 there, no capability left after
 * the exec: it is not uid 0 in that namespace, and no-new-privs blocks setuid/file caps), forks (for the pid
 * namespace), changes to the capsule's root and the working directory and execs argv (no shell parsing). Because
 * the cgroup is joined before anything of the capsule runs, no process can start outside it.
 *
 * Two ways to do that, the same steps in the same order:
 *  - `capsule-enter` (enter.ts, capsule-enter.c), when the build compiled it: exec goes through its server (Colony
 *    forks nothing per exec); spawn and pty run `capsule-enter run ...` (they need a host-side handle to stream);
 *  - otherwise a chain of tools: `sh` writes its own pid into the leaf, then execs `setpriv --no-new-privs nsenter
 *    -t <capsule pid 1> -U -m -p -n -u -i -C --preserve-credentials -r -w`, and inside `/bin/sh -c 'cd -- "$0" &&
 *    exec "$@"'` changes to the working directory and execs argv.
 *
 * A process tree is its leaf: when the main process exits, whatever it left behind in the leaf is killed (a
 * background job must be started with spawn and kept alive by its own main process); a timeout or kill('SIGKILL')
 * kills the whole leaf.
 */
import { spawn as spawnChild } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { constants as osConstants } from 'node:os'
import { ColonyError } from '../../errors.js'
import { ChildCapsuleProcess } from '../child-process.js'
import type { CapsuleProcess, CapsulePty, ExecRequest, ExecResult, ProcessRequest } from '../driver.js'
import type { HostTools } from './prereqs.js'
import { JOIN_THEN_EXEC } from './init.js'
import type { Handler } from './enter.js'
import { CAPSULE_HOME } from './rootfs.js'

/** What a process needs of its sandbox. */
export interface CapsuleEntry {
  readonly tools: HostTools
  readonly nsPid: number
  readonly baseEnv: Record<string, string>
  /** The `capsule-enter` binary, when built (else the chain of tools). */
  readonly enterBinary: string | undefined
  /**
   * A handler of the exec server that joined a fresh leaf (one prepared ahead when there is one), or undefined
   * without a server (exec then spawns like spawn does).
   */
  execHandler (): Promise<{ leaf: string, procsFiles: string[], handler: Handler } | undefined>
  /** A new, empty leaf (created synchronously) and the cgroup.procs files its process joins. */
  newLeaf (): { leaf: string, procsFiles: string[] }
  /** Kills every process of the leaf (deferred while the capsule is paused). */
  killLeaf (leaf: string): Promise<void>
  /** Sends a signal to the processes of the leaf except `except` (the host-side nsenter that waits for them). */
  signalLeaf (leaf: string, signal: NodeJS.Signals, except: number): Promise<void>
  /** The main process exited: kill what is left in the leaf (but `exiting`), remove it, look for an OOM kill. */
  releaseLeaf (leaf: string, exiting?: number): Promise<void>
}

const CHDIR_THEN_EXEC = 'cd -- "$0" || exit 125; exec "$@"'

export function signalExitCode (signal: string | null | number | undefined): number {
  if (signal === null || signal === undefined || signal === 0) return 0
  const n = typeof signal === 'number' ? signal : osConstants.signals[signal as NodeJS.Signals]
  return 128 + (n ?? 0)
}

function checkEnv (env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) {
    if (k.length === 0 || k.includes('=') || k.includes('\0') || typeof v !== 'string' || v.includes('\0')) {
      throw new ColonyError('invalid_body', `invalid environment variable: ${k}`)
    }
  }
}

export function processEnv (entry: CapsuleEntry, req: ProcessRequest, extra: Record<string, string> = {}): Record<string, string> {
  const env = { ...entry.baseEnv, ...extra, ...(req.env ?? {}) }
  checkEnv(env)
  return env
}

/** The working directory of a valid request (throws `invalid_body` on a bad one). */
function checkRequest (req: ProcessRequest): string {
  if (typeof req.cmd !== 'string' || req.cmd.length === 0 || req.cmd.includes('\0')) throw new ColonyError('invalid_body', 'cmd is required')
  if (!Array.isArray(req.args) || req.args.some((a) => typeof a !== 'string' || a.includes('\0'))) throw new ColonyError('invalid_body', 'args must be strings')
  const cwd = req.cwd ?? CAPSULE_HOME
  if (typeof cwd !== 'string' || cwd.length === 0 || cwd.includes('\0')) throw new ColonyError('invalid_body', 'cwd is invalid')
  return cwd
}

/** The program and argv that join the leaf and enter the capsule. */
export function entryCommand (entry: CapsuleEntry, procsFiles: string[], req: ProcessRequest): { file: string, argv: string[] } {
  const cwd = checkRequest(req)
  if (entry.enterBinary !== undefined) {
    return { file: entry.enterBinary, argv: ['run', String(procsFiles.length), ...procsFiles, String(entry.nsPid), cwd, req.cmd, ...req.args] }
  }
  const t = entry.tools
  return {
    file: t.sh,
    argv: [
      '-c', JOIN_THEN_EXEC, 'capsule-exec', String(procsFiles.length), ...procsFiles,
      t.setpriv, '--no-new-privs', '--',
      t.nsenter, '-t', String(entry.nsPid), '-U', '-m', '-p', '-n', '-u', '-i', '-C', '--preserve-credentials', '-r', '-w', '--',
      '/bin/sh', '-c', CHDIR_THEN_EXEC, cwd, req.cmd, ...req.args,
    ],
  }
}

/** A fresh leaf and the command that joins it and enters the capsule (the leaf is released if the request is bad). */
function enter (entry: CapsuleEntry, req: ProcessRequest): { leaf: string, procsFiles: string[], file: string, argv: string[] } {
  const { leaf, procsFiles } = entry.newLeaf()
  try {
    return { leaf, procsFiles, ...entryCommand(entry, procsFiles, req) }
  } catch (err) {
    void entry.releaseLeaf(leaf).catch(() => {})
    throw err
  }
}

/** Runs a command to completion. */
export async function execIn (entry: CapsuleEntry, req: ExecRequest): Promise<ExecResult> {
  const env = processEnv(entry, req)
  const cwd = checkRequest(req)
  const prepared = await entry.execHandler()
  const { leaf, procsFiles } = prepared ?? entry.newLeaf()
  const started = performance.now()
  const max = Math.max(0, req.maxOutputBytes)
  return await new Promise<ExecResult>((resolve, reject) => {
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], stdoutBytes: 0, stderrBytes: 0 }
    let truncated = false
    let timedOut = false
    const collect = (which: 'stdout' | 'stderr') => (chunk: Buffer): void => {
      const have = which === 'stdout' ? out.stdoutBytes : out.stderrBytes
      const room = max - have
      if (room <= 0) { truncated = true; return }
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk
      if (part.length < chunk.length) truncated = true
      out[which].push(part)
      if (which === 'stdout') out.stdoutBytes += part.length
      else out.stderrBytes += part.length
    }
    const timer = setTimeout(() => {
      timedOut = true
      void entry.killLeaf(leaf).catch(() => {})
    }, Math.max(1, req.timeoutMs))
    let exit: { code: number | null, signal: NodeJS.Signals | null } | undefined
    let released: Promise<void> | undefined
    const onExit = (code: number | null, signal: NodeJS.Signals | null, handlerPid?: number): void => {
      exit = { code, signal }
      released = entry.releaseLeaf(leaf, handlerPid)
    }
    const onClose = (): void => {
      clearTimeout(timer)
      if (exit === undefined) return
      const result = exit
      void (released ?? Promise.resolve()).catch(() => {}).then(() => {
        resolve({
          stdout: Buffer.concat(out.stdout),
          stderr: Buffer.concat(out.stderr),
          exitCode: timedOut ? 124 : result.code ?? signalExitCode(result.signal),
          durationMs: Math.round(performance.now() - started),
          timedOut,
          truncated,
        })
      })
    }
    const spawnIt = (): void => {
      const { file, argv } = entryCommand(entry, procsFiles, req)
      const child = spawnChild(file, argv, { env, detached: true, stdio: [req.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
      child.stdout!.on('data', collect('stdout'))
      child.stderr!.on('data', collect('stderr'))
      if (req.stdin !== undefined && child.stdin !== null) {
        child.stdin.on('error', () => { /* the process did not read all of it */ })
        child.stdin.end(req.stdin)
      }
      child.once('error', (err) => {
        clearTimeout(timer)
        void entry.releaseLeaf(leaf).catch(() => {})
        reject(new ColonyError('capsule_exec_failed', err.message, { cause: err }))
      })
      child.once('exit', (code, signal) => { onExit(code, signal) })
      child.once('close', onClose)
    }
    if (prepared === undefined) { spawnIt(); return }
    prepared.handler.run({ nsPid: entry.nsPid, cwd, argv: [req.cmd, ...req.args], env, ...(req.stdin !== undefined && { stdin: req.stdin }) }, {
      stdout: collect('stdout'),
      stderr: collect('stderr'),
      exit: onExit,
      close: onClose,
      // Nothing ran (the server or the handler died): this one spawns (unless its time is up already).
      unreachable: () => {
        if (!timedOut) { spawnIt(); return }
        onExit(null, 'SIGKILL')
        onClose()
      },
    })
  })
}

class NsProcess extends ChildCapsuleProcess {
  private readonly entry: CapsuleEntry
  private readonly leaf: string

  constructor (entry: CapsuleEntry, leaf: string, child: ReturnType<typeof spawnChild>) {
    super(child)
    this.entry = entry
    this.leaf = leaf
    let exit: { code: number, signal: string | null } | undefined
    let released: Promise<void> = Promise.resolve()
    child.once('error', (err) => {
      exit ??= { code: 127, signal: null }
      this.emit('stderr', Buffer.from(`${err.message}\n`))
      void entry.releaseLeaf(leaf).catch(() => {}).then(() => { this.emit('exit', 127, null) })
    })
    child.once('exit', (code, signal) => {
      exit = { code: code ?? signalExitCode(signal), signal }
      released = entry.releaseLeaf(leaf).catch(() => {})
    })
    child.once('close', () => {
      if (exit === undefined) return
      const e = exit
      void released.then(() => { this.emit('exit', e.code, e.signal) })
    })
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (signal === 'SIGKILL') void this.entry.killLeaf(this.leaf).catch(() => {})
    else void this.entry.signalLeaf(this.leaf, signal, this.pid).catch(() => {})
  }
}

/** Starts a streaming process. */
export function spawnIn (entry: CapsuleEntry, req: ProcessRequest): CapsuleProcess {
  const env = processEnv(entry, req)
  const { leaf, file, argv } = enter(entry, req)
  const child = spawnChild(file, argv, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
  return new NsProcess(entry, leaf, child)
}

/** The part of @lydell/node-pty the driver uses. */
export interface PtyModule {
  spawn (file: string, args: string[], options: {
    name?: string, cols?: number, rows?: number, cwd?: string, env?: Record<string, string>, encoding?: string | null
  }): PtyHandle
}
interface PtyHandle {
  readonly pid: number
  onData (listener: (data: Buffer | string) => void): unknown
  onExit (listener: (e: { exitCode: number, signal?: number }) => void): unknown
  write (data: Buffer | string): void
  resize (cols: number, rows: number): void
  kill (signal?: string): void
}

class NsPty extends EventEmitter<{ data: [Buffer], exit: [code: number, signal: number | undefined] }> implements CapsulePty {
  readonly pid: number
  private readonly handle: PtyHandle
  private readonly entry: CapsuleEntry
  private readonly leaf: string
  private exited = false

  constructor (entry: CapsuleEntry, leaf: string, handle: PtyHandle) {
    super()
    this.entry = entry
    this.leaf = leaf
    this.handle = handle
    this.pid = handle.pid
    handle.onData((data) => { this.emit('data', typeof data === 'string' ? Buffer.from(data) : data) })
    handle.onExit(({ exitCode, signal }) => {
      this.exited = true
      const code = signal !== undefined && signal !== 0 ? signalExitCode(signal) : exitCode
      void entry.releaseLeaf(leaf).catch(() => {}).then(() => { this.emit('exit', code, signal === 0 ? undefined : signal) })
    })
  }

  write (data: Buffer | string): void { if (!this.exited) this.handle.write(data) }
  resize (cols: number, rows: number): void {
    if (!this.exited && Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0) this.handle.resize(cols, rows)
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (signal === 'SIGKILL') void this.entry.killLeaf(this.leaf).catch(() => {})
    else void this.entry.signalLeaf(this.leaf, signal, this.pid).catch(() => {})
  }
}

/** Starts a process on a pseudo-terminal (its controlling terminal; it is its own session). */
export function ptyIn (entry: CapsuleEntry, pty: PtyModule, req: ProcessRequest & { cols: number, rows: number }): CapsulePty {
  const env = processEnv(entry, req, { TERM: 'xterm-256color' })
  const { leaf, file, argv } = enter(entry, req)
  const handle = pty.spawn(file, argv, {
    name: env.TERM ?? 'xterm-256color', cols: req.cols > 0 ? req.cols : 80, rows: req.rows > 0 ? req.rows : 24, cwd: '/', env, encoding: null,
  })
  return new NsPty(entry, leaf, handle)
}
