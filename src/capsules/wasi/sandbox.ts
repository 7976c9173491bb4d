/**
 * A capsule of the wasi driver: a directory on the host (`<dir>/root`, the capsule's whole filesystem) and the WASI
 * processes running over it. A command is a WebAssembly module of the capsule: `cmd` with a `/` is a capsule path,
 * a bare name is looked up in the capsule's PATH (`name` or `name.wasm`), as a shell would; a missing one exits 127.
 *
 * The kernel gives this driver no cgroup, so Colony keeps the books itself: every process is a process group of its
 * own; pause stops them all (SIGSTOP: memory kept, no CPU) and resume continues them; CPU and memory are read from
 * /proc; a watchdog kills the largest process when the capsule's memory (beyond each node's own baseline) goes over
 * its limit, and reports it as an OOM kill.
 */
import type { ChildProcess } from 'node:child_process'
import type { EventEmitter } from 'node:events'
import { constants as fsConstants } from 'node:fs'
import { chmod, mkdir, open, readFile, readlink, rm, type FileHandle } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { ColonyError } from '../../errors.js'
import type { CapsuleFiles, CapsuleProcess, CapsulePty, CapsuleSandbox, CapsuleSpec, CapsuleStats, ExecRequest, ExecResult, ProcessRequest, WasmRequest } from '../driver.js'
import { isComponent, runComponent, type ComponentRunOptions } from '../component-run.js'
import { CAPSULE_HOME, CAPSULE_USER, DEFAULT_PATH, diskBytes } from '../layout.js'
import { hostFiles } from './host-files.js'
import { collect, feed, launch, signalGroup, WasiProcess } from './process.js'

/** A module bigger than this is not loaded. */
const MAX_MODULE_BYTES = 256 * 1024 * 1024
/** What the host's node takes by itself, not counted against the capsule's memory. */
export const NODE_BASELINE_BYTES = 64 * 1024 * 1024
/** How stale a capsule's disk figure may be (stats are sampled every 500 ms). */
const DISK_EVERY_MS = 5000
const PAGE_BYTES = 4096
const NS_PER_TICK = 1e9 / 100

export interface WasiContext {
  events: EventEmitter<{ oom: [id: string], vanished: [id: string] }>
  /** How often memory is checked while processes run. */
  watchMs: number
  /** util-linux's setpriv, when the host has it: runners then die with Colony. */
  setpriv: string | undefined
  /** How components run (a session's `wasm_path` may be one); without it they are refused. */
  components: ComponentRunOptions | undefined
}

type State = 'running' | 'paused' | 'hibernated' | 'destroyed'

interface Tracked { child: ChildProcess, cpuNs: number, rssBytes: number }

/** utime + stime (ns) and resident bytes of a process, from /proc/<pid>/stat. */
async function procUsage (pid: number): Promise<{ cpuNs: number, rssBytes: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields from the state (3rd field): utime is the 14th field, stime the 15th, rss the 24th.
    return { cpuNs: (Number(f[11]) + Number(f[12])) * NS_PER_TICK, rssBytes: Number(f[21]) * PAGE_BYTES }
  } catch {
    return undefined
  }
}

export class WasiSandbox implements CapsuleSandbox {
  readonly id: string
  readonly files: CapsuleFiles
  private readonly ctx: WasiContext
  private readonly spec: CapsuleSpec
  private readonly root: string
  private readonly baseEnv: Record<string, string>
  private state: State
  private readonly procs = new Map<number, Tracked>()
  private cpuDoneNs = 0
  private watch: NodeJS.Timeout | undefined
  private disk: { atMs: number, bytes: number } | undefined

  constructor (ctx: WasiContext, spec: CapsuleSpec, root: string, state: 'running' | 'hibernated') {
    this.ctx = ctx
    this.spec = spec
    this.id = spec.id
    this.root = root
    this.state = state
    this.files = hostFiles(root, CAPSULE_HOME)
    this.baseEnv = { PATH: DEFAULT_PATH, HOME: CAPSULE_HOME, USER: CAPSULE_USER, LOGNAME: CAPSULE_USER, ...spec.env }
  }

  get running (): boolean { return this.state === 'running' }
  get upperDir (): string { return this.root }

  private requireRunning (): void {
    if (this.state !== 'running') throw new ColonyError('capsule_not_running', `capsule ${this.id} is ${this.state}`)
  }

  private env (extra: Record<string, string> | undefined): Record<string, string> {
    const env = { ...this.baseEnv, ...(extra ?? {}) }
    for (const [k, v] of Object.entries(env)) {
      if (k.length === 0 || k.includes('=') || k.includes('\0') || typeof v !== 'string' || v.includes('\0')) {
        throw new ColonyError('invalid_body', `invalid environment variable: ${k}`)
      }
    }
    return env
  }

