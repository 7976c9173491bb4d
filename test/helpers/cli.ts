import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const CLI = new URL('../../src/main.js', import.meta.url).pathname

export interface CliRun {
  child: ChildProcess
  stdout: string[]
  stderr: string[]
  lines: EventEmitter
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

const running = new Set<ChildProcess>()

/** Kills every child a test left running, so a failed test cannot keep mocha from exiting. */
export function killAll (): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}

/** Runs `colony` as users do, as a child process; every output line is kept and emitted as 'line'. */
export function runCli (args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  child.once('exit', () => running.delete(child))
  const lines = new EventEmitter()
  const stdout: string[] = []
  const stderr: string[] = []
  collect(child.stdout, stdout, lines)
  collect(child.stderr, stderr, lines)
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  return { child, stdout, stderr, lines, exited }
}

function collect (stream: NodeJS.ReadableStream | null, into: string[], lines: EventEmitter): void {
  let rest = ''
  stream?.on('data', (chunk: Buffer) => {
    rest += chunk.toString()
    const parts = rest.split('\n')
    rest = parts.pop() ?? ''
    for (const line of parts) {
      into.push(line)
      lines.emit('line', line)
    }
  })
}

/** Starts the CLI on free ports and resolves with its URLs once it prints that it is ready. */
export async function startCli (extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliRun & { urls: { http: string, mqtt: string } }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'colony-cli-'))
  const run = runCli(['--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, ...extra], env)
  const urls = await new Promise<{ http: string, mqtt: string }>((resolve, reject) => {
    const onLine = (line: string): void => {
      if (!(line.startsWith('colony ') && line.includes(' ready'))) return
      run.lines.off('line', onLine)
      resolve({ http: /REST (http:\/\/\S+)\/api/.exec(line)?.[1] ?? '', mqtt: /MQTT (mqtt:\/\/\S+)/.exec(line)?.[1] ?? '' })
    }
    run.lines.on('line', onLine)
    void run.exited.then(({ code }) => reject(new Error(`colony exited with ${code}: ${run.stderr.join('\n')}`)))
  })
  return { ...run, urls }
}

/**
 * Starts the CLI on free ports over an existing data dir in `auth.mode: required` (cheap scrypt), as the kill -9
 * tests restart it, and resolves once it is ready with its URLs and the ready line.
 */
export async function startOnDataDir (dataDir: string, env: Record<string, string> = {}): Promise<CliRun & { http: string, mqtt: string, readyLine: string }> {
  const run = runCli(['--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir], {
    COLONY_AUTH_MODE: 'required',
    COLONY_AUTH_SCRYPT_N: '4096',
    ...env,
  })
  const line = await new Promise<string>((resolve, reject) => {
    run.lines.on('line', (l: string) => { if (l.startsWith('colony ') && l.includes(' ready')) resolve(l) })
    void run.exited.then(({ code }) => reject(new Error(`colony exited with ${code}: ${run.stderr.join('\n')}`)))
  })
  return { ...run, http: /REST (http:\/\/\S+)\/api/.exec(line)?.[1] ?? '', mqtt: /MQTT (mqtt:\/\/\S+)/.exec(line)?.[1] ?? '', readyLine: line }
}
