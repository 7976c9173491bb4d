/**
 * wasmrun's agent API (`/api/v1/sessions`), as Colony runs it: a session is a capsule underneath (the same
 * sandbox, so the same isolation), with wasmrun's id, idle timeout, limits and answers. Its files live in the
 * capsule user's home (wasmrun's `/`): a leading `/` is stripped and `..` is refused, as wasmrun does. `exec` runs a
 * `wasm_path` through the driver's runWasm (a WASI preview1 module, or a `wasi:cli/run` component: Colony's
 * addition) or a `command` (a real `sh -c` in the sandbox, where wasmrun has a small built-in shell; the wasi
 * driver has no shell).
 */
import { randomBytes } from 'node:crypto'
import { posix } from 'node:path'
import { ColonyError } from '../errors.js'
import type { Clock } from '../clock.js'
import type { CapsuleRecord } from '../store/index.js'
import type { CapsuleSandbox } from './driver.js'
import { listDir, readFile, removePath, writeFile } from './files.js'
import type { CapsuleCaller, CapsuleService, SessionSpec } from './service.js'

/** wasmrun's defaults. */
export const SESSION_DEFAULTS = { maxSessions: 100, idleTimeoutSec: 300, maxMemoryMb: 256, maxOutputMb: 10, maxFileSizeMb: 50, execTimeoutSec: 30 }

export interface SessionLimits { max_memory_mb?: number, max_output_mb?: number, max_file_size_mb?: number }

export interface SessionStatus {
  session_id: string
  state: 'active'
  created_at_elapsed_ms: number
  last_accessed_elapsed_ms: number
  timeout_secs: number
}

export interface SessionExec {
  command?: string
  wasm_path?: string
  function?: string
  args?: string[]
  timeout?: number
  env?: Record<string, string>
  stdin?: string
}

export interface SessionExecResult {
  stdout: string
  stderr: string
  exit_code: number
  duration_ms: number
  output_truncated?: true
  error?: string
}

export class SessionService {
  constructor (private readonly o: { capsules: CapsuleService, clock: Clock, maxSessions?: number, idleTimeoutSec?: number }) {}

  private now (): number {
    return this.o.clock.now()
  }

  private sessionRows (as: CapsuleCaller): Array<{ row: CapsuleRecord, session: SessionSpec }> {
    const out: Array<{ row: CapsuleRecord, session: SessionSpec }> = []
    for (const row of this.o.capsules.rows()) {
      const session = this.o.capsules.spec(row).session
      if (session !== undefined && (as.isAdmin || row.teamId === as.teamId)) out.push({ row, session })
    }
    return out
  }

  private expired (row: CapsuleRecord, session: SessionSpec): boolean {
    const last = this.o.capsules.lastActive(row) ?? row.createdAtMs
    return session.idleTimeoutSec > 0 && this.now() - last > session.idleTimeoutSec * 1000
  }

  /** The caller's live session: 404 unknown (or another team's), 410 expired (and then cleaned up). */
  private async find (as: CapsuleCaller, id: string): Promise<{ row: CapsuleRecord, session: SessionSpec }> {
    const found = this.sessionRows(as).find((s) => s.session.id === id)
    if (found === undefined) throw new ColonyError('session_not_found', `Session ${id.slice(0, 64)} not found`)
    if (this.expired(found.row, found.session)) {
      await this.o.capsules.destroy(as, found.row.id).catch(() => undefined)
      throw new ColonyError('session_expired', `Session ${id} has expired`)
    }
    return found
  }

  private async sandbox (as: CapsuleCaller, id: string): Promise<{ row: CapsuleRecord, session: SessionSpec, sandbox: CapsuleSandbox }> {
    const found = await this.find(as, id)
    // A session paused or hibernated under it (a restart) is brought back: wasmrun's sessions are always active.
    if (found.row.status !== 'running') await this.o.capsules.resume(as, found.row.id)
    this.o.capsules.touch(found.row.id)
    return { ...found, sandbox: this.o.capsules.running(as, found.row.id) }
  }

  async create (as: CapsuleCaller, limits: SessionLimits = {}): Promise<{ session_id: string, created_at: string }> {
    const live = this.sessionRows({ teamId: null, isAdmin: true }).filter((s) => !this.expired(s.row, s.session))
    const max = this.o.maxSessions ?? SESSION_DEFAULTS.maxSessions
    if (max > 0 && live.length >= max) throw new ColonyError('session_limit', `Maximum number of sessions (${max}) reached`)
    const id = randomBytes(16).toString('hex')
    const mb = (v: number | undefined, d: number): number => v !== undefined && v > 0 ? v : d
    const session: SessionSpec = {
      id,
      idleTimeoutSec: this.o.idleTimeoutSec ?? SESSION_DEFAULTS.idleTimeoutSec,
      maxOutputBytes: mb(limits.max_output_mb, SESSION_DEFAULTS.maxOutputMb) * 1024 * 1024,
      maxFileBytes: mb(limits.max_file_size_mb, SESSION_DEFAULTS.maxFileSizeMb) * 1024 * 1024,
    }
    const view = await this.o.capsules.create(as, { memory_mb: mb(limits.max_memory_mb, SESSION_DEFAULTS.maxMemoryMb) }, session)
    return { session_id: id, created_at: view.created_at }
  }

  status (row: CapsuleRecord, session: SessionSpec): SessionStatus {
    return {
      session_id: session.id,
      state: 'active',
      created_at_elapsed_ms: Math.max(0, this.now() - row.createdAtMs),
      last_accessed_elapsed_ms: Math.max(0, this.now() - (this.o.capsules.lastActive(row) ?? row.createdAtMs)),
      timeout_secs: session.idleTimeoutSec,
    }
  }

