/**
 * `colony --join URL --token T`: this Colony registers itself as a host of the one at URL and beats, as Wrenn's
 * host agent does (`StartHeartbeat`): a beat at once and then every `hosts.joinHeartbeatMs`; a 401/403 refreshes the
 * credentials (rotation) and, when that fails too, the loop stops (the operator registers it again with a new
 * token); a 404 (the host was deleted) removes the credentials and stops; a network failure is retried at the
 * next beat.
 *
 * The credentials (host id, JWT, refresh token) live in `<data>/host-join.json` (mode 0600), so a restarted
 * Colony is the same host without a new token. At registration it hands the other Colony an API key of its own
 * admin team (created here, revocable here like any key), with which that Colony drives its capsules.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { arch, availableParallelism, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Clock, TimerHandle } from '../clock.js'
import type { Logger } from '../log.js'

export interface JoinOptions {
  url: string
  token: string
  /** Where the other Colony calls this one. */
  address: string
  heartbeatMs: number
  dataDir: string
  clock: Clock
  log: Logger
  /** A new API key for the other Colony to act with here, and how to drop it if the registration fails. */
  issueKey: () => { id: string, key: string }
  dropKey: (id: string) => void
  latticeHostId?: string
}

/** What the other Colony answers (credentials, or an error envelope). */
interface Answer { host?: { id: string }, token?: string, refresh_token?: string, error?: { code?: string } }

/** `api_key_id`: the key handed to the other Colony (its id only), revoked here when the host is deleted there. */
interface Saved { url: string, host_id: string, token: string, refresh_token: string, api_key_id?: string }

const FILE = 'host-join.json'
const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' }

export class JoinAgent {
  private creds: Saved | undefined
  private timer: { handle: TimerHandle } | undefined
  private stopped = false
  private readonly abort = new AbortController()
  /** For the heartbeat of this Colony's own status and tests. */
  beats = 0

  constructor (private readonly o: JoinOptions) {}

  get hostId (): string | undefined {
    return this.creds?.host_id
  }

  private get file (): string {
    return join(this.o.dataDir, FILE)
  }

  private load (): Saved | undefined {
    try {
      const s = JSON.parse(readFileSync(this.file, 'utf8')) as Saved
      return s.url === this.o.url ? s : undefined
    } catch {
      return undefined
    }
  }

  private save (s: Saved): void {
    this.creds = s
    writeFileSync(this.file, JSON.stringify(s), { mode: 0o600 })
    chmodSync(this.file, 0o600)
  }

  start (): void {
    this.creds = this.load()
    void this.tick()
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer.handle)
    this.abort.abort()
  }

  private next (): void {
    if (!this.stopped) this.timer = { handle: this.o.clock.setTimeout(() => { void this.tick() }, this.o.heartbeatMs) }
  }

  private async post (path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: Answer }> {
    const res = await fetch(`${this.o.url.replace(/\/+$/, '')}${path}`, {
      method: 'POST',
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(10_000)]),
    })
    const text = await res.text()
    let parsed: unknown
    try { parsed = text === '' ? undefined : JSON.parse(text) } catch { parsed = undefined }
    return { status: res.status, body: (parsed ?? {}) }
  }

  private async tick (): Promise<void> {
    try {
      if (this.creds === undefined) {
        if (!await this.register()) return
      }
      const ok = await this.beat()
      if (!ok) return
    } catch (err) {
      if (this.stopped) return
      this.o.log.warn({ err: (err as Error).message, url: this.o.url }, 'could not reach the Colony this one joined; trying again at the next beat')
    }
    this.next()
  }

  private async register (): Promise<boolean> {
    if (this.o.token === '') {
      this.o.log.error({ url: this.o.url }, 'no saved host credentials and no registration token (--token): not joining')
      return false
    }
    const key = this.o.issueKey()
    let res
    try {
      res = await this.post('/v1/hosts/register', {
        token: this.o.token, address: this.o.address, arch: ARCH[arch()] ?? arch(), cpu_cores: availableParallelism(),
        memory_mb: Math.floor(totalmem() / 1048576), api_key: key.key,
        ...(this.o.latticeHostId !== undefined && { lattice_host_id: this.o.latticeHostId }),
      })
    } catch (err) {
      this.o.dropKey(key.id)
      throw err
    }
    if (res.status !== 201) {
      this.o.dropKey(key.id)
      this.o.log.error({ url: this.o.url, status: res.status, code: res.body.error?.code }, 'registration as a host was refused: ask for a new registration token')
      return false
    }
    const { host, token, refresh_token: refresh } = res.body
    if (host === undefined || token === undefined || refresh === undefined) throw new Error('the registration answer has no credentials')
    this.save({ url: this.o.url, host_id: host.id, token, refresh_token: refresh, api_key_id: key.id })
    this.o.log.info({ url: this.o.url, hostId: host.id }, 'joined as a host')
    return true
  }

  /** One beat; false when the loop must end. */
  private async beat (): Promise<boolean> {
    const c = this.creds as Saved
    const res = await this.post(`/v1/hosts/${encodeURIComponent(c.host_id)}/heartbeat`, { address: this.o.address }, { 'x-host-token': c.token })
    if (res.status === 204) {
      this.beats++
      return true
    }
    if (res.status === 404) {
      rmSync(this.file, { force: true })
      this.creds = undefined
      if (c.api_key_id !== undefined) {
        try { this.o.dropKey(c.api_key_id) } catch { /* already revoked here */ }
      }
      this.o.log.error({ url: this.o.url, hostId: c.host_id }, 'this host was deleted by the Colony it joined: credentials and its API key removed, heartbeats stopped')
      return false
    }
    if (res.status === 401 || res.status === 403) {
      const r = await this.post('/v1/hosts/auth/refresh', { refresh_token: c.refresh_token })
      if (r.status !== 200 || r.body.token === undefined || r.body.refresh_token === undefined) {
        this.o.log.error({ url: this.o.url, hostId: c.host_id, status: r.status }, 'host credentials could not be refreshed: heartbeats stopped; register again with a new token')
        return false
      }
      this.save({ ...c, token: r.body.token, refresh_token: r.body.refresh_token })
      this.o.log.info({ hostId: c.host_id }, 'host credentials refreshed')
      return await this.beat()
    }
    this.o.log.warn({ url: this.o.url, status: res.status }, 'a heartbeat was not accepted')
    return true
  }
}
