/**
 * One capsule of the namespace driver: its lifecycle (running ⇄ paused, running/paused → hibernated → running,
 * any → destroyed) around one init process, a cgroup and an overlay.
 */
import type { EventEmitter } from 'node:events'
import { readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ColonyError } from '../../errors.js'
import type { CapsuleFiles, CapsuleProcess, CapsulePty, CapsuleSandbox, CapsuleSpec, CapsuleStats, ExecRequest, ExecResult, ProcessRequest, WasmRequest } from '../driver.js'
import { shellFiles } from '../shell-files.js'
import { WASI_RUNNER } from '../wasi-runner.js'
import { CapsuleCgroup, type CgroupLayout } from './cgroup.js'
import { DEFAULT_PATH, startInit, type InitProcess } from './init.js'
import type { HostTools } from './prereqs.js'
import type { ExecServer, Handler } from './enter.js'
import { execIn, ptyIn, spawnIn, type CapsuleEntry, type PtyModule } from './process.js'
import { CAPSULE_HOME, CAPSULE_USER, buildMask, diskBytes, overlayMounts, prepareDirs, rootfsPaths, type RootfsPaths } from './rootfs.js'
import { OomWatch, capsuleStats } from './stats.js'

/** Whether a process has exited (a zombie counts as exited). */
async function exited (pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state === 'Z' || state === 'X'
  } catch {
    return true
  }
}

/** Waits for every promise; rejects with the first failure once all are done (nothing left running behind). */
async function settleAll (work: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
}

/** Waits until a process has exited; bounded. */
async function untilGone (pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let wait = 1
  while (Date.now() < deadline) {
    if (await exited(pid)) return
    await new Promise((resolve) => setTimeout(resolve, wait))
    wait = Math.min(wait * 2, 20)
  }
}

export interface SandboxContext {
  tools: HostTools
  cgroups: CgroupLayout
  cgroupParent: string
  base: string
  hidden: string[]
  etcUnreadable (): Promise<string[]>
  /**
   * The mask is the same for every capsule with the same network setting: it is built once per directory (one
   * mknod per whiteout costs ~1 ms each, tens of ms per capsule otherwise) and each capsule's init copies it.
   */
  sharedMask (dir: string, build: () => Promise<void>): Promise<void>
  pty (): PtyModule
  /** `capsule-enter` and its exec server, when built (see enter.ts). */
  enterBinary: string | undefined
  execServer (): Promise<ExecServer | undefined>
  events: EventEmitter<{ oom: [id: string], vanished: [id: string] }>
  startTimeoutMs: number
  oomPollMs: number
  /** Shown read-only in every capsule: `[host path, capsule path]`. */
  readOnly: Array<[string, string]>
}

/** How stale a capsule's disk figure may be. */
const DISK_EVERY_MS = 5000

type State = 'starting' | 'running' | 'paused' | 'stopping' | 'hibernated' | 'destroyed'

export class NamespaceSandbox implements CapsuleSandbox, CapsuleEntry {
  readonly id: string
  readonly baseEnv: Record<string, string>
  private readonly ctx: SandboxContext
  private readonly spec: CapsuleSpec
  private readonly paths: RootfsPaths
  private readonly cgroup: CapsuleCgroup
  private state: State = 'hibernated'
  private init: InitProcess | undefined
  private oom: OomWatch | undefined
  private leafSeq = 0
  private readonly deferredKills = new Set<string>()
  private lock: Promise<unknown> = Promise.resolve()

  constructor (ctx: SandboxContext, spec: CapsuleSpec) {
    this.ctx = ctx
    this.spec = spec
    this.id = spec.id
    this.paths = rootfsPaths(spec.dir)
    this.cgroup = new CapsuleCgroup(ctx.cgroups, ctx.cgroupParent, spec.id)
    this.baseEnv = { PATH: DEFAULT_PATH, HOME: CAPSULE_HOME, USER: CAPSULE_USER, LOGNAME: CAPSULE_USER, ...spec.env }
  }

  get running (): boolean { return this.state === 'running' }
  get upperDir (): string { return this.paths.upper }
  get tools (): HostTools { return this.ctx.tools }
  get enterBinary (): string | undefined { return this.ctx.enterBinary }

  /** An exec server handler that already joined its leaf, kept for the next exec (see enter.ts). */
  private spare: { leaf: string, procsFiles: string[], handler: Handler } | undefined

  async execHandler (): Promise<{ leaf: string, procsFiles: string[], handler: Handler } | undefined> {
    const spare = this.spare
    this.spare = undefined
    if (spare !== undefined && spare.handler.usable) {
      setImmediate(() => { void this.prepareSpare() })
      return spare
    }
    const server = await this.ctx.execServer()
    if (server === undefined) return undefined
    const { leaf, procsFiles } = this.newLeaf()
    setImmediate(() => { void this.prepareSpare() })
    return { leaf, procsFiles, handler: server.prepare({ procsFiles }) }
  }

