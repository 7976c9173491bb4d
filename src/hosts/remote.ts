/**
 * Capsules on a joined Colony, driven through this one. This Colony calls the joined one's own Wrenn API
 * (`/v1/capsules...`) with the API key the joined Colony handed over at registration (sealed in the store), and
 * keeps, per capsule, which host runs it, which team owns it here and its last known view: the joined Colony's
 * key acts for its own admin team, so this record is what keeps teams apart on this side.
 */
import { ColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import type { Store } from '../store/index.js'
import type { HostService } from './service.js'

export interface RemoteCaller { teamId: string | null, isAdmin: boolean }
export interface Forwarded { status: number, body: Buffer, type: string | null }

/** Longer than any foreground exec (1 h at most) may take on the joined Colony. */
const FORWARD_TIMEOUT_MS = 3_660_000
const LIST_TIMEOUT_MS = 10_000

export class RemoteCapsules {
  constructor (private readonly o: { store: Store, hosts: HostService, log: Logger }) {}

  /** The record of a capsule the caller may drive on a joined Colony, or undefined (a local one, or none). */
  owned (as: RemoteCaller, capsuleId: string): { hostId: string } | undefined {
    const row = this.o.store.hosts.capsule(capsuleId)
    if (row === undefined || (!as.isAdmin && row.teamId !== as.teamId)) return undefined
    return { hostId: row.hostId }
  }

  private async send (base: string, apiKey: string, method: string, path: string, body: Buffer | undefined, timeoutMs: number, type = 'application/json'): Promise<Forwarded> {
    let res: Response
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { 'x-api-key': apiKey, ...(body !== undefined && { 'content-type': type }) },
        ...(body !== undefined && { body }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      })
    } catch (err) {
      throw new ColonyError('host_unavailable', `the host could not be reached: ${(err as Error).message}`)
    }
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') }
  }

  /** `POST /v1/capsules` on the joined Colony; the answer is its capsule with `host_id`. */
  async create (as: RemoteCaller, hostId: string, body: Record<string, unknown>): Promise<{ status: number, body: unknown }> {
    const t = this.o.hosts.target(as, hostId)
    const out = await this.send(t.base, t.apiKey, 'POST', '/v1/capsules', Buffer.from(JSON.stringify(body)), FORWARD_TIMEOUT_MS)
    const parsed = parse(out.body)
    if (out.status !== 201) return { status: out.status, body: parsed }
    const view: Record<string, unknown> = { ...(parsed as Record<string, unknown>), host_id: hostId }
    if (typeof view.id !== 'string') throw new ColonyError('host_unavailable', 'the host answered without a capsule id')
    this.o.store.hosts.putCapsule({ capsuleId: view.id, hostId, teamId: as.teamId, view: JSON.stringify(view) })
    return { status: 201, body: view }
  }

  /** The caller's capsules on joined Colonies: fresh from each host, the last known view (status `missing`) from one that does not answer. */
  async list (as: RemoteCaller): Promise<Array<Record<string, unknown>>> {
    const rows = this.o.store.hosts.capsules().filter((r) => as.isAdmin || r.teamId === as.teamId)
    const byHost = new Map<string, typeof rows>()
    for (const r of rows) byHost.set(r.hostId, [...(byHost.get(r.hostId) ?? []), r])
    const out: Array<Record<string, unknown>> = []
    for (const [hostId, mine] of byHost) {
      let fresh: Map<string, Record<string, unknown>> | undefined
      try {
        const h = this.o.hosts.hostRecord(hostId)
        if (h !== undefined) {
          const t = this.o.hosts.reach(h)
          const res = await this.send(t.base, t.apiKey, 'GET', '/v1/capsules', undefined, LIST_TIMEOUT_MS)
          if (res.status === 200) fresh = new Map((parse(res.body) as Array<Record<string, unknown>>).map((c) => [String(c.id), c]))
        }
      } catch (err) {
        this.o.log.debug({ host: hostId, err: (err as Error).message }, 'a host did not answer a capsule list')
      }
      for (const r of mine) {
        const known = JSON.parse(r.view) as Record<string, unknown>
        const now = fresh?.get(r.capsuleId)
        if (fresh !== undefined && now === undefined) {
          this.o.store.hosts.removeCapsule(r.capsuleId) // destroyed over there (or by its own operator)
          continue
        }
        const view = now === undefined ? { ...known, status: 'missing' } : { ...now, host_id: hostId }
        if (now !== undefined) this.o.store.hosts.putCapsule({ ...r, view: JSON.stringify(view) })
        out.push(view)
      }
    }
    return out
  }

  /** Sends a request for a remote capsule to its host as it came (path, query, JSON body) and answers what the host answered. */
  async forward (as: RemoteCaller, capsuleId: string, method: string, pathAndQuery: string, body: Buffer | undefined, type?: string): Promise<Forwarded> {
    const owned = this.owned(as, capsuleId)
    if (owned === undefined) throw new ColonyError('capsule_not_found')
    const t = this.o.hosts.target(as, owned.hostId)
    const out = await this.send(t.base, t.apiKey, method, pathAndQuery, body, FORWARD_TIMEOUT_MS, type)
    const gone = method === 'DELETE' && pathAndQuery.split('?')[0] === `/v1/capsules/${capsuleId}` && (out.status === 204 || out.status === 404)
    if (gone) this.o.store.hosts.removeCapsule(capsuleId)
    return out
  }

  /** Where a remote capsule's host is reached, and with which key (for relaying its WebSockets). */
  endpoint (as: RemoteCaller, capsuleId: string): { base: string, apiKey: string } {
    const owned = this.owned(as, capsuleId)
    if (owned === undefined) throw new ColonyError('capsule_not_found')
    const t = this.o.hosts.target(as, owned.hostId)
    return { base: t.base, apiKey: t.apiKey }
  }

  /** A forced host delete: destroy on the host if it answers; the record goes either way (with the host row). */
  async destroy (hostId: string, capsuleId: string): Promise<void> {
    const h = this.o.hosts.hostRecord(hostId)
    if (h === undefined) return
    const t = this.o.hosts.reach(h)
    await this.send(t.base, t.apiKey, 'DELETE', `/v1/capsules/${encodeURIComponent(capsuleId)}`, undefined, LIST_TIMEOUT_MS * 3)
  }
}

function parse (body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new ColonyError('host_unavailable', 'the host answered something that is not JSON')
  }
}