  private checkRequest (req: ProcessRequest): void {
    if (typeof req.cmd !== 'string' || req.cmd.length === 0 || req.cmd.includes('\0')) throw new ColonyError('invalid_body', 'cmd is required')
    if (!Array.isArray(req.args) || req.args.some((a) => typeof a !== 'string' || a.includes('\0'))) throw new ColonyError('invalid_body', 'args must be strings')
    if (req.cwd !== undefined && (typeof req.cwd !== 'string' || req.cwd.length === 0 || req.cwd.includes('\0'))) throw new ColonyError('invalid_body', 'cwd is invalid')
    if (this.procs.size >= this.spec.pidsMax) throw new ColonyError('capsule_exec_failed', `capsule ${this.id} already runs ${this.procs.size} processes (its limit)`)
  }

  /** The command's module, found as a shell finds a program; undefined when there is none. */
  private async findModule (cmd: string, cwd: string, path: string): Promise<Buffer | undefined> {
    const candidates = cmd.includes('/')
      ? [posix.resolve(cwd, cmd)]
      : path.split(':').filter((d) => d.startsWith('/')).flatMap((d) => [posix.join(d, cmd), posix.join(d, `${cmd}.wasm`)])
    for (const candidate of candidates) {
      try {
        return await this.files.read(candidate, MAX_MODULE_BYTES)
      } catch (err) {
        const code = (err as ColonyError).code
        if (code !== 'file_not_found' && code !== 'file_invalid') throw err
      }
    }
    return undefined
  }

  /** Starts a runner for `req` at once (its pid is known) and hands it the module when found. */
  private start (req: ProcessRequest, stdin: 'pipe' | 'ignore'): { child: ChildProcess, fed: Promise<void> } {
    this.requireRunning()
    this.checkRequest(req)
    const env = this.env(req.env)
    const child = launch({ preopen: this.root, root: this.root, fn: '_start', argv0: req.cmd, args: req.args, env, stdin, setpriv: this.ctx.setpriv })
    this.track(child)
    const fed = this.findModule(req.cmd, req.cwd ?? CAPSULE_HOME, env.PATH ?? DEFAULT_PATH).then(
      (bytes) => { feed(child, bytes) },
      (err: unknown) => { signalGroup(child, 'SIGKILL'); throw err })
    return { child, fed }
  }

  async exec (req: ExecRequest): Promise<ExecResult> {
    const { child, fed } = this.start(req, req.stdin !== undefined ? 'pipe' : 'ignore')
    const done = collect(child, { timeoutMs: req.timeoutMs, maxOutputBytes: req.maxOutputBytes, ...(req.stdin !== undefined && { stdin: req.stdin }) })
    const [, result] = await Promise.all([fed, done])
    return result
  }

  spawn (req: ProcessRequest): CapsuleProcess {
    const { child, fed } = this.start(req, 'pipe')
    const proc = new WasiProcess(child)
    fed.catch((err: unknown) => { proc.emit('stderr', Buffer.from(`${(err as Error).message}\n`)) })
    return proc
  }

  pty (): CapsulePty {
    throw new ColonyError('capsule_unsupported', 'the wasi driver has no terminals: its processes are WebAssembly modules')
  }

  /**
   * The module sees the user's home as `/` (wasmrun's view), handed over as an open directory so it cannot be
   * swapped. A component runs as Colony's component actors do (../component-run.ts), over the same directory.
   */
  async runWasm (req: WasmRequest): Promise<ExecResult> {
    this.requireRunning()
    const home = join(this.root, CAPSULE_HOME)
    let dir: FileHandle | undefined
    try {
      dir = await open(home, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW)
      if (await readlink(`/proc/self/fd/${dir.fd}`) !== home) throw new ColonyError('file_invalid', `${CAPSULE_HOME} is not the capsule's home directory`)
    } catch (err) {
      await dir?.close()
      if (err instanceof ColonyError) throw err
      throw new ColonyError('file_not_found', `${CAPSULE_HOME} is missing`, { cause: err })
    }
    try {
      const bytes = await this.files.read(posix.resolve(CAPSULE_HOME, req.path), MAX_MODULE_BYTES)
      this.requireRunning()
      this.checkRequest({ cmd: req.path, args: req.args })
      if (isComponent(bytes) && this.ctx.components !== undefined) {
        // The home checked above is a real directory, and nothing in a wasi capsule is a link: its path is safe.
        return await runComponent(this.ctx.components, {
          bytes, dir: home, argv0: req.path, args: req.args, env: this.env(req.env), timeoutMs: req.timeoutMs,
          maxOutputBytes: req.maxOutputBytes, memoryLimitBytes: this.spec.memoryMb * 1024 * 1024,
        })
      }
      const child = launch({
        preopen: '/proc/self/fd/4', dirFd: dir.fd, root: this.root, fn: req.fn ?? '_start', argv0: req.path, args: req.args,
        env: this.env(req.env), stdin: req.stdin !== undefined ? 'pipe' : 'ignore', setpriv: this.ctx.setpriv,
      })
      this.track(child)
      feed(child, bytes)
      return await collect(child, { timeoutMs: req.timeoutMs, maxOutputBytes: req.maxOutputBytes, ...(req.stdin !== undefined && { stdin: req.stdin }) })
    } finally {
      await dir.close()
    }
  }

