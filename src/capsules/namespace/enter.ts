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

/** Where a handler goes first (sent when it is prepared). */
export interface HandlerLeaf {
  procsFiles: string[]
}

/** What one exec asks the server. */
export interface ServerExec {
  nsPid: number
  cwd: string
  argv: string[]
  env: Record<string, string>
  stdin?: Buffer
}

/** Frames of the answer. */
export interface ServerExecEvents {
  stdout (chunk: Buffer): void
  stderr (chunk: Buffer): void
  /** `handlerPid`: the handler, still in the leaf for a moment (it exits right after this frame). */
  exit (code: number | null, signal: NodeJS.Signals | null, handlerPid?: number): void
  /** The connection ended (after `exit`, or without it: the handler was killed with the leaf). */
  close (): void
  /** The handler could not be reached or died before it started the command: nothing ran (the caller falls back). */
  unreachable (err: Error): void
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>()
for (const [name, n] of Object.entries(osConstants.signals)) SIGNAL_NAMES.set(n, name as NodeJS.Signals)

/** Hands every whole frame (u8 type, u32 length, data) of `pending` to `onFrame`; returns what is left of a partial one. */
function takeFrames (pending: Buffer, onFrame: (type: number | undefined, data: Buffer) => void): Buffer {
  let rest = pending
  while (rest.length >= 5) {
    const len = rest.readUInt32LE(1)
    if (rest.length < 5 + len) break
    const type = rest[0]
    const data = rest.subarray(5, 5 + len)
    rest = rest.subarray(5 + len)
    onFrame(type, data)
  }
  return rest
}

function message (strings: string[], tail?: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(strings.map((s) => `${s}\0`).join('')), tail ?? Buffer.alloc(0)])
  const head = Buffer.alloc(4)
  head.writeUInt32LE(body.length)
  return Buffer.concat([head, body])
}

export function encodeLeaf (leaf: HandlerLeaf): Buffer {
  return message([String(leaf.procsFiles.length), ...leaf.procsFiles])
}

export function encodeExec (req: ServerExec): Buffer {
  const env = Object.entries(req.env).map(([k, v]) => `${k}=${v}`)
  return message([String(req.nsPid), req.cwd, String(req.argv.length), ...req.argv, String(env.length), ...env, req.stdin !== undefined ? '1' : '0'], req.stdin)
}

/**
 * One handler of the server: joins its leaf as soon as it is prepared, runs one command when told. A handler
 * prepared ahead of an exec (a capsule keeps one ready) takes the cgroup join off the exec's path.
 */
export class Handler {
  private readonly socket: Socket
  private on: ServerExecEvents | undefined
  private pending: Buffer = Buffer.alloc(0)
  private exited = false
  private closed = false
  private failure: Error | undefined
  private started = false
  private readonly deathWatchers: Array<() => void> = []

