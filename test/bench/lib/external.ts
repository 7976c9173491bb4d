import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { freePort, sleep } from './proc.js'

/** Finds a program on PATH; Debian puts mosquitto in /usr/sbin, which a non-root PATH may lack. */
export function which (name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    if (dir === '') continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch { /* not here */ }
  }
  return undefined
}

export interface Mosquitto { pid: number, port: number, stop(): Promise<void> }

/**
 * What the benchmarks give Mosquitto besides a listener: no queue or in-flight limits (its defaults, 20 in flight
 * and 1 000 queued per client, silently drop QoS 1 beyond that, which would make it look faster by losing
 * messages) and TCP_NODELAY, which Colony's listener sets too. Printed with every table that has Mosquitto in it.
 *
 * Why Mosquitto costs ~20-27 µs per QoS 0 message here although it is C: `strace -c` on Debian's 2.0.11 in the
 * fan-in shows 4 `read`s (type byte, two length bytes, the rest), 4 `epoll_ctl`s (half of them failing) and 1 `write`
 * per message, and each write is a TCP segment through the VM's loopback. Its defaults (Nagle on, limits on) measured the same 21-22 µs
 * (45k msg/s), so the tuning above is not what makes it slow; Colony's listener coalesces a turn's writes instead.
 */
export const MOSQUITTO_TUNING = ['max_inflight_messages 0', 'max_inflight_bytes 0', 'max_queued_messages 0', 'max_queued_bytes 0', 'set_tcp_nodelay true']

/** Starts Mosquitto on a free loopback port with a throwaway config; undefined when it is not installed. */
export async function startMosquitto (): Promise<Mosquitto | undefined> {
  const bin = which('mosquitto')
  if (bin === undefined) return undefined
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'colony-bench-mosquitto-'))
  const conf = join(dir, 'mosquitto.conf')
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...MOSQUITTO_TUNING, 'log_dest stderr', 'log_type error', 'log_type warning']
  writeFileSync(conf, `${lines.join('\n')}\n`)
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[mosquitto] ${d.toString()}`))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitForPort(port, child)
  } catch (err) {
    await stop()
    throw err
  }
  return { pid: child.pid as number, port, stop }
}

async function waitForPort (port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
  throw new Error(`mosquitto did not listen on ${port}`)
}

export interface WrkResult {
  requestsPerSec: number
  requests: number
  non2xx: number
  socketErrors: number
  p50Ms: number
  p99Ms: number
  /** wrk's own CPU time (user + system), so the load generator's cost is on the table too. */
  cpuUs: number
}

/**
 * Runs wrk against `url` and parses its summary. It runs under bash, whose `times` prints the CPU its children
 * used once wrk has exited (wrk's /proc entry is gone by then).
 */
export function runWrk (url: string, connections: number, durationS: number, headers: Record<string, string> = {}): Promise<WrkResult> {
  const bin = which('wrk') as string
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])
  const script = 'bin="$1"; shift; "$bin" "$@"; rc=$?; times >&2; exit $rc'
  const args = ['-c', script, 'colony-bench-wrk', bin, '-t1', `-c${connections}`, `-d${durationS}s`, '--latency', ...headerArgs, url]
  return new Promise((resolve, reject) => {
    execFile('bash', args, { timeout: (durationS + 30) * 1000 }, (err, stdout, stderr) => {
      if (err !== null) { reject(new Error(err.message, { cause: err })); return }
      const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? 0)
      resolve({
        requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
        requests: num(/(\d+) requests in/),
        non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/),
        socketErrors: [...stdout.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0),
        p50Ms: latencyMs(stdout, '50%'),
        p99Ms: latencyMs(stdout, '99%'),
        cpuUs: childrenCpuUs(stderr),
      })
    })
  })
}

/** The children's line of bash's `times` ("0m1.250s 0m0.310s": user, system), the last line it printed. */
export function childrenCpuUs (timesOutput: string): number {
  const lines = timesOutput.trim().split('\n')
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines.at(-1)?.trim() ?? '')
  if (m === null) return NaN
  return Math.round(((Number(m[1]) * 60 + Number(m[2])) + (Number(m[3]) * 60 + Number(m[4]))) * 1e6)
}

function latencyMs (out: string, label: string): number {
  const m = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out)
  if (m === null) return NaN
  const scale = m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1
  return Number(m[1]) * scale
}
