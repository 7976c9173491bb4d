// Renders nginx/colony.conf.template into an nginx.conf that fronts Colony (see README, "Behind nginx").
//
// Usage: node scripts/render-nginx.mjs [--listen 127.0.0.1:8088] [--upstream 127.0.0.1:8080] [--body-limit 1m]
//                                      [--upload-limit 50m] [--prefix /var/lib/colony-nginx] [--out file]
//   --listen        nginx's listen address (`port`, `host:port` or `[v6]:port`)
//   --upstream      Colony's HTTP address (http.host:http.port)
//   --body-limit    largest request body: Colony's http.bodyLimitBytes (bytes, or with k/m/g)
//   --upload-limit  largest component upload or update: Colony's wasm.maxComponentBytes
//   --prefix        absolute directory for the pid file, temp directories and access log
//   --read-timeout  how long nginx waits for Colony's answer to a request (seconds, or with ms/s/m): above
//                   wasm.callTimeoutMs (the default is that plus 30 s)
//   --tls-cert      PEM certificate (chain) file: serve HTTPS (and wss://) on --listen; needs --tls-key
//   --tls-key       its PEM private key file
//   --redirect-http with TLS: also listen here (e.g. 0.0.0.0:80) and send plain HTTP requests to the HTTPS address
//   --out           write there instead of stdout
// The defaults follow config/default.json; nginx/nginx.conf is the rendering with them (a test checks it is current).
import { readFileSync, writeFileSync } from 'node:fs'
import process from 'node:process'
import { URL, fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

export const TEMPLATE = fileURLToPath(new URL('../nginx/colony.conf.template', import.meta.url))
export const DEFAULT_OUTPUT = fileURLToPath(new URL('../nginx/nginx.conf', import.meta.url))

/**
 * @typedef {object} NginxOptions
 * @property {string} [listen]
 * @property {string} [upstream]
 * @property {string | number} [bodyLimit]
 * @property {string | number} [uploadLimit]
 * @property {string} [prefix]
 * @property {string | number} [readTimeout]
 * @property {string} [tlsCert]
 * @property {string} [tlsKey]
 * @property {string} [redirectHttp]
 */

/** @returns {Required<NginxOptions>} (no TLS: empty certificate and key) */
export function defaults () {
  /** @type {unknown} */
  const json = JSON.parse(readFileSync(new URL('../config/default.json', import.meta.url), 'utf8'))
  const config = /** @type {{ http: { host: string, port: number, bodyLimitBytes: number }, wasm: { maxComponentBytes: number, callTimeoutMs: number } }} */ (json)
  return {
    listen: '127.0.0.1:8088',
    upstream: `${config.http.host}:${config.http.port}`,
    bodyLimit: config.http.bodyLimitBytes,
    uploadLimit: config.wasm.maxComponentBytes,
    prefix: '/var/lib/colony-nginx',
    readTimeout: `${Math.ceil(config.wasm.callTimeoutMs / 1000) + 30}s`,
    tlsCert: '',
    tlsKey: '',
    redirectHttp: '',
  }
}

/** What a multipart upload carries besides the component: part headers, the boundary, the small text fields. */
const MULTIPART_HEADROOM = 128 * 1024

const ADDRESS = /^(?:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?\d{1,5}$/
const SIZE = /^(\d+)([kmg]?)$/i
const UNIT = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/**
 * An nginx size (`1048576`, `512k`, `1m`, `2g`) in bytes.
 * @param {string | number} size
 * @param {string} what
 */
export function toBytes (size, what) {
  const m = SIZE.exec(String(size).trim())
  if (m === null || Number(m[1]) === 0) throw new Error(`${what} must be a size like 1048576, 512k or 50m (got ${JSON.stringify(size)})`)
  return Number(m[1]) * UNIT[/** @type {'' | 'k' | 'm' | 'g'} */ ((m[2] ?? '').toLowerCase())]
}

/**
 * An nginx time (`90`, `90s`, `500ms`, `2m`); a bare number is seconds.
 * @param {string | number} value
 * @param {string} what
 */
function duration (value, what) {
  const m = /^(\d+)(ms|s|m)?$/.exec(String(value).trim())
  if (m === null || Number(m[1]) === 0) throw new Error(`${what} must be a time like 90, 90s, 500ms or 2m (got ${JSON.stringify(value)})`)
  return `${m[1]}${m[2] ?? 's'}`
}

/**
 * @param {string} value
 * @param {string} what
 */
function address (value, what) {
  if (!ADDRESS.test(value)) throw new Error(`${what} must be port, host:port or [v6]:port (got ${JSON.stringify(value)})`)
  return value
}

/**
 * The nginx configuration for these options (the rest from `defaults()`); throws on a value nginx would misread.
 * @param {NginxOptions} [options]
 */
export function renderNginx (options = {}) {
  const o = { ...defaults(), ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) }
  if (!/^\/[A-Za-z0-9._/-]*$/.test(o.prefix)) throw new Error(`prefix must be an absolute path of A-Z a-z 0-9 . _ - / (got ${JSON.stringify(o.prefix)})`)
  if ((o.tlsCert === '') !== (o.tlsKey === '')) throw new Error('TLS needs both a certificate (--tls-cert) and a key (--tls-key)')
  const tls = o.tlsCert !== ''
  for (const [what, file] of [['certificate', o.tlsCert], ['key', o.tlsKey]]) {
    if (tls && !/^\/[A-Za-z0-9._/-]*$/.test(file)) throw new Error(`the TLS ${what} must be an absolute path of A-Z a-z 0-9 . _ - / (got ${JSON.stringify(file)})`)
  }
  if (o.redirectHttp !== '' && !tls) throw new Error('--redirect-http sends requests to HTTPS: it needs --tls-cert and --tls-key')
  const listen = address(o.listen, 'listen')
  const httpsPort = /(\d+)$/.exec(listen)?.[1] ?? '443'
  /** @type {Record<string, string>} */
  const values = {
    listen_tls: tls ? ' ssl' : '',
    redirect_server: o.redirectHttp === '' ? '' : [
      '# Plain HTTP: every request is sent to the HTTPS address, method and body kept (308).',
      'server {',
      `    listen ${address(o.redirectHttp, 'redirect-http')};`,
      '    server_name _;',
      `    return 308 https://$host${httpsPort === '443' ? '' : `:${httpsPort}`}$request_uri;`,
      '}',
    ].join('\n    '),
    tls: tls ? [
      '# HTTPS: clients reach /ws and /mqtt as wss://; Colony learns the scheme from X-Forwarded-Proto.',
      `ssl_certificate ${o.tlsCert};`,
      `ssl_certificate_key ${o.tlsKey};`,
      'ssl_protocols TLSv1.2 TLSv1.3;',
      'ssl_prefer_server_ciphers off;',
      'ssl_session_cache shared:colony_tls:10m;',
      'ssl_session_timeout 1d;',
      'ssl_session_tickets off;',
    ].join('\n        ') : '',
    hsts: tls ? 'add_header Strict-Transport-Security "max-age=63072000" always;' : '',
    listen,
    upstream: address(o.upstream, 'upstream'),
    body_limit: String(toBytes(o.bodyLimit, 'body limit')),
    upload_limit: String(toBytes(o.uploadLimit, 'upload limit')),
    upload_body_limit: String(toBytes(o.uploadLimit, 'upload limit') + MULTIPART_HEADROOM),
    read_timeout: duration(o.readTimeout, 'read timeout'),
    prefix: o.prefix.replace(/(.)\/+$/, '$1'),
  }
  /** @param {string} name */
  const value = (name) => {
    const v = values[name]
    if (v === undefined) throw new Error(`the template uses an unknown variable {{${name}}}`)
    return v
  }
  return readFileSync(TEMPLATE, 'utf8')
    // A line that is only a variable rendering to nothing goes away with its line break.
    .replace(/^[ \t]*\{\{(\w+)\}\}[ \t]*\n/gm, (line, /** @type {string} */ name) => value(name) === '' ? '' : line)
    .replace(/\{\{(\w+)\}\}/g, (_, /** @type {string} */ name) => value(name))
}

/** @param {string[]} argv */
function main (argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string' },
      upstream: { type: 'string' },
      'body-limit': { type: 'string' },
      'upload-limit': { type: 'string' },
      prefix: { type: 'string' },
      'read-timeout': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'redirect-http': { type: 'string' },
      out: { type: 'string' },
    },
  })
  const text = renderNginx({
    listen: values.listen,
    upstream: values.upstream,
    bodyLimit: values['body-limit'],
    uploadLimit: values['upload-limit'],
    prefix: values.prefix,
    readTimeout: values['read-timeout'],
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    redirectHttp: values['redirect-http'],
  })
  if (values.out === undefined) process.stdout.write(text)
  else writeFileSync(values.out, text)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`render-nginx: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  }
}
