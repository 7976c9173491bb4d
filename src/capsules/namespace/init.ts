/**
 * The capsule's init: one long-lived process tree per running capsule that owns its namespaces.
 *
 *   sh (joins the capsule's cgroups: its `init` leaf)
 *   └ exec unshare -m --propagation private        a mount namespace of its own: nothing it mounts reaches the host
 *     └ exec sh: mount -t overlay … merged          the capsule's root filesystem, visible only in that namespace
 *       └ exec bwrap --bind merged / --unshare-all --uid 1000 --cap-drop ALL --die-with-parent …
 *         └ pid 1 of the capsule (bwrap's reaper)  ← exec/spawn/pty nsenter into its namespaces
 *           └ sh: creates /home/user, /tmp… (as the capsule user), prints `ready`, execs `sleep infinity`
 *
 * With `capsule-enter` built, one `capsule-enter init` does the first three steps (join, private mount namespace,
 * mask and overlays) without a shell or mount(8) in between, then execs bwrap the same way; and it runs as a request
 * to Colony's exec server (see enter.ts), so creating a capsule forks nothing in Colony (a fork of a large Colony
 * costs milliseconds). A spawn from Colony remains the way without the server (or when it went away).
 *
 * When Colony dies (even kill -9), bwrap's --die-with-parent kills the capsule's pid 1, the kernel kills everything
 * in its pid namespace, and the private mount namespace (with the overlay) goes away with its last process. Nothing
 * stays mounted on the host. bwrap's parent is Colony after a spawn (every step is an exec); through the server it
 * is the server's handler, which kills bwrap when Colony exits (it watches a pidfd of Colony).
 */
import { spawn } from 'node:child_process'
import { ColonyError } from '../../errors.js'
import type { ExecServer } from './enter.js'
import type { HostTools } from './prereqs.js'
import { CAPSULE_HOME, CAPSULE_UID } from './rootfs.js'

/** `sh -c JOIN_THEN_EXEC name N file1..fileN argv...`: writes its pid into N cgroup.procs files, then execs argv. */
export const JOIN_THEN_EXEC =
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 90; shift; n=$((n-1)); done; exec "$@"'

/**
 * `sh -c MOUNT_THEN_EXEC name maskSrc maskMount N (mountpoint options)×N argv...`: the mask onto a tmpfs, the overlays,
 * then exec argv (all inside the private mount namespace).
 */
const MOUNT_THEN_EXEC = [
  'mount -t tmpfs -o mode=755,size=4m capsule-mask "$2" || exit 91',
  'cp -a "$1/." "$2/" || exit 91',
  'n=$3; shift 3',
  'while [ "$n" -gt 0 ]; do mount -t overlay overlay -o "$2" "$1" || exit 91; shift 2; n=$((n-1)); done',
  'exec "$@"',
].join('\n')

/** Runs inside the sandbox as the capsule user: its own empty directories, kept in the upper layer. */
const INIT_SCRIPT = [
  'umask 022',
  // One mkdir for all (each process costs ~1 ms of a capsule's start); -p leaves existing ones as they are.
  `mkdir -p -m 755 /root /home ${CAPSULE_HOME} /run /run/lock /var /var/lib /var/log /var/cache /mnt /opt /srv /media 2>/dev/null`,
  '[ -d /tmp ] && [ -d /var/tmp ] || mkdir -p -m 1777 /tmp /var/tmp',
  // Both links in one ln (`ln -s T1 T2 DIR`) when both are missing (a new capsule); else each one that is.
  'if [ ! -e /var/run ] && [ ! -L /var/run ] && [ ! -e /var/lock ] && [ ! -L /var/lock ]; then ln -s /run /run/lock /var/',
  'else',
  '  [ -e /var/run ] || [ -L /var/run ] || ln -s /run /var/run',
  '  [ -e /var/lock ] || [ -L /var/lock ] || ln -s /run/lock /var/lock',
  'fi',
  'echo ready',
  'exec sleep infinity',
].join('\n')