  constructor (socketPath: string, leaf: HandlerLeaf) {
    this.socket = createConnection(socketPath)
    this.socket.write(encodeLeaf(leaf))
    this.socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
      this.flush()
    })
    this.socket.on('error', (err: Error) => { this.failure ??= err })
    this.socket.on('close', () => {
      this.closed = true
      if (this.on === undefined) {
        for (const fn of this.deathWatchers.splice(0)) fn()
        return
      }
      this.finish()
    })
  }

  /** Whether it can still run a command (its connection is open). */
  get usable (): boolean { return !this.closed && this.on === undefined }

  /** Called when a handler that was never used ends (killed with the capsule, or the server went away). */
  onDeath (fn: () => void): void {
    if (this.closed) fn()
    else this.deathWatchers.push(fn)
  }

  /** Runs the command (once). */
  run (req: ServerExec, on: ServerExecEvents): void {
    this.on = on
    if (this.closed) { this.finish(); return }
    this.socket.end(encodeExec(req))
  }

  /** Lets an unused handler go (it exits when its connection ends). */
  discard (): void {
    this.socket.destroy()
  }

  private flush (): void {
    const on = this.on
    if (on === undefined) return
    this.pending = takeFrames(this.pending, (type, data) => {
      if (type === 4) this.started = true
      else if (type === 1) on.stdout(data)
      else if (type === 2) on.stderr(data)
      else if (type === 3 && !this.exited) {
        this.exited = true
        const [kind, n, , pid] = data.toString().split(' ')
        const handlerPid = pid !== undefined ? Number(pid) : undefined
        if (kind === 'signal') on.exit(null, SIGNAL_NAMES.get(Number(n)) ?? 'SIGKILL', handlerPid)
        else on.exit(Number(n), null, handlerPid)
      }
    })
  }

  private finish (): void {
    const on = this.on as ServerExecEvents
    this.flush()
    if (!this.started && !this.exited) {
      // Nothing ran: the server was not there, or the handler died before the command (with the capsule).
      on.unreachable(this.failure ?? new Error('the exec handler went away'))
      return
    }
    if (!this.exited) {
      this.exited = true
      // The handler died without an exit frame: it was killed with the leaf.
      on.exit(null, 'SIGKILL')
    }
    on.close()
  }
}

/** Frames of an init's answer (see `ExecServer.startInit`). */
export interface ServerInitEvents {
  stdout (chunk: Buffer): void
  stderr (chunk: Buffer): void
  /** What bwrap wrote to its --json-status-fd. */
  status (chunk: Buffer): void
  exit (code: number | null, signal: NodeJS.Signals | null): void
  /** The connection ended (after `exit`, or without it: the handler was killed, and bwrap with it). */
  close (): void
  /** Nothing was started (no server, or it went away first): the caller falls back to a spawn. */
  unreachable (err: Error): void
}

/** A capsule's init started by the server: `kill()` ends Colony's side of the connection, and the handler kills the
 * init, then answers its exit. */
export class InitRequest {
  private readonly socket: Socket
  private pending: Buffer = Buffer.alloc(0)
  private started = false
  private exited = false
  private failure: Error | undefined

  constructor (socketPath: string, argv: string[], on: ServerInitEvents) {
    this.socket = createConnection(socketPath)
    this.socket.write(message(['init', ...argv]))
    this.socket.on('data', (chunk: Buffer) => {
      this.pending = takeFrames(this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]), (type, data) => {
        if (type === 4) this.started = true
        else if (type === 1) on.stdout(data)
        else if (type === 2) on.stderr(data)
        else if (type === 5) on.status(data)
        else if (type === 3 && !this.exited) {
          this.exited = true
          const [kind, n] = data.toString().split(' ')
          if (kind === 'signal') on.exit(null, SIGNAL_NAMES.get(Number(n)) ?? 'SIGKILL')
          else on.exit(Number(n), null)
        }
      })
    })
    this.socket.on('error', (err: Error) => { this.failure ??= err })
    this.socket.on('close', () => {
      if (!this.started) { on.unreachable(this.failure ?? new Error('the exec server went away')); return }
      if (!this.exited) { this.exited = true; on.exit(null, 'SIGKILL') }
      on.close()
    })
  }

  kill (): void {
    this.socket.end()
  }
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
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('ready\n')) resolve(true)
      })
    })
    child.stdout?.destroy()
    if (!ready) {
      try { child.kill('SIGKILL') } catch { /* gone */ }
      return undefined
    }
    // It must not keep Colony (or a test run) alive; it dies with this process.
    child.unref()
    return new ExecServer(socketPath, child)
  }

  /** Starts a capsule's init: `argv` as `capsule-enter init`'s. */
  startInit (argv: string[], on: ServerInitEvents): InitRequest {
    return new InitRequest(this.socketPath, argv, on)
  }

  /** A handler that joins `leaf` now and runs a command later. */
  prepare (leaf: HandlerLeaf): Handler {
    return new Handler(this.socketPath, leaf)
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
