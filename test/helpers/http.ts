/** Small fetch helpers: JSON in, status and JSON out. */
export interface JsonResponse { status: number, body: any, headers: Headers }

export async function request (method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const init: RequestInit = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? body as string : JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
  }
  const res = await fetch(url, init)
  const text = await res.text()
  let json: unknown
  try { json = text === '' ? undefined : JSON.parse(text) } catch { json = text }
  return { status: res.status, body: json, headers: res.headers }
}

export const get = (url: string): Promise<JsonResponse> => request('GET', url)
export const post = (url: string, body?: unknown): Promise<JsonResponse> => request('POST', url, body)
export const del = (url: string): Promise<JsonResponse> => request('DELETE', url)