export { DEFAULT_PATH } from '../layout.js'
import { DEFAULT_PATH } from '../layout.js'

export interface InitOptions {
  tools: HostTools
  merged: string
  mask: string
  maskMount: string
  /** `[mountpoint, options]` of each overlay, the capsule's root last. */
  overlays: Array<[string, string]>
  /** cgroup.procs files of the init leaf. */
  procsFiles: string[]
  network: boolean
  hostname: string
  startTimeoutMs: number
  /** Host files or directories shown read-only in the capsule, `[host path, capsule path]` (the component runner). */
  readOnly?: Array<[string, string]>
  /** `capsule-enter` when built (see enter.ts), else the chain of sh, unshare and mount. */
  enterBinary?: string
  /** With `enterBinary`: its exec server, which then starts the init (`capsule-enter init` as a request). */
  server?: ExecServer
}

export interface InitProcess {
  /** Host pid of the capsule's pid 1: what exec/spawn/pty enter. */
  nsPid: number
  /** Resolves when the init tree has exited (or, started by the exec server, its answer ended). */
  exited: Promise<void>
  /** Called once when the init's first process exits (at once if it has). */
  onExit (fn: () => void): void
  /** SIGKILL to the init (bwrap's --die-with-parent takes the capsule's pid 1 with it). */
  kill (): void
}

export function bwrapArgs (opts: InitOptions): string[] {
  return [
    '--bind', opts.merged, '/',
    '--proc', '/proc',
    '--dev', '/dev',
    '--tmpfs', '/dev/shm',
    '--unshare-all', '--unshare-user',
    ...(opts.network ? ['--share-net'] : []),
    '--uid', String(CAPSULE_UID), '--gid', String(CAPSULE_UID),
    '--hostname', opts.hostname,
    '--die-with-parent', '--new-session',
    '--cap-drop', 'ALL',
    '--chdir', '/',
    '--clearenv', '--setenv', 'PATH', DEFAULT_PATH, '--setenv', 'HOME', CAPSULE_HOME,
    ...(opts.readOnly ?? []).flatMap(([from, to]) => ['--ro-bind', from, to]),
    '--json-status-fd', '3',
  ]
}

/** Follows an init's output until it is up (`ready` printed and bwrap's child-pid known) or it failed. */
class StartWatch {
  /** The capsule's pid 1, or undefined when nothing was started (the server was not there: fall back). */
  readonly done: Promise<number | undefined>
  private stdoutText = ''
  private stderrText = ''
  private statusText = ''
  private nsPid: number | undefined
  private ready = false
  private settled = false
  private readonly timer: NodeJS.Timeout
  private settle!: (nsPid: number | undefined, err?: Error) => void

  constructor (timeoutMs: number, kill: () => void) {
    this.done = new Promise<number | undefined>((resolve, reject) => {
      this.settle = (nsPid, err) => {
        if (this.settled) return
        this.settled = true
        clearTimeout(this.timer)
        if (err === undefined) { resolve(nsPid); return }
        kill()
        reject(err)
      }
    })
    this.timer = setTimeout(() => {
      this.settle(undefined, new ColonyError('capsule_start_failed', `the capsule did not start within ${timeoutMs} ms: ${this.stderrText.trim()}`))
    }, timeoutMs)
  }

  stdout (chunk: Buffer): void {
    if (this.ready) return
    this.stdoutText += chunk.toString()
    if (this.stdoutText.includes('ready\n')) { this.ready = true; this.check() }
  }

  stderr (chunk: Buffer): void { if (this.stderrText.length < 8192) this.stderrText += chunk.toString() }

  status (chunk: Buffer): void {
    if (this.nsPid !== undefined) return
    this.statusText += chunk.toString()
    const m = /"child-pid"\s*:\s*(\d+)/.exec(this.statusText)
    if (m !== null) { this.nsPid = Number(m[1]); this.check() }
  }

  error (err: Error): void { this.settle(undefined, new ColonyError('capsule_start_failed', err.message, { cause: err })) }

