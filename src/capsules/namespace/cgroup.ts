/**
 * A capsule's control group, on cgroup v1 (one hierarchy per controller) or v2 (the unified hierarchy).
 *
 * Layout: the capsule's cgroup `C = <root>/<parent>/<id>` carries the limits; every process of the capsule sits in
 * a *leaf* under it, `C/init` (the init process) or `C/p<n>` (one per exec/spawn/pty), so a process tree can be
 * frozen and killed exactly (a daemonised grandchild stays in its leaf). On v1 only the freezer hierarchy has leaves;
 * memory, pids, cpu and cpuacct hold the processes in `C` itself (v1 OOM counters do not add up from children).
 * Freezing `C` freezes every leaf. A process joins its cgroups before it execs anything (see `procsFiles`).
 */
import { readFile, writeFile, mkdir, rmdir, readdir, access } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ColonyError } from '../../errors.js'

export interface CgroupLimits {
  memoryMb: number
  vcpus: number
  pidsMax: number
}

export interface CgroupUsage {
  cpuNs: number
  memoryBytes: number
  pids: number
}

const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'] as const
type V1Controller = typeof V1_CONTROLLERS[number]
const V2_CONTROLLERS = ['memory', 'pids', 'cpu'] as const
const CPU_PERIOD_US = 100_000

/** Where the cgroup controllers a capsule needs are mounted on this host. */
export type CgroupLayout =
  | { version: 1, mounts: Record<V1Controller, string> }
  | { version: 2, mount: string }

interface MountEntry { mountPoint: string, fsType: string, superOptions: string[] }

async function cgroupMounts (): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8')
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ')
    if (dash < 0) continue
    const left = line.slice(0, dash).split(' ')
    const right = line.slice(dash + 3).split(' ')
    const fsType = right[0] ?? ''
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue
    entries.push({ mountPoint: unescapeMount(left[4] ?? ''), fsType, superOptions: (right[2] ?? '').split(',') })
  }
  return entries
}

