import { call, type Caller } from './components.js'
import type { JsonResponse } from './http.js'

/** `/v1/components/{id}/workers/{name}` and below. */
export function workerUrl (base: string, componentId: string, worker: string, tail = ''): string {
  return `${base}/v1/components/${componentId}/workers/${encodeURIComponent(worker)}${tail}`
}

/** `POST .../invoke-and-await?function=` (or `invoke` when `await` is false) with an optional Idempotency-Key. */
export async function invokeWorker (base: string, componentId: string, worker: string, fn: string, params: unknown[],
  o: Caller & { key?: string, await?: boolean } = {}): Promise<JsonResponse> {
  const url = workerUrl(base, componentId, worker, `/${o.await === false ? 'invoke' : 'invoke-and-await'}?function=${encodeURIComponent(fn)}`)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`
  if (o.key !== undefined) headers['idempotency-key'] = o.key
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ params }) })
  const text = await res.text()
  let body: unknown
  try { body = text === '' ? undefined : JSON.parse(text) } catch { body = text }
  return { status: res.status, body, headers: res.headers }
}

/** The single result value of a successful invoke-and-await (Golem's `result.value[0]`). */
export function resultValue (res: JsonResponse): unknown {
  if (res.status !== 200) throw new Error(`invocation failed: ${res.status} ${JSON.stringify(res.body)}`)
  return (res.body as { result: { value: unknown[] } }).result.value[0]
}

export async function workerMetadata (base: string, componentId: string, worker: string, c: Caller = {}): Promise<JsonResponse> {
  return await call('GET', workerUrl(base, componentId, worker), undefined, c)
}

/** Every oplog entry of a worker, paged through 1000 at a time. */
export async function wholeOplog (base: string, componentId: string, worker: string, c: Caller = {}): Promise<Array<{ oplogIndex: number, entry: any }>> {
  const out: Array<{ oplogIndex: number, entry: any }> = []
  let from = 1
  for (;;) {
    const page = await call('GET', workerUrl(base, componentId, worker, `/oplog?from=${from}&count=1000`), undefined, c)
    if (page.status !== 200) throw new Error(`oplog: ${page.status} ${JSON.stringify(page.body)}`)
    out.push(...page.body.entries)
    if (page.body.next === undefined) return out
    from = page.body.next.nextOplogIndex
  }
}
