import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { extname } from 'node:path'
import type { Context, Next } from 'koa'

const DIR = new URL('../../../dashboard/', import.meta.url)
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
}

/** The dashboard loads nothing from elsewhere (it works offline) and runs no inline code. */
export const DASHBOARD_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
}

interface Asset { body: Buffer, type: string, etag: string }

/** Every file of dashboard/, read once at start: a few kilobytes, served from memory. */
function loadAssets (): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  for (const name of readdirSync(DIR)) {
    const type = TYPES[extname(name)]
    if (type === undefined) continue
    const body = readFileSync(new URL(name, DIR))
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` })
  }
  return assets
}

/** Is this request for the dashboard (public: the page itself holds no data; its API calls carry the credential)? */
export function isDashboardPath (method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/' || path.startsWith('/dashboard/'))
}

/**
 * Serves the dashboard: `GET /` is the page, `GET /dashboard/<file>` its scripts and styles. Revalidated by ETag
 * on every load (`no-cache`), so a new Colony version is picked up at once.
 */
export function dashboard () {
  const assets = loadAssets()
  return async function serveDashboard (ctx: Context, next: Next): Promise<void> {
    if (!isDashboardPath(ctx.method, ctx.path)) {
      await next()
      return
    }
    const asset = assets.get(ctx.path === '/' ? 'index.html' : ctx.path.slice('/dashboard/'.length))
    if (asset === undefined) {
      await next()
      return
    }
    ctx.set(DASHBOARD_HEADERS)
    ctx.set('cache-control', 'no-cache')
    ctx.set('etag', asset.etag)
    if (ctx.get('if-none-match') === asset.etag) {
      ctx.status = 304
      return
    }
    ctx.type = asset.type
    ctx.body = asset.body
  }
}
