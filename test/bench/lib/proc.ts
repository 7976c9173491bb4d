import { fork, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'

/** What a worker sends back for one request. */
interface Reply { id: number, ok: boolean, result?: unknown, error?: string }
interface ReadyMessage { type: 'ready', info: unknown }

/**
 * A benchmark worker: a child process running a file from `workers/`, driven by request/reply over IPC.
 * Everything measured runs in children so the parent's own work (load generation, counting) is never
 * billed to the system under test.
 */
export class Worker {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly exited: Promise<number | null>
  private readonly readyInfo: Promise<unknown>
  private exitCode: number | null | undefined

  constructor (readonly name: string, private readonly child: ChildProcess) {
    let onReady: (info: unknown) => void = () => undefined
    let onFail: (err: Error) => void = () => undefined
    this.readyInfo = new Promise((resolve, reject) => { onReady = resolve; onFail = reject })
    child.on('message', (raw) => {
      const msg = raw as Partial<Reply & ReadyMessage>
      if (msg.type === 'ready') { onReady(msg.info); return }
      const waiter = this.pending.get(msg.id as number)
      if (waiter === undefined) return
      this.pending.delete(msg.id as number)
      if (msg.ok === true) waiter.resolve(msg.result)
      else waiter.reject(new Error(`${name}: ${msg.error ?? 'request failed'}`))
    })
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code
        const err = new Error(`${name} exited (code ${code}, signal ${signal})`)
        onFail(err)
        for (const w of this.pending.values()) w.reject(err)
        this.pending.clear()
        resolve(code)
      })
    })
    prefixLines(child.stdout, name)
    prefixLines(child.stderr, name)
  }

  get pid (): number {
    return this.child.pid as number
  }

  /** Resolves with what the worker announced once it was ready (ports, pid...). */
  ready<T> (timeoutMs = 60_000): Promise<T> {
    return withTimeout(this.readyInfo as Promise<T>, timeoutMs, `${this.name} to start`)
  }

  request<T> (cmd: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
    if (this.exitCode !== undefined) return Promise.reject(new Error(`${this.name} has exited`))
    const id = this.nextId++
    const reply = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
    })
    this.child.send({ id, cmd, args })
    return withTimeout(reply, timeoutMs, `${this.name} to answer ${cmd}`)
  }

  /**
   * Asks the worker to close what it opened and waits for the process to end by itself. A worker that is
   * still alive after `graceMs` has leaked a handle: it is killed and the leak reported (returns false).
   */
  async close (graceMs = 15_000): Promise<boolean> {
    if (this.exitCode !== undefined) return this.exitCode === 0
    await this.request('close').catch((err: unknown) => process.stderr.write(`[bench] ${String(err)}\n`))
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    const code = await this.exited
    clearTimeout(timer)
    return code === 0
  }

  kill (): void {
    if (this.exitCode === undefined) this.child.kill('SIGKILL')
  }
}

/**
 * Forks `dist/test/bench/workers/<file>.js` with a JSON argument. With `BENCH_CPU_PROF=<dir>` in the
 * environment, every worker writes a V8 CPU profile there when it ends: where the time went.
 */
export function startWorker (file: string, name: string, arg: unknown = {}, execArgv: string[] = []): Worker {
  const profDir = process.env.BENCH_CPU_PROF
  const profile = profDir !== undefined && profDir !== '' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : []
  const child = fork(new URL(`../workers/${file}.js`, import.meta.url), [JSON.stringify(arg)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: [...execArgv, ...profile],
  })
  return new Worker(name, child)
}

function prefixLines (stream: Readable | null, name: string): void {
  if (stream === null) return
  createInterface({ input: stream }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`))
}

export function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Linux reports CPU time in clock ticks; USER_HZ is 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100

export interface ProcSample { cpuUs: number, rssBytes: number }

/** CPU time (user + system) and RSS of any process, read from /proc, so Mosquitto is measured like Node. */
export function procSample (pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return { cpuUs: ticks * (1e6 / TICKS_PER_SECOND), rssBytes: rssKb * 1024 }
}

/**
 * CPU time of a process's live threads in µs, to the nanosecond: the sum of each thread's `schedstat` run time.
 * `procSample` counts 10 ms ticks, which over 2 000 calls of ~50 µs (100 ms) is ±10 % on its own. A thread that
 * exits between two readings takes its time out of the sum: use it over windows where the threads stay.
 */
export function threadsCpuUs (pid: number): number {
  let ns = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // The thread ended after the directory was listed: its time is gone with it (see above).
    }
  }
  return ns / 1000
}

/** A port that was free a moment ago, for programs (Mosquitto) that cannot be told to pick port 0. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve())
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Runs cleanup steps in reverse order of registration, even when a benchmark fails half way. */
export class Scope {
  private readonly steps: Array<() => unknown> = []
  defer (step: () => unknown): void {
    this.steps.push(step)
  }

  async close (): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step()
      } catch (err) {
        process.stderr.write(`[bench] cleanup failed: ${String(err)}\n`)
      }
    }
  }
}

/** The machine's CPU time by kind, in clock ticks, from the first line of /proc/stat. */
export interface MachineCpu { total: number, steal: number, iowait: number }

/** Parses `cpu  user nice system idle iowait irq softirq steal ...`; undefined when the line is not that. */
export function parseMachineCpu (statLine: string): MachineCpu | undefined {
  const m = /^cpu\s+(.*)$/.exec(statLine)
  if (m === null) return undefined
  const f = (m[1] as string).trim().split(/\s+/).map(Number)
  if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return undefined
  // guest and guest_nice (fields 9-10) are already counted in user and nice.
  const total = f.slice(0, 8).reduce((s, x) => s + x, 0)
  return { total, steal: f[7] as number, iowait: f[4] as number }
}

export function machineCpu (): MachineCpu | undefined {
  try {
    return parseMachineCpu(readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '')
  } catch {
    return undefined
  }
}

/**
 * What share of the machine's CPU time between two samples the hypervisor gave to other guests (steal) and the
 * cores spent waiting on the disk (iowait). On a shared VM, steal is what moves a bench's figures between runs that
 * nothing in the code explains.
 */
export function cpuShares (a: MachineCpu | undefined, b: MachineCpu | undefined): { steal: number, iowait: number } | undefined {
  if (a === undefined || b === undefined || b.total <= a.total) return undefined
  const total = b.total - a.total
  return { steal: (b.steal - a.steal) / total, iowait: (b.iowait - a.iowait) / total }
}
