/** A capsule's numbers: CPU, memory and processes from its cgroup, disk (measured by the caller) from its writable layer. */
import type { CapsuleStats } from '../driver.js'
import type { CapsuleCgroup } from './cgroup.js'

export async function capsuleStats (cgroup: CapsuleCgroup | undefined, disk: number): Promise<CapsuleStats> {
  if (cgroup === undefined) return { cpuNs: 0, memoryBytes: 0, diskBytes: disk, pids: 0 }
  try {
    const usage = await cgroup.usage()
    return { ...usage, diskBytes: disk }
  } catch {
    return { cpuNs: 0, memoryBytes: 0, diskBytes: disk, pids: 0 }
  }
}

/** Watches a capsule's OOM-kill counter: `check()` reports each new kill once. */
export class OomWatch {
  private seen = 0
  private readonly cgroup: CapsuleCgroup
  private readonly onOom: () => void
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<void> | undefined

  constructor (cgroup: CapsuleCgroup, onOom: () => void) {
    this.cgroup = cgroup
    this.onOom = onOom
  }

  async start (pollMs: number): Promise<void> {
    this.seen = await this.cgroup.oomKills()
    this.timer = setInterval(() => { void this.check() }, pollMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  check (): Promise<void> {
    this.checking ??= (async () => {
      try {
        const n = await this.cgroup.oomKills()
        if (n > this.seen) {
          this.seen = n
          this.onOom()
        }
      } finally {
        this.checking = undefined
      }
    })()
    return this.checking
  }
}
