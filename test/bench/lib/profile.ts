import { readFileSync } from 'node:fs'

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that a summary needs. */
interface CpuProfile {
  nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }>
  samples: number[]
  timeDeltas: number[]
}

export interface Frame { name: string, selfPct: number, totalPct: number }
export interface ProfileSummary { busyMs: number, self: Frame[], total: Frame[] }

/** `fn file:line` with the file's last two path segments: enough to find it, short enough to read. */
function frameName (f: CpuProfile['nodes'][number]['callFrame']): string {
  const file = f.url === '' ? '' : ` ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
  return `${f.functionName === '' ? '(anonymous)' : f.functionName}${file}`
}

/**
 * The frames a process spent its busy time in: self time (where the CPU was) and total time (what called it),
 * each as a share of the samples that were not idle. A function counts once per sample however deep it recurses.
 */
export function summarizeProfile (profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let busy = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)
    const dt = profile.timeDeltas[i] ?? 0
    if (node === undefined || node.callFrame.functionName === '(idle)') return
    busy += dt
    const name = frameName(node.callFrame)
    self.set(name, (self.get(name) ?? 0) + dt)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)
      if (frame === undefined) break
      const n = frameName(frame.callFrame)
      if (seen.has(n)) continue
      seen.add(n)
      total.set(n, (total.get(n) ?? 0) + dt)
    }
  })
  const rank = (m: Map<string, number>, key: 'selfPct' | 'totalPct'): Frame[] => [...m]
    .sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => ({ name, selfPct: key === 'selfPct' ? (100 * us) / busy : (100 * (self.get(name) ?? 0)) / busy, totalPct: key === 'totalPct' ? (100 * us) / busy : (100 * (total.get(name) ?? 0)) / busy }))
  return { busyMs: busy / 1000, self: rank(self, 'selfPct'), total: rank(total, 'totalPct').filter((f) => f.name !== '(root)') }
}

export function readProfile (file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
}

/** The summary as text: the top frames by self time, then by total time. */
export function renderProfile (title: string, s: ProfileSummary): string {
  const rows = (frames: Frame[], pct: (f: Frame) => number): string => frames.map((f) => `  ${pct(f).toFixed(1).padStart(5)} %  ${f.name}`).join('\n')
  return `--- profile ${title}: ${s.busyMs.toFixed(0)} ms busy\n top frames by self time:\n${rows(s.self, (f) => f.selfPct)}\n` +
    ` top frames by total time:\n${rows(s.total, (f) => f.totalPct)}`
}
