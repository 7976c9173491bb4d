/**
 * A tiny Prometheus registry: components register collectors (read at scrape time, so hot paths only bump
 * plain counters) and `/metrics` renders the text exposition format 0.0.4.
 */
export type MetricType = 'counter' | 'gauge'
export type Labels = Record<string, string>
export type Sample = number | Array<[Labels, number]>

interface Collector { name: string, help: string, type: MetricType, collect: () => Sample }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

export class Metrics {
  private readonly collectors = new Map<string, Collector>()

  register (name: string, help: string, type: MetricType, collect: () => Sample): () => void {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`)
    if (this.collectors.has(name)) throw new Error(`metric ${name} registered twice`)
    const collector = { name, help, type, collect }
    this.collectors.set(name, collector)
    // Only ever removes this registration: a stale unregister must not remove a later owner of the name.
    return () => { if (this.collectors.get(name) === collector) this.collectors.delete(name) }
  }

  render (): string {
    const lines: string[] = []
    for (const c of this.collectors.values()) {
      lines.push(`# HELP ${c.name} ${c.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`)
      lines.push(`# TYPE ${c.name} ${c.type}`)
      const sample = c.collect()
      if (typeof sample === 'number') lines.push(`${c.name} ${format(sample)}`)
      else for (const [labels, value] of sample) lines.push(`${c.name}${renderLabels(labels)} ${format(value)}`)
    }
    return lines.join('\n') + '\n'
  }
}

function renderLabels (labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

function format (value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}