  /** wasmrun: newest first, expired ones left out. */
  list (as: CapsuleCaller): { sessions: SessionStatus[], count: number } {
    const sessions = this.sessionRows(as).filter((s) => !this.expired(s.row, s.session))
      .sort((a, b) => b.row.createdAtMs - a.row.createdAtMs).map((s) => this.status(s.row, s.session))
    return { sessions, count: sessions.length }
  }

  async get (as: CapsuleCaller, id: string): Promise<SessionStatus> {
    const { row, session } = await this.find(as, id)
    return this.status(row, session)
  }

  async destroy (as: CapsuleCaller, id: string): Promise<{ message: string }> {
    const { row } = await this.find(as, id)
    await this.o.capsules.destroy(as, row.id)
    return { message: `Session ${id} destroyed` }
  }

  /** `encoding: "base64"` (Colony's addition) carries binary files such as a .wasm module; wasmrun takes text only. */
  async writeFile (as: CapsuleCaller, id: string, path: string, content: string, encoding: 'utf-8' | 'base64' = 'utf-8'): Promise<{ message: string }> {
    const { sandbox, session } = await this.sandbox(as, id)
    const bytes = Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8')
    if (bytes.length > session.maxFileBytes) throw new ColonyError('file_too_large', `the file exceeds the session's limit of ${session.maxFileBytes} bytes`)
    const p = sessionPath(path)
    await writeFile(sandbox, p, bytes)
    return { message: `Written: ${p}` }
  }

  async readFile (as: CapsuleCaller, id: string, path: string): Promise<{ path: string, content: string }> {
    const { sandbox } = await this.sandbox(as, id)
    const p = sessionPath(path)
    return { path: p, content: (await readFile(sandbox, p)).toString('utf8') }
  }

  async listFiles (as: CapsuleCaller, id: string, path: string): Promise<{ path: string, entries: Array<{ name: string, is_dir: boolean, size: number }> }> {
    const { sandbox } = await this.sandbox(as, id)
    const p = sessionPath(path)
    const entries = await listDir(sandbox, p, 1)
    return { path: p, entries: entries.map((e) => ({ name: e.name, is_dir: e.type === 'directory', size: e.size })) }
  }

  async deleteFile (as: CapsuleCaller, id: string, path: string): Promise<{ message: string }> {
    const { sandbox } = await this.sandbox(as, id)
    const p = sessionPath(path)
    if (p === '.') throw new ColonyError('invalid_path', 'the session root cannot be deleted')
    await removePath(sandbox, p)
    return { message: `Deleted: ${p}` }
  }

  async setEnv (as: CapsuleCaller, id: string, vars: Record<string, string>): Promise<{ message: string }> {
    const { row } = await this.find(as, id)
    const spec = this.o.capsules.spec(row)
    this.o.capsules.setEnv(row.id, { ...spec.env, ...vars })
    this.o.capsules.touch(row.id)
    return { message: `Set ${Object.keys(vars).length} environment variable(s)` }
  }

  async getEnv (as: CapsuleCaller, id: string): Promise<{ env: Record<string, string> }> {
    const { row } = await this.find(as, id)
    return { env: this.o.capsules.spec(row).env }
  }

  /** wasmrun's exec: 200 whenever it ran; a timeout is exit_code -1 with an error and the partial output. */
  async exec (as: CapsuleCaller, id: string, req: SessionExec): Promise<SessionExecResult> {
    const { sandbox, session, row } = await this.sandbox(as, id)
    const timeout = req.timeout !== undefined && req.timeout > 0 ? Math.min(req.timeout, 3600) : SESSION_DEFAULTS.execTimeoutSec
    const common = {
      env: { ...this.o.capsules.spec(row).env, ...(req.env ?? {}) },
      timeoutMs: timeout * 1000,
      maxOutputBytes: session.maxOutputBytes,
      ...(req.stdin !== undefined && { stdin: Buffer.from(req.stdin, 'utf8') }),
    }
    let out
    if (req.command !== undefined && req.command !== '') {
      out = await sandbox.exec({ cmd: '/bin/sh', args: ['-c', req.command], ...common })
    } else if (req.wasm_path !== undefined && req.wasm_path !== '') {
      out = await sandbox.runWasm({ path: sessionPath(req.wasm_path), ...(req.function !== undefined && { fn: req.function }), args: req.args ?? [], ...common })
    } else {
      throw new ColonyError('invalid_body', 'exec needs a command or a wasm_path', { details: { field: 'command' } })
    }
    this.o.capsules.touch(row.id)
    return {
      stdout: out.stdout.toString('utf8'),
      stderr: out.stderr.toString('utf8'),
      exit_code: out.timedOut ? -1 : out.exitCode,
      duration_ms: Math.round(out.durationMs),
      ...(out.truncated && { output_truncated: true as const }),
      ...(out.timedOut && { error: `Execution timed out after ${timeout}s` }),
    }
  }
}

/** wasmrun's session paths: relative to the session root (the capsule user's home), no `..`. */
export function sessionPath (path: string): string {
  if (typeof path !== 'string' || path.includes('\0')) throw new ColonyError('invalid_path', 'path must be a string without NUL')
  const parts = path.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw new ColonyError('invalid_path', `path must not contain "..": ${path.slice(0, 200)}`)
  return parts.length === 0 ? '.' : posix.join(...parts)
}