  /** Keeps one handler ready in a leaf of its own while the capsule is starting or running. */
  private async prepareSpare (): Promise<void> {
    if (this.spare !== undefined || (this.state !== 'running' && this.state !== 'starting')) return
    const server = await this.ctx.execServer()
    if (server === undefined || this.spare !== undefined || (this.state !== 'running' && this.state !== 'starting')) return
    const { leaf, procsFiles } = this.newLeaf()
    const spare = { leaf, procsFiles, handler: server.prepare({ procsFiles }) }
    this.spare = spare
    spare.handler.onDeath(() => {
      if (this.spare === spare) this.spare = undefined
      // Stopping removes every leaf itself (and a leaf is not killed alone while frozen).
      if (this.state === 'running') void this.cgroup.removeLeaf(leaf).catch(() => {})
    })
  }

  private dropSpare (): void {
    const spare = this.spare
    this.spare = undefined
    spare?.handler.discard()
  }
  get nsPid (): number {
    if (this.init === undefined) throw new ColonyError('capsule_not_running')
    return this.init.nsPid
  }

  /** Lifecycle operations run one at a time. */
  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn)
    this.lock = next.catch(() => {})
    return next
  }

  private requireRunning (): void {
    if (this.state !== 'running') throw new ColonyError('capsule_not_running', `capsule ${this.id} is ${this.state}`)
  }

  /** Starts the capsule from its files (a new capsule, or a hibernated one). */
  async start (): Promise<void> {
    this.state = 'starting'
    try {
      const mask = join(dirname(this.spec.dir), `.mask-${this.spec.network ? 'net' : 'nonet'}`)
      // The files and the cgroup are independent: prepared side by side.
      await settleAll([
        (async () => {
          await prepareDirs(this.paths)
          const etcUnreadable = await this.ctx.etcUnreadable()
          await this.ctx.sharedMask(mask, async () => {
            await buildMask({ ...this.paths, mask }, { base: this.ctx.base, hidden: this.ctx.hidden, etcUnreadable, network: this.spec.network })
          })
        })(),
        (async () => {
          await this.cgroup.create({ memoryMb: this.spec.memoryMb, vcpus: this.spec.vcpus, pidsMax: this.spec.pidsMax })
          await this.cgroup.kill() // whatever a previous Colony left (normally nothing: --die-with-parent)
          await this.cgroup.thaw()
          await this.cgroup.makeLeaf('init')
        })(),
      ])
      // Its cgroup join runs beside the init's start, and the first exec finds it ready.
      await this.prepareSpare()
      // The OOM counter is read while the init starts (the cgroup exists; nothing of the capsule runs yet).
      this.oom = new OomWatch(this.cgroup, () => { this.ctx.events.emit('oom', this.id) })
      const watching = this.oom.start(this.ctx.oomPollMs)
      const init = await startInit({
        tools: this.ctx.tools,
        merged: this.paths.merged,
        mask,
        maskMount: this.paths.maskMount,
        overlays: overlayMounts(this.paths, this.spec.layers, this.ctx.base),
        procsFiles: this.cgroup.procsFiles('init'),
        network: this.spec.network,
        hostname: this.spec.id,
        startTimeoutMs: this.ctx.startTimeoutMs,
        readOnly: this.ctx.readOnly,
        ...(this.ctx.enterBinary !== undefined && { enterBinary: this.ctx.enterBinary, server: await this.ctx.execServer() }),
      })
      this.init = init
      init.onExit(() => { this.initExited(init) })
      await watching
      this.state = 'running'
    } catch (err) {
      await this.stopProcesses().catch(() => {})
      this.state = 'hibernated'
      throw err
    }
  }

  private initExited (init: InitProcess): void {
    if (this.init !== init || (this.state !== 'running' && this.state !== 'paused')) return
    void this.serial(async () => {
      if (this.init !== init || (this.state !== 'running' && this.state !== 'paused')) return
      this.state = 'stopping'
      await this.stopProcesses().catch(() => {})
      this.state = 'hibernated'
      this.ctx.events.emit('vanished', this.id)
    })
  }

  /** Kills every process of the capsule and removes its cgroup; the overlay goes with the last process. */
  private async stopProcesses (): Promise<void> {
    const oom = this.oom
    this.oom = undefined
    oom?.stop()
    this.dropSpare()
    await oom?.check().catch(() => {})
    await this.cgroup.kill()
    if (this.init !== undefined) {
      const init = this.init
      init.kill()
      await init.exited
      // The capsule's pid 1 leaves the cgroup before it finishes exiting (it waits for its namespace to empty).
      await untilGone(init.nsPid)
    }
    this.init = undefined
    this.deferredKills.clear()
    await this.cgroup.remove()
  }

  async exec (req: ExecRequest): Promise<ExecResult> {
    this.requireRunning()
    return await execIn(this, req)
  }

  spawn (req: ProcessRequest): CapsuleProcess {
    this.requireRunning()
    return spawnIn(this, req)
  }

  pty (req: ProcessRequest & { cols: number, rows: number }): CapsulePty {
    this.requireRunning()
    return ptyIn(this, this.ctx.pty(), req)
  }

  /** Node's WASI inside the sandbox (the node binary is the host's, seen read-only); the home is the module's `/`. */
  async runWasm (req: WasmRequest): Promise<ExecResult> {
    const { path, fn, args, ...rest } = req
    return await this.exec({ cmd: process.execPath, args: ['--no-warnings', '-e', WASI_RUNNER, '.', path, fn ?? '_start', '-', path, ...args], ...rest })
  }

  readonly files: CapsuleFiles = shellFiles(this)

  pause (): Promise<void> {
    return this.serial(async () => {
      if (this.state === 'paused') return
      this.requireRunning()
      await this.cgroup.freeze()
      this.state = 'paused'
    })
  }

  resume (): Promise<void> {
    return this.serial(async () => {
      if (this.state === 'running') return
      if (this.state === 'destroyed') throw new ColonyError('capsule_not_found', `capsule ${this.id} is destroyed`)
      if (this.state === 'paused') {
        await this.cgroup.thaw()
        this.state = 'running'
        const pending = [...this.deferredKills]
        this.deferredKills.clear()
        for (const leaf of pending) await this.cgroup.removeLeaf(leaf).catch(() => {})
        return
      }
      await this.start()
    })
  }

  hibernate (): Promise<void> {
    return this.serial(async () => {
      if (this.state === 'hibernated' || this.state === 'destroyed') return
      this.state = 'stopping'
      try {
        await this.stopProcesses()
      } finally {
        this.state = 'hibernated'
      }
    })
  }

  destroy (): Promise<void> {
    return this.serial(async () => {
      if (this.state === 'destroyed') return
      this.state = 'stopping'
      await this.stopProcesses()
      await rm(this.spec.dir, { recursive: true, force: true })
      this.state = 'destroyed'
    })
  }

  async stats (): Promise<CapsuleStats> {
    const live = this.state === 'running' || this.state === 'paused'
    // Walking the writable layer is the costly part, and stats are sampled every 500 ms: at most every 5 s.
    const now = Date.now()
    if (this.disk === undefined || now - this.disk.atMs >= DISK_EVERY_MS) this.disk = { atMs: now, bytes: await diskBytes(this.paths.upper) }
    return await capsuleStats(live ? this.cgroup : undefined, this.disk.bytes)
  }

  private disk: { atMs: number, bytes: number } | undefined

  // CapsuleEntry: what processes need of the sandbox.

  newLeaf (): { leaf: string, procsFiles: string[] } {
    const leaf = `p${++this.leafSeq}`
    this.cgroup.makeLeafSync(leaf)
    return { leaf, procsFiles: this.cgroup.procsFiles(leaf) }
  }

  async killLeaf (leaf: string): Promise<void> {
    if (this.state === 'paused') { this.deferredKills.add(leaf); return }
    await this.cgroup.kill(leaf)
  }

  async signalLeaf (leaf: string, signal: NodeJS.Signals, except: number): Promise<void> {
    // Right after spawn the process may not have entered the capsule yet: wait (bounded) until it has.
    const deadline = Date.now() + 2000
    let wait = 1
    for (;;) {
      const pids = (await this.cgroup.leafPids(leaf)).filter((p) => p !== except)
      if (pids.length > 0) {
        for (const pid of pids) {
          try { process.kill(pid, signal) } catch { /* gone */ }
        }
        return
      }
      if (Date.now() > deadline || await exited(except)) return
      await new Promise((resolve) => setTimeout(resolve, wait))
      wait = Math.min(wait * 2, 20)
    }
  }

  async releaseLeaf (leaf: string, exiting?: number): Promise<void> {
    if (this.state === 'paused') {
      this.deferredKills.add(leaf)
    } else {
      // What the process left behind dies before its exec answers (`exiting`, an exec handler on its way out, is
      // not left behind); the leaf is emptied and removed after.
      await this.cgroup.kill(leaf, exiting)
      void this.cgroup.removeLeaf(leaf, exiting).catch(() => {})
    }
    // Off the answer's path too: an OOM kill is an event, and the poll timer reads the counter anyway.
    void this.oom?.check().catch(() => {})
  }
}