  private track (child: ChildProcess): void {
    if (child.pid === undefined) return
    const pid = child.pid
    this.procs.set(pid, { child, cpuNs: 0, rssBytes: 0 })
    child.once('exit', () => {
      const t = this.procs.get(pid)
      if (t !== undefined) this.cpuDoneNs += t.cpuNs
      this.procs.delete(pid)
      if (this.procs.size === 0) this.stopWatch()
    })
    if (this.watch === undefined) {
      this.watch = setInterval(() => { void this.sample() }, this.ctx.watchMs)
      this.watch.unref()
    }
  }

  private stopWatch (): void {
    if (this.watch !== undefined) clearInterval(this.watch)
    this.watch = undefined
  }

  /** Reads every process's CPU and memory; over the limit, the largest is killed as an OOM kill. */
  private async sample (): Promise<void> {
    let guest = 0
    let largest: Tracked | undefined
    for (const [pid, t] of this.procs) {
      const u = await procUsage(pid)
      if (u === undefined) continue
      t.cpuNs = u.cpuNs
      t.rssBytes = u.rssBytes
      guest += Math.max(0, u.rssBytes - NODE_BASELINE_BYTES)
      if (largest === undefined || u.rssBytes > largest.rssBytes) largest = t
    }
    if (largest !== undefined && guest > this.spec.memoryMb * 1024 * 1024) {
      signalGroup(largest.child, 'SIGKILL')
      this.ctx.events.emit('oom', this.id)
    }
  }

  private async stopAll (): Promise<void> {
    const closing = [...this.procs.values()].map(({ child }) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return }
      child.once('exit', () => { resolve() })
      signalGroup(child, 'SIGKILL')
    }))
    await Promise.all(closing)
    this.stopWatch()
  }

  async pause (): Promise<void> {
    if (this.state === 'paused') return
    this.requireRunning()
    for (const { child } of this.procs.values()) signalGroup(child, 'SIGSTOP')
    this.state = 'paused'
  }

  async resume (): Promise<void> {
    if (this.state === 'running') return
    if (this.state === 'destroyed') throw new ColonyError('capsule_not_found', `capsule ${this.id} is destroyed`)
    if (this.state === 'paused') {
      for (const { child } of this.procs.values()) signalGroup(child, 'SIGCONT')
    } else {
      await prepareRoot(this.root)
    }
    this.state = 'running'
  }

  async hibernate (): Promise<void> {
    if (this.state === 'hibernated' || this.state === 'destroyed') return
    await this.stopAll()
    this.state = 'hibernated'
  }

  async destroy (): Promise<void> {
    if (this.state === 'destroyed') return
    await this.stopAll()
    await rm(this.spec.dir, { recursive: true, force: true })
    this.state = 'destroyed'
  }

  async stats (): Promise<CapsuleStats> {
    const now = Date.now()
    if (this.disk === undefined || now - this.disk.atMs >= DISK_EVERY_MS) this.disk = { atMs: now, bytes: await diskBytes(this.root) }
    let cpuNs = this.cpuDoneNs
    let memoryBytes = 0
    for (const [pid, t] of this.procs) {
      const u = await procUsage(pid)
      cpuNs += u?.cpuNs ?? t.cpuNs
      memoryBytes += u?.rssBytes ?? 0
    }
    return { cpuNs, memoryBytes, diskBytes: this.disk.bytes, pids: this.procs.size }
  }
}

/** The directories every capsule has (kept when they exist). */
export async function prepareRoot (root: string): Promise<void> {
  await mkdir(join(root, CAPSULE_HOME), { recursive: true, mode: 0o755 })
  for (const d of ['tmp', 'var/tmp']) {
    await mkdir(join(root, d), { recursive: true })
    await chmod(join(root, d), 0o1777)
  }
  for (const d of ['bin', 'usr/bin', 'usr/local/bin']) await mkdir(join(root, d), { recursive: true, mode: 0o755 })
}
