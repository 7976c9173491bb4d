import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A real `nats-server` (Debian's package, installed by scripts/setup.sh) on a port picked at run time, as nats.js'
 * own test kit runs it: `-p -1`, the chosen ports read back from the server's log.
 */
export interface NatsServer {
  url: string
  port: number
  /** The route listener (cluster mode only): other nodes' `routes`. */
  clusterUrl: string | undefined
  child: ChildProcess
  /** Everything the server logged. */
  log: string[]
  /** Resolves when the server has logged `count` route connections (a cluster has formed around it). */
  routes(count: number): Promise<void>
  /** SIGKILL, as a crash; resolves once the process is gone. */
  kill(): Promise<void>
  /** SIGTERM; resolves once the process is gone; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>
}

export interface NatsServerOptions {
  /** A fixed port (to restart a killed server where clients expect it); default: picked by the server. */
  port?: number
  cluster?: { name: string, routes?: string[], port?: number }
  /** Extra nats-server config file text (authorization blocks...). */
  conf?: string
}

const running = new Set<ChildProcess>()

/** For an `after` hook: nothing a failed test started may keep mocha from exiting. */
export function killAllNats (): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

export async function startNatsServer (options: NatsServerOptions = {}): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'colony-nats-'))
  const args = ['-a', '127.0.0.1', '-p', String(options.port ?? -1)]
  if (options.cluster !== undefined) {
    args.push('--cluster_name', options.cluster.name, '--cluster', `nats://127.0.0.1:${options.cluster.port ?? -1}`)
    if (options.cluster.routes !== undefined && options.cluster.routes.length > 0) args.push('--routes', options.cluster.routes.join(','))
  }
  if (options.conf !== undefined) {
    const file = join(dir, 'server.conf')
    writeFileSync(file, options.conf)
    args.push('-c', file)
  }
  const child = spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const log: string[] = []
  const lineWaiters: Array<() => void> = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve() }))
  let rest = ''
  const onData = (chunk: Buffer): void => {
    rest += chunk.toString()
    const lines = rest.split('\n')
    rest = lines.pop() ?? ''
    log.push(...lines)
    for (const w of lineWaiters.splice(0)) w()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const waitFor = (test: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server: timed out waiting for ${what}\n${log.join('\n')}`)), timeoutMs)
    const check = (): void => {
      if (test()) {
        clearTimeout(timer)
        resolve()
      } else if (child.exitCode !== null) {
        clearTimeout(timer)
        reject(new Error(`nats-server exited (${child.exitCode}) before ${what}:\n${log.join('\n')}`))
      } else lineWaiters.push(check)
    }
    check()
  })
  child.once('exit', () => { for (const w of lineWaiters.splice(0)) w() })
  // The ports the server chose, from its own log lines (its ports file may still be empty when it says it is ready).
  const listening = (what: string): string | undefined => {
    for (const l of log) {
      const m = new RegExp(`Listening for ${what} connections on (\\S+:\\d+)`).exec(l)
      if (m !== null) return m[1]
    }
    return undefined
  }
  try {
    await waitFor(() => log.some((l) => l.includes('Server is ready')), 'readiness')
    if (options.cluster !== undefined) await waitFor(() => listening('route') !== undefined, 'the route listener')
  } catch (err) {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const url = `nats://${listening('client') ?? ''}`
  const route = listening('route')
  let stopped = false
  return {
    url,
    port: Number(new URL(url).port),
    clusterUrl: route === undefined ? undefined : `nats://${route}`,
    child,
    log,
    routes: (count) => waitFor(() => log.filter((l) => l.includes('Route connection created')).length >= count, `${count} route(s)`),
    async kill () {
      if (child.exitCode === null) child.kill('SIGKILL')
      await exited
    },
    async stop () {
      if (stopped) return
      stopped = true
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A 3-node cluster on loopback: B and C route to A; resolves once every node sees the other two. */
export async function startNatsCluster (name = 'colony-test'): Promise<NatsServer[]> {
  const a = await startNatsServer({ cluster: { name } })
  const routes = [a.clusterUrl as string]
  const b = await startNatsServer({ cluster: { name, routes } })
  const c = await startNatsServer({ cluster: { name, routes } })
  await Promise.all([a.routes(2), b.routes(2), c.routes(2)])
  return [a, b, c]
}
