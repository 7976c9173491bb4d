/**
 * Runs a `wasi:cli/run` component once, as Colony runs its component actors: in a worker thread with
 * preview2-shim's sandboxed filesystem over one host directory (no network, nothing else of the host). What a
 * capsule gets when a session's `wasm_path` is a component rather than a preview1 module.
 *
 * The directory must be one whose path means what it says on the host: preview2-shim resolves the preopen with
 * realpath and keeps every path under it, refusing links that climb out.
 */
import { ColonyError } from '../errors.js'
import type { ComponentCompiler } from '../wasm/compiler.js'
import { WasmInstance } from '../wasm/instance.js'
import type { ExecResult } from './driver.js'

export interface ComponentRunOptions {
  compiler: ComponentCompiler
  startTimeoutMs: number
  hostCallTimeoutMs: number
}

export interface ComponentRunRequest {
  bytes: Uint8Array
  /** The host directory the component sees as `/`. */
  dir: string
  argv0: string
  args: string[]
  env: Record<string, string>
  timeoutMs: number
  maxOutputBytes: number
  memoryLimitBytes: number
}

/** True for a component binary (the WebAssembly magic with a layer other than core modules'). */
export function isComponent (bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d &&
    !(bytes[4] === 1 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0)
}

/** Output cut at a byte limit, as an exec's is. */
class Capped {
  private readonly parts: Buffer[] = []
  private bytes = 0
  truncated = false
  constructor (private readonly max: number) {}
  push (text: string): void {
    const chunk = Buffer.from(text, 'utf8')
    const room = this.max - this.bytes
    if (room <= 0) { this.truncated ||= chunk.length > 0; return }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk
    if (part.length < chunk.length) this.truncated = true
    this.parts.push(part)
    this.bytes += part.length
  }

  get buffer (): Buffer { return Buffer.concat(this.parts) }
}

export async function runComponent (o: ComponentRunOptions, req: ComponentRunRequest): Promise<ExecResult> {
  const started = performance.now()
  const compiled = await o.compiler.prepare(req.bytes)
  const instance = await WasmInstance.start(compiled, {
    env: req.env,
    args: [req.argv0, ...req.args],
    preopens: { '/': req.dir },
    memoryLimitBytes: req.memoryLimitBytes,
    startTimeoutMs: o.startTimeoutMs,
    hostCallTimeoutMs: o.hostCallTimeoutMs,
  })
  // The output arrives as it is written (log events), so a run stopped by its timeout keeps what it printed.
  const stdout = new Capped(req.maxOutputBytes)
  const stderr = new Capped(req.maxOutputBytes)
  instance.on('log', (stream, text) => { (stream === 'stdout' ? stdout : stderr).push(text) })
  let exitCode: number
  let timedOut = false
  try {
    const outcome = await instance.call(['run', 'run'], [], req.timeoutMs, true)
    if (outcome.ok) exitCode = 'err' in outcome ? 1 : 0
    else if (outcome.kind === 'exit') exitCode = Number(/exit\((\d+)\)/.exec(outcome.message)?.[1] ?? 1)
    else if (outcome.kind === 'missing') {
      stderr.push(`${req.argv0}: the component exports no wasi:cli/run\n`)
      exitCode = 126
    } else {
      stderr.push(`${req.argv0}: ${outcome.message}\n`)
      exitCode = 134
    }
  } catch (err) {
    const code = (err as ColonyError).code
    if (code === 'invoke_timeout') {
      timedOut = true
      exitCode = 124
    } else if (code === 'wasm_memory_exceeded') {
      stderr.push(`${req.argv0}: ${(err as Error).message}\n`)
      exitCode = 137
    } else {
      throw new ColonyError('capsule_exec_failed', (err as Error).message, { cause: err })
    }
  } finally {
    await instance.terminate('the run ended')
  }
  return {
    stdout: stdout.buffer,
    stderr: stderr.buffer,
    exitCode,
    durationMs: Math.round(performance.now() - started),
    timedOut,
    truncated: stdout.truncated || stderr.truncated,
  }
}
