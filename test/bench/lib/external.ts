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

/** Starts Mosquitto on a free loopback port with a throwaway config; undefined when it is not installed. */
export async function startMosquitto (): Promise<Mosquitto | undefined> {
  const bin = which('mosquitto')
  if (bin === undefined) return undefined
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'colony-bench-mosquitto-'))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n`)
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

export interface WrkResult { requestsPerSec: number, requests: number, non2xx: number, socketErrors: number, p50Ms: number, p99Ms: number }

/** Runs wrk against `url` and parses its summary. */
export function runWrk (url: string, connections: number, durationS: number, headers: Record<string, string> = {}): Promise<WrkResult> {
  const bin = which('wrk') as string
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])
  return new Promise((resolve, reject) => {
    execFile(bin, ['-t1', `-c${connections}`, `-d${durationS}s`, '--latency', ...headerArgs, url], { timeout: (durationS + 30) * 1000 }, (err, stdout) => {
      if (err !== null) { reject(new Error(err.message, { cause: err })); return }
      const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? 0)
      resolve({
        requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
        requests: num(/(\d+) requests in/),
        non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/),
        socketErrors: [...stdout.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0),
        p50Ms: latencyMs(stdout, '50%'),
        p99Ms: latencyMs(stdout, '99%'),
      })
    })
  })
}

function latencyMs (out: string, label: string): number {
  const m = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out)
  if (m === null) return NaN
  const scale = m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1
  return Number(m[1]) * scale
}
