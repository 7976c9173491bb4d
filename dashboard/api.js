// REST calls with the signed-in credential: an API key (`col_...`) as X-API-Key, anything else as a bearer token.

export class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export function createApi (credential) {
  // No credential: local development mode (Colony on loopback, reached directly, accepts requests without one).
  const auth = credential === '' ? {} : credential.startsWith('col_') ? { 'x-api-key': credential } : { authorization: `Bearer ${credential}` }
  return async function api (method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { ...auth, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    let json
    try { json = text === '' ? undefined : JSON.parse(text) } catch { json = undefined }
    if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? 'http_error', json?.error?.message ?? `${method} ${path}: ${res.status}`)
    return json
  }
}

/** The URL of a WebSocket endpoint on this origin (ws: or wss: as the page). */
export function wsUrl (path) {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`
}
