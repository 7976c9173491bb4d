/**
 * `capsule-enter` (capsule-enter.c, compiled by `npm run build` into dist/native when gcc is there): one program
 * instead of the `sh` → `setpriv` → `nsenter` → `sh` chain, and its exec server.
 *
 * Why a server: Node forks its whole process for every spawn, and the page tables of a large Colony make that
 * cost milliseconds per exec. The server is a small process forked once per Colony process; for each exec Colony
 * opens a unix connection, and the server forks a handler that enters the capsule exactly as `capsule-enter run`
 * does (cgroup leaf first, no-new-privs, namespaces, a fork for the pid namespace, chroot, cwd, exec) and relays
 * the command's output and exit status as frames. The socket is 0600 in a 0700 directory of the host's temp dir,
 * which no capsule sees (the mask hides /tmp), and it is a path, not an abstract socket (a capsule sharing the
 * host's network namespace could reach those). The server dies with this process (PDEATHSIG).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants as fsConstants, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, type Socket } from 'node:net'
import { constants as osConstants, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the build puts the binary (dist/native, beside dist/src). */
const BINARY = fileURLToPath(new URL('../../../native/capsule-enter', import.meta.url))

/** The binary when it was built and is executable, else undefined (the driver then uses the tool chain). */
export function enterBinary (): string | undefined {
  try {
    accessSync(BINARY, fsConstants.X_OK)
    return BINARY
  } catch {
    return undefined
  }
}

/** What one exec asks the server. */
export interface ServerExec {
  procsFiles: string[]
  nsPid: number
  cwd: string
  argv: string[]
  env: Record<string, string>
  stdin?: Buffer
  /** Where the handler goes once the command exited (a cgroup.procs file of the capsule outside the leaf). */
  doneProcsFile?: string
}

/** Frames of the answer. */
export interface ServerExecEvents {
  stdout (chunk: Buffer): void
  stderr (chunk: Buffer): void
  exit (code: number | null, signal: NodeJS.Signals | null): void
  /** The connection ended (after `exit`, or without it: the handler was killed with the leaf). */
  close (): void
  /** The server could not be reached: nothing ran (the caller falls back to spawning the tool chain). */
  unreachable (err: Error): void
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>()
for (const [name, n] of Object.entries(osConstants.signals)) SIGNAL_NAMES.set(n, name as NodeJS.Signals)

export function encodeRequest (req: ServerExec): Buffer {
  const env = Object.entries(req.env).map(([k, v]) => `${k}=${v}`)
  const strings = [String(req.procsFiles.length), ...req.procsFiles, String(req.nsPid), req.cwd, String(req.argv.length), ...req.argv,
    String(env.length), ...env, req.stdin !== undefined ? '1' : '0', req.doneProcsFile ?? '']
  const body = Buffer.concat([Buffer.from(strings.map((s) => `${s}\0`).join('')), req.stdin ?? Buffer.alloc(0)])
  const head = Buffer.alloc(4)
  head.writeUInt32LE(body.length)
  return Buffer.concat([head, body])
}

export class ExecServer {
  readonly socketPath: string
  private readonly child: ChildProcess
  private dead = false

  private constructor (socketPath: string, child: ChildProcess) {
    this.socketPath = socketPath
    this.child = child
    child.once('exit', () => { this.dead = true })
  }

  onDeath (fn: () => void): void {
    if (this.dead) fn()
    else this.child.once('exit', fn)
  }

  get alive (): boolean { return !this.dead }

  /** Starts a server; resolves once it listens, or undefined when it cannot start. */
  static async start (binary: string): Promise<ExecServer | undefined> {
    const dir = mkdtempSync(join(tmpdir(), 'colony-enter-'))
    process.once('exit', () => { rmSync(dir, { recursive: true, force: true }) })
    const socketPath = join(dir, 'sock')
    const child = spawn(binary, ['serve', socketPath, String(process.pid)], { stdio: ['ignore', 'pipe', 'ignore'], detached: true })
    const ready = await new Promise<boolean>((resolve) => {
      let out = ''
      child.once('error', () => { resolve(false) })
      child.once('exit', () => { resolve(false) })
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('ready\n')) resolve(true)
      })
    })
    child.stdout!.destroy()
    if (!ready) {
      try { child.kill('SIGKILL') } catch { /* gone */ }
      return undefined
    }
    // It must not keep Colony (or a test run) alive; it dies with this process.
    child.unref()
    return new ExecServer(socketPath, child)
  }

  /** Runs one command; events as ServerExecEvents. */
  exec (req: ServerExec, on: ServerExecEvents): void {
    const socket: Socket = createConnection(this.socketPath)
    let answered = false
    let pending: Buffer = Buffer.alloc(0)
    let exited = false
    let unreachable = false
    socket.on('connect', () => { socket.end(encodeRequest(req)) })
    socket.on('data', (chunk: Buffer) => {
      answered = true
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 5) {
        const len = pending.readUInt32LE(1)
        if (pending.length < 5 + len) break
        const type = pending[0]
        const data = pending.subarray(5, 5 + len)
        pending = pending.subarray(5 + len)
        if (type === 1) on.stdout(data)
        else if (type === 2) on.stderr(data)
        else if (type === 3 && !exited) {
          exited = true
          const [kind, n] = data.toString().split(' ')
          if (kind === 'signal') on.exit(null, SIGNAL_NAMES.get(Number(n)) ?? 'SIGKILL')
          else on.exit(Number(n), null)
        }
      }
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) {
        unreachable = true
        on.unreachable(err)
      }
    })
    socket.on('close', () => {
      if (unreachable) return
      if (!exited) {
        exited = true
        // The handler died without an exit frame: it was killed with the leaf.
        on.exit(null, 'SIGKILL')
      }
      on.close()
    })
  }
}

let shared: Promise<ExecServer | undefined> | undefined

/**
 * This process's server, started at the first call (undefined without the binary, or when it could not start).
 * A server that died is started again by the next call; the exec that found it dead falls back.
 */
export function execServer (): Promise<ExecServer | undefined> {
  if (shared === undefined) {
    const binary = enterBinary()
    shared = binary === undefined ? Promise.resolve(undefined) : ExecServer.start(binary)
    const started = shared
    void started.then((server) => {
      server?.onDeath(() => { if (shared === started) shared = undefined })
    })
  }
  return shared
}