function unescapeMount (path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

/**
 * Finds the controllers: v2 when the unified hierarchy has memory, pids and cpu (the freezer is built in); else v1
 * with memory, pids, cpu, cpuacct and freezer. Throws `capsule_unavailable` naming what is missing.
 */
export async function detectCgroups (): Promise<CgroupLayout> {
  const mounts = await cgroupMounts()
  const missingV2: string[] = []
  for (const m of mounts.filter((e) => e.fsType === 'cgroup2')) {
    let controllers: string[] = []
    try {
      controllers = (await readFile(join(m.mountPoint, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/)
    } catch { continue }
    const missing = V2_CONTROLLERS.filter((c) => !controllers.includes(c))
    try { await access(join(m.mountPoint, 'cgroup.freeze')) } catch { /* the root has no cgroup.freeze: fine */ }
    if (missing.length === 0) return { version: 2, mount: m.mountPoint }
    missingV2.push(...missing)
  }
  const v1: Partial<Record<V1Controller, string>> = {}
  for (const m of mounts.filter((e) => e.fsType === 'cgroup')) {
    for (const c of V1_CONTROLLERS) {
      if (m.superOptions.includes(c) && v1[c] === undefined) v1[c] = m.mountPoint
    }
  }
  const missingV1 = V1_CONTROLLERS.filter((c) => v1[c] === undefined)
  if (missingV1.length === 0) return { version: 1, mounts: v1 as Record<V1Controller, string> }
  throw new ColonyError('capsule_unavailable',
    `cgroup controllers missing: v1 lacks ${missingV1.join(', ')}; v2 ${missingV2.length > 0 ? `lacks ${[...new Set(missingV2)].join(', ')}` : 'is not mounted'}`)
}

async function readNumber (path: string): Promise<number> {
  const text = (await readFile(path, 'utf8')).trim()
  return text === 'max' ? Infinity : Number(text)
}

async function readKey (path: string, key: string): Promise<number> {
  const text = await readFile(path, 'utf8')
  for (const line of text.split('\n')) {
    const [k, v] = line.split(/\s+/)
    if (k === key) return Number(v)
  }
  return 0
}

async function readPids (procsFile: string): Promise<number[]> {
  let text: string
  try { text = await readFile(procsFile, 'utf8') } catch { return [] }
  return text.split('\n').filter((l) => l.length > 0).map(Number)
}

function killQuietly (pid: number, signal: NodeJS.Signals | number): void {
  try { process.kill(pid, signal) } catch { /* already gone */ }
}

async function until (what: string, timeoutMs: number, test: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let wait = 1
  while (!(await test())) {
    if (Date.now() > deadline) throw new ColonyError('internal_error', `cgroup: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, wait))
    wait = Math.min(wait * 2, 20)
  }
}

export class CapsuleCgroup {
  private readonly layout: CgroupLayout
  /** `<parent>/<id>` relative to each hierarchy's mount point. */
  private readonly rel: string
  private readonly parentRel: string

  constructor (layout: CgroupLayout, parent: string, id: string) {
    this.layout = layout
    this.parentRel = parent
    this.rel = join(parent, id)
  }

  /** The capsule's cgroup directory in each hierarchy it uses (deduplicated: co-mounted controllers share one). */
  private dirs (): string[] {
    if (this.layout.version === 2) return [join(this.layout.mount, this.rel)]
    return [...new Set(Object.values(this.layout.mounts).map((m) => join(m, this.rel)))]
  }

  /** The directory whose subtree holds the leaves (v1: the freezer hierarchy). */
  private leafRoot (): string {
    return this.layout.version === 2 ? join(this.layout.mount, this.rel) : join(this.layout.mounts.freezer, this.rel)
  }

  private controllerDir (c: V1Controller): string {
    return this.layout.version === 2 ? join(this.layout.mount, this.rel) : join(this.layout.mounts[c], this.rel)
  }

  /** Creates the capsule's cgroup (kept if it exists) and writes its limits. */
  async create (limits: CgroupLimits): Promise<void> {
    const memBytes = Math.floor(limits.memoryMb * 1024 * 1024)
    const quota = Math.max(1000, Math.round(limits.vcpus * CPU_PERIOD_US))
    if (this.layout.version === 2) {
      const root = this.layout.mount
      const enable = V2_CONTROLLERS.map((c) => `+${c}`).join(' ')
      await writeFile(join(root, 'cgroup.subtree_control'), enable)
      await mkdir(join(root, this.parentRel), { recursive: true })
      await writeFile(join(root, this.parentRel, 'cgroup.subtree_control'), enable)
      const dir = join(root, this.rel)
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, 'cgroup.subtree_control'), enable)
      await writeFile(join(dir, 'memory.max'), String(memBytes))
      try { await writeFile(join(dir, 'memory.swap.max'), '0') } catch { /* no swap accounting */ }
      await writeFile(join(dir, 'pids.max'), String(limits.pidsMax))
      await writeFile(join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`)
      return
    }
    for (const dir of this.dirs()) await mkdir(dir, { recursive: true })
    const mem = this.controllerDir('memory')
    // memsw (memory + swap) must be at least the memory limit: lower it last when shrinking, first when growing.
    const hasMemsw = await access(join(mem, 'memory.memsw.limit_in_bytes')).then(() => true, () => false)
    if (hasMemsw) {
      await writeFile(join(mem, 'memory.memsw.limit_in_bytes'), '-1')
    }
    await writeFile(join(mem, 'memory.limit_in_bytes'), String(memBytes))
    if (hasMemsw) await writeFile(join(mem, 'memory.memsw.limit_in_bytes'), String(memBytes))
    await writeFile(join(this.controllerDir('pids'), 'pids.max'), String(limits.pidsMax))
    const cpu = this.controllerDir('cpu')
    await writeFile(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US))
    await writeFile(join(cpu, 'cpu.cfs_quota_us'), String(quota))
  }

  /** Creates a leaf for a process tree. */
  async makeLeaf (leaf: string): Promise<void> {
    await mkdir(join(this.leafRoot(), leaf), { recursive: true })
  }

  /** The same, synchronously (spawn and pty start synchronously). */
  makeLeafSync (leaf: string): void {
    mkdirSync(join(this.leafRoot(), leaf), { recursive: true })
  }

  /** The `cgroup.procs` files a process writes its pid into, in order, before it execs into the capsule. */
  procsFiles (leaf: string): string[] {
    if (this.layout.version === 2) return [join(this.layout.mount, this.rel, leaf, 'cgroup.procs')]
    const files = this.dirs().filter((d) => d !== this.leafRoot()).map((d) => join(d, 'cgroup.procs'))
    files.push(join(this.leafRoot(), leaf, 'cgroup.procs'))
    return files
  }

  /** Every pid in the leaf. */
  async leafPids (leaf: string): Promise<number[]> {
    return await readPids(join(this.leafRoot(), leaf, 'cgroup.procs'))
  }

  /** Every pid of the capsule (all leaves). */
  async pids (): Promise<number[]> {
    const root = this.leafRoot()
    const all = await readPids(join(root, 'cgroup.procs'))
    let entries: string[]
    try { entries = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name) } catch { return all }
    for (const leaf of entries) all.push(...await readPids(join(root, leaf, 'cgroup.procs')))
    return all
  }

  private async setFrozen (dir: string, frozen: boolean): Promise<void> {
    if (this.layout.version === 2) {
      await writeFile(join(dir, 'cgroup.freeze'), frozen ? '1' : '0')
      await until(frozen ? 'the freeze' : 'the thaw', 5000, async () => (await readKey(join(dir, 'cgroup.events'), 'frozen')) === (frozen ? 1 : 0))
      return
    }
    await writeFile(join(dir, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED')
    if (frozen) {
      await until('the freeze', 5000, async () => {
        const state = (await readFile(join(dir, 'freezer.state'), 'utf8')).trim()
        if (state === 'FREEZING') await writeFile(join(dir, 'freezer.state'), 'FROZEN')
        return state === 'FROZEN'
      })
    }
  }

  async freeze (): Promise<void> { await this.setFrozen(this.leafRoot(), true) }
  async thaw (): Promise<void> { await this.setFrozen(this.leafRoot(), false) }

  async frozen (): Promise<boolean> {
    try {
      if (this.layout.version === 2) return (await readKey(join(this.leafRoot(), 'cgroup.events'), 'frozen')) === 1
      return (await readFile(join(this.leafRoot(), 'freezer.state'), 'utf8')).trim() !== 'THAWED'
    } catch { return false }
  }

  /**
   * SIGKILLs every process of a leaf (or of the whole capsule with `leaf` undefined) and waits until none is left:
   * frozen first so nothing can fork in between (v2: cgroup.kill does it in one step). Killing all thaws the capsule
   * (a killed task dies only when it thaws); a single leaf must not be killed while the capsule is frozen (the
   * sandbox defers that to the resume). With only `exiting` left, nothing is done.
   */
  async kill (leaf?: string, exiting?: number): Promise<void> {
    const dir = leaf === undefined ? this.leafRoot() : join(this.leafRoot(), leaf)
    const list = leaf === undefined ? async () => await this.pids() : async () => await this.leafPids(leaf)
    // `exiting`: a process that is on its way out by itself; only the others make the kill necessary.
    if ((await list()).filter((p) => p !== exiting).length === 0) return
    if (this.layout.version === 2 && await access(join(dir, 'cgroup.kill')).then(() => true, () => false)) {
      await writeFile(join(dir, 'cgroup.kill'), '1')
    } else {
      await this.setFrozen(dir, true)
      for (const pid of await list()) killQuietly(pid, 'SIGKILL')
      await this.setFrozen(dir, false)
    }
    await until('the processes to die', 10_000, async () => (await list()).length === 0)
  }

  /** Removes a leaf once it is empty (kills what is left in it but `exiting`, which rmdir waits for). */
  async removeLeaf (leaf: string, exiting?: number): Promise<void> {
    await this.kill(leaf, exiting)
    await rmdirQuietly(join(this.leafRoot(), leaf))
  }

  async usage (): Promise<CgroupUsage> {
    if (this.layout.version === 2) {
      const dir = join(this.layout.mount, this.rel)
      return {
        cpuNs: (await readKey(join(dir, 'cpu.stat'), 'usage_usec')) * 1000,
        memoryBytes: await readNumber(join(dir, 'memory.current')),
        pids: await readNumber(join(dir, 'pids.current')),
      }
    }
    return {
      cpuNs: await readNumber(join(this.controllerDir('cpuacct'), 'cpuacct.usage')),
      memoryBytes: await readNumber(join(this.controllerDir('memory'), 'memory.usage_in_bytes')),
      pids: await readNumber(join(this.controllerDir('pids'), 'pids.current')),
    }
  }

  /** How many processes the kernel OOM-killed in this capsule so far. */
  async oomKills (): Promise<number> {
    try {
      if (this.layout.version === 2) return await readKey(join(this.layout.mount, this.rel, 'memory.events'), 'oom_kill')
      return await readKey(join(this.controllerDir('memory'), 'memory.oom_control'), 'oom_kill')
    } catch { return 0 }
  }

  /** Kills everything and removes the capsule's cgroup from every hierarchy. */
  async remove (): Promise<void> {
    await this.kill()
    try { await this.thaw() } catch { /* gone already */ }
    const root = this.leafRoot()
    try {
      for (const e of await readdir(root, { withFileTypes: true })) {
        if (e.isDirectory()) await rmdirQuietly(join(root, e.name))
      }
    } catch { /* no leaf root */ }
    for (const dir of this.dirs()) await rmdirQuietly(dir)
  }
}

/**
 * Removes a cgroup directory. A cgroup whose last processes were just killed can still be busy for a moment (its
 * tasks are gone from cgroup.procs before the kernel has finished with them): EBUSY is retried for up to 2 s.
 */
async function rmdirQuietly (dir: string): Promise<void> {
  const deadline = Date.now() + 2000
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      await rmdir(dir)
      return
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return
      if (code !== 'EBUSY' || Date.now() > deadline) throw err
    }
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
}
