/**
 * One process of a wasi-driver capsule: the host's node running the WASI runner (../wasi-runner.ts) on one module,
 * in a process group of its own so a timeout or a kill takes all of it.
 *
 * What confines it: the module sees only its preopened directory (Node's WASI resolves every path under it) and has
 * no sockets (WASI preview1 in Node opens none). The node around it runs under Node's permission model: it may read
 * and write only the capsule's directory, and may not start processes, workers or addons. The module's bytes come on
 * fd 3 (Colony read them through the capsule's own path rules) and its environment in argv, never in node's own
 * environment, so nothing of the capsule decides how the host's node starts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { constants as osConstants } from 'node:os'
import { ColonyError } from '../../errors.js'
import { ChildCapsuleProcess } from '../child-process.js'
import type { ExecResult } from '../driver.js'
import { WASI_RUNNER } from '../wasi-runner.js'

export interface ModuleLaunch {
  /** The host directory the module sees as `/`, as node can open it (a path, or `/proc/self/fd/4` for `dirFd`). */
  preopen: string
  /** An open directory handed to the child as fd 4, when `preopen` names it. */
  dirFd?: number
  /** The capsule's directory: all the runner's node may touch. */
  root: string
  fn: string
  argv0: string
  args: string[]
  env: Record<string, string>
  stdin: 'pipe' | 'ignore'
  /** util-linux's setpriv, when the host has it. */
  setpriv?: string
}

export function signalExitCode (signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : 128 + (osConstants.signals[signal] ?? 0)
}

export function launch (m: ModuleLaunch): ChildProcess {
  // With setpriv, the runner is killed when Colony dies (even kill -9), as the namespace driver's bwrap is.
  const [file, ...prefix] = m.setpriv !== undefined ? [m.setpriv, '--pdeathsig', 'SIGKILL', '--', process.execPath] : [process.execPath]
  const child = spawn(file, [
    ...prefix,
    '--no-warnings',
    '--experimental-permission', '--allow-wasi', `--allow-fs-read=${m.root}`, `--allow-fs-write=${m.root}`,
    '-e', WASI_RUNNER, m.preopen, 'fd:3', m.fn, JSON.stringify(m.env), m.argv0, ...m.args,
  ], {
    cwd: m.root,
    env: {},
    detached: true,
    stdio: [m.stdin, 'pipe', 'pipe', 'pipe', ...(m.dirFd !== undefined ? [m.dirFd] : [])],
  })
  const module = child.stdio[3] as NodeJS.WritableStream & { on: (e: 'error', f: () => void) => void }
  module.on('error', () => { /* the runner died before reading the module: its exit says why */ })
  return child
}

/**
 * Hands the module to a launched runner (it waits for it on fd 3). The node starts while Colony finds the module;
 * `undefined` (nothing found) makes the runner say `command not found` and exit 127, as a shell would.
 */
export function feed (child: ChildProcess, bytes: Buffer | undefined): void {
  const module = child.stdio[3] as NodeJS.WritableStream
  module.end(bytes ?? Buffer.alloc(0))
}

/** Sends a signal to the child's whole process group. */
export function signalGroup (child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try { process.kill(-child.pid, signal) } catch { /* gone */ }
}

/** Runs to completion, output cut at `maxOutputBytes` each; a timeout kills it (exit code 124). */
export function collect (child: ChildProcess, o: { timeoutMs: number, maxOutputBytes: number, stdin?: Buffer }): Promise<ExecResult> {
  const started = performance.now()
  const max = Math.max(0, o.maxOutputBytes)
  return new Promise<ExecResult>((resolve, reject) => {
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], stdoutBytes: 0, stderrBytes: 0 }
    let truncated = false
    let timedOut = false
    const take = (which: 'stdout' | 'stderr') => (chunk: Buffer): void => {
      const room = max - (which === 'stdout' ? out.stdoutBytes : out.stderrBytes)
      if (room <= 0) { truncated = true; return }
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk
      if (part.length < chunk.length) truncated = true
      out[which].push(part)
      if (which === 'stdout') out.stdoutBytes += part.length
      else out.stderrBytes += part.length
    }
    child.stdout!.on('data', take('stdout'))
    child.stderr!.on('data', take('stderr'))
    if (o.stdin !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => { /* the module did not read all of it */ })
      child.stdin.end(o.stdin)
    }
    const timer = setTimeout(() => { timedOut = true; signalGroup(child, 'SIGKILL') }, Math.max(1, o.timeoutMs))
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(new ColonyError('capsule_exec_failed', err.message, { cause: err }))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        stdout: Buffer.concat(out.stdout),
        stderr: Buffer.concat(out.stderr),
        exitCode: timedOut ? 124 : code ?? signalExitCode(signal),
        durationMs: Math.round(performance.now() - started),
        timedOut,
        truncated,
      })
    })
  })
}

/** A streaming process (exec/stream, background processes, the streaming files of other drivers). */
export class WasiProcess extends ChildCapsuleProcess {
  constructor (child: ChildProcess) {
    super(child)
    child.once('error', (err) => {
      this.emit('stderr', Buffer.from(`${err.message}\n`))
      this.emit('exit', 127, null)
    })
    child.once('close', (code, signal) => { this.emit('exit', code ?? signalExitCode(signal), signal) })
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void { signalGroup(this.child, signal) }
}