  exit (code: number | null, signal: NodeJS.Signals | null): void {
    const why = code === 90 ? 'could not join its cgroup' : code === 91 ? 'could not mount its filesystem' : `exited (${signal ?? code})`
    this.settle(undefined, new ColonyError('capsule_start_failed', `the capsule's init ${why}: ${this.stderrText.trim()}`))
  }

  /** Nothing was started: the caller tries another way. */
  unreachable (): void { this.settle(undefined) }

  private check (): void { if (this.ready && this.nsPid !== undefined) this.settle(this.nsPid) }
}

/**
 * Starts the init: through the exec server when there is one (Colony forks nothing: forking a large Colony costs
 * milliseconds), else (or when the server went away before it started anything) with a spawn.
 */
export async function startInit (opts: InitOptions): Promise<InitProcess> {
  const { tools } = opts
  const bwrap = [tools.bwrap, ...bwrapArgs(opts), '--', '/bin/sh', '-c', INIT_SCRIPT]
  const mounts = [opts.mask, opts.maskMount, String(opts.overlays.length), ...opts.overlays.flat()]
  if (opts.enterBinary !== undefined) {
    const initArgs = [String(opts.procsFiles.length), ...opts.procsFiles, ...mounts, ...bwrap]
    const server = opts.server?.alive === true ? opts.server : undefined
    const served = server !== undefined ? await serverInit(opts, server, initArgs) : undefined
    return served ?? await spawnInit(opts, opts.enterBinary, ['init', ...initArgs])
  }
  return await spawnInit(opts, tools.sh, [
    '-c', JOIN_THEN_EXEC, 'capsule-init', String(opts.procsFiles.length), ...opts.procsFiles,
    tools.unshare, '-m', '--propagation', 'private', '--',
    tools.sh, '-c', MOUNT_THEN_EXEC, 'capsule-mount', ...mounts, ...bwrap,
  ])
}

/** The init as a `capsule-enter init` request to the exec server; undefined when the server started nothing. */
async function serverInit (opts: InitOptions, server: ExecServer, initArgs: string[]): Promise<InitProcess | undefined> {
  let closed!: () => void
  const exited = new Promise<void>((resolve) => { closed = resolve })
  let gone = false
  const onExit: Array<() => void> = []
  const watch = new StartWatch(opts.startTimeoutMs, () => { req.kill() })
  const req = server.startInit(initArgs, {
    stdout: (chunk) => { watch.stdout(chunk) },
    stderr: (chunk) => { watch.stderr(chunk) },
    status: (chunk) => { watch.status(chunk) },
    exit: (code, signal) => {
      gone = true
      watch.exit(code, signal)
      for (const fn of onExit.splice(0)) fn()
    },
    close: () => { closed() },
    unreachable: () => { closed(); watch.unreachable() },
  })
  const nsPid = await watch.done
  if (nsPid === undefined) return undefined
  return {
    nsPid,
    exited,
    onExit: (fn) => { if (gone) fn(); else onExit.push(fn) },
    kill: () => { req.kill() },
  }
}

function spawnInit (opts: InitOptions, file: string, argv: string[]): Promise<InitProcess> {
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { PATH: DEFAULT_PATH } })
  const exited = new Promise<void>((resolve) => { child.once('close', () => { resolve() }) })
  const watch = new StartWatch(opts.startTimeoutMs, () => { try { child.kill('SIGKILL') } catch { /* gone */ } })
  child.stdout!.on('data', (chunk: Buffer) => { watch.stdout(chunk) })
  child.stderr!.on('data', (chunk: Buffer) => { watch.stderr(chunk) })
  ;(child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => { watch.status(chunk) })
  child.once('error', (err) => { watch.error(err) })
  child.once('exit', (code, signal) => { watch.exit(code, signal) })
  return watch.done.then((nsPid) => ({
    nsPid: nsPid as number,
    exited,
    onExit: (fn) => { if (child.exitCode !== null || child.signalCode !== null) fn(); else child.once('exit', fn) },
    kill: () => { try { child.kill('SIGKILL') } catch { /* gone */ } },
  }))
}
