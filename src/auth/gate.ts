import { readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { IncomingHttpHeaders } from 'node:http'
import type { AuthMode, ColonyConfig } from '../config.js'
import { ColonyError } from '../errors.js'
import type { AuthService } from './service.js'
import type { Identity } from './identity.js'

/**
 * The one decision every door (REST, MQTT, `/ws`, `/mqtt`) makes: which identity a request carries. Given
 * credentials are always checked (wrong ones are 401 even in development mode); without credentials the answer
 * is the local admin only while anonymous access is allowed (`auth.mode: loopback` with loopback-only listeners).
 */
export class Gate {
  constructor (
    readonly auth: AuthService,
    readonly mode: AuthMode,
    /** True when anonymous requests are accepted (decided once at start from the bind addresses). */
    readonly anonymousAllowed: boolean,
  ) {}

  /**
   * `credential` undefined or empty means none was given. `notLocal` says why a request on a loopback listener is
   * not a local tool's (see `notLocalReason`): it then needs credentials like any remote one (mode `off` aside).
   */
  identify (credential: string | undefined, notLocal?: string): Identity {
    if (credential !== undefined && credential !== '') {
      if (this.mode === 'off') return this.auth.localIdentity()
      return this.auth.authenticate(credential)
    }
    if (this.mode === 'off' || (this.anonymousAllowed && notLocal === undefined)) return this.auth.localIdentity()
    throw new ColonyError('unauthorized', notLocal !== undefined
      ? `credentials required: ${notLocal} (an API key as X-API-Key or Bearer, or a JWT)`
      : 'credentials required: an API key (X-API-Key or Bearer) or a JWT (Bearer)')
  }

  identifyHeaders (headers: IncomingHttpHeaders, query?: URLSearchParams): Identity {
    const credential = credentialFrom(headers, query)
    // Where a request came from matters only when it carries no credential.
    return this.identify(credential, credential === undefined || credential === '' ? notLocalReason(headers) : undefined)
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * Why an HTTP request (or WebSocket upgrade) that reached a loopback listener is not from a local tool, so that
 * loopback development mode must not let it act as the admin; undefined when it is. A reverse proxy forwarded it;
 * or a browser sent it for another site (cross-site request forgery against localhost, cross-site WebSocket
 * hijacking: browsers send `Origin` and `Sec-Fetch-Site`); or it names a host that is not loopback (a DNS
 * rebinding page reaching 127.0.0.1 under its own name). curl, mosquitto and the dashboard itself pass.
 */
export function notLocalReason (headers: IncomingHttpHeaders): string | undefined {
  if (isProxied(headers)) return 'requests through a proxy are not local'
  const host = headers.host ?? ''
  const hostName = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0] ?? ''
  if (host !== '' && !LOOPBACK_HOSTS.has(hostName.toLowerCase()) && !hostName.toLowerCase().endsWith('.localhost')) {
    return `host ${JSON.stringify(host.slice(0, 64))} is not a loopback name`
  }
  if (headers['sec-fetch-site'] === 'cross-site' || headers['sec-fetch-site'] === 'same-site') return 'a page of another site sent this request'
  const origin = headers.origin
  if (origin !== undefined && origin !== 'null') {
    let originHost: string | undefined
    try { originHost = new URL(origin).host } catch { originHost = undefined }
    if (originHost !== host) return 'a page of another site sent this request'
  } else if (origin === 'null') {
    return 'a page of another site sent this request'
  }
  return undefined
}

/** Did a reverse proxy forward this request (nginx sets X-Forwarded-For / X-Real-IP; RFC 7239 proxies Forwarded)? */
export function isProxied (headers: IncomingHttpHeaders): boolean {
  return headers['x-forwarded-for'] !== undefined || headers['x-real-ip'] !== undefined || headers.forwarded !== undefined
}

/**
 * Credentials as HTTP clients send them: `X-API-Key`, `Authorization: Bearer`, a WebSocket subprotocol
 * `bearer.<token>` (browsers cannot set headers on a WebSocket), or `?token=`.
 */
export function credentialFrom (headers: IncomingHttpHeaders, query?: URLSearchParams): string | undefined {
  const key = headers['x-api-key']
  if (typeof key === 'string' && key !== '') return key.trim()
  const authorization = headers.authorization
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match === null) throw new ColonyError('unauthorized', 'the Authorization header must be "Bearer <token>"')
    return match[1]
  }
  const protocols = headers['sec-websocket-protocol']
  if (typeof protocols === 'string') {
    const bearer = protocols.split(',').map((p) => p.trim()).find((p) => p.startsWith('bearer.'))
    if (bearer !== undefined) return bearer.slice('bearer.'.length)
  }
  const token = query?.get('token')
  return token === null || token === undefined || token === '' ? undefined : token
}

/** The JWT signing secret: from config, or generated on first start and kept (mode 0600) in the data dir. */
export function jwtSecret (config: Readonly<ColonyConfig>): Buffer {
  if (config.auth.jwtSecret !== '') return Buffer.from(config.auth.jwtSecret, 'utf8')
  const file = join(config.data.dir, 'jwt.secret')
  try {
    const hex = readFileSync(file, 'utf8').trim()
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex')
    throw new ColonyError('data_dir_unusable', `${file} does not hold a 32-byte hex secret; remove it to generate a new one`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const secret = randomBytes(32)
  writeFileSync(file, secret.toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
  return secret
}
