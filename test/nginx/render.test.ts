/**
 * The nginx front (nginx/colony.conf.template, scripts/render-nginx.mjs): the committed nginx/nginx.conf is the
 * current default rendering, renderings pass `nginx -t`, bad values are refused; and http.proxyAddresses is validated.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ColonyError } from '../../src/errors.js'
import { readDefaults } from '../../src/config.js'
import { loadConfig } from '../../src/assembly.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SCRIPT = join(ROOT, 'scripts', 'render-nginx.mjs')

import { selfSignedCertificate, type RenderOptions } from '../helpers/nginx.js'
/** What scripts/render-nginx.mjs exports (plain JS, so typed here). */
interface Renderer {
  renderNginx(options?: RenderOptions): string
  defaults(): Required<RenderOptions>
  DEFAULT_OUTPUT: string
}

function run (file: string, args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd: ROOT }, (error, stdout, stderr) => {
      resolve({ code: error ? (child.exitCode ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('nginx front: render-nginx.mjs and nginx/nginx.conf', function () {
  let r: Renderer
  let tmp: string

  before(async function () {
    r = (await import(pathToFileURL(SCRIPT).href)) as Renderer
    tmp = await mkdtemp(join(tmpdir(), 'colony-nginx-conf-'))
  })
  after(async function () {
    await rm(tmp, { recursive: true, force: true })
  })

  it('nginx/nginx.conf is the default rendering (else: node scripts/render-nginx.mjs --out nginx/nginx.conf)', async function () {
    assert.equal(r.DEFAULT_OUTPUT, join(ROOT, 'nginx', 'nginx.conf'))
    assert.equal(await readFile(r.DEFAULT_OUTPUT, 'utf8'), r.renderNginx(), 'nginx/nginx.conf is stale: node scripts/render-nginx.mjs --out nginx/nginx.conf')
  })

  it('the defaults follow config/default.json', function () {
    const config = readDefaults()
    assert.deepEqual(r.defaults(), {
      listen: '127.0.0.1:8088',
      upstream: `${String(config.http?.host)}:${String(config.http?.port)}`,
      bodyLimit: config.http?.bodyLimitBytes,
      uploadLimit: config.wasm?.maxComponentBytes,
      prefix: '/var/lib/colony-nginx',
      readTimeout: `${Number(config.wasm?.callTimeoutMs) / 1000 + 30}s`,
      tlsCert: '',
      tlsKey: '',
      redirectHttp: '',
    })
    const text = r.renderNginx()
    assert.match(text, /^\s*client_max_body_size 1048576;$/m)
    // The component limit plus 128 KiB for the multipart form around it; nginx's 413 names the component limit.
    assert.match(text, /^\s*client_max_body_size 52559872;$/m)
    assert.match(text, /"limit":52428800\}/)
    assert.match(text, /^\s*server 127\.0\.0\.1:8080;$/m)
    assert.match(text, /^\s*proxy_read_timeout 60s;$/m, 'wasm.callTimeoutMs (30 s) + 30 s: a slow call times out in Colony first')
    assert.match(r.renderNginx({ readTimeout: 150 }), /^\s*proxy_read_timeout 150s;$/m)
    assert.match(r.renderNginx({ readTimeout: '500ms' }), /^\s*proxy_read_timeout 500ms;$/m)
  })

  it('the CLI writes what renderNginx returns for the same flags', async function () {
    const out = join(tmp, 'cli.conf')
    const { code, stderr } = await run(process.execPath, [SCRIPT, '--listen', '8090', '--upstream', '[::1]:9000', '--body-limit', '512k',
      '--upload-limit', '2m', '--prefix', '/srv/nginx/', '--out', out])
    assert.equal(code, 0, stderr)
    const text = await readFile(out, 'utf8')
    assert.equal(text, r.renderNginx({ listen: '8090', upstream: '[::1]:9000', bodyLimit: '512k', uploadLimit: '2m', prefix: '/srv/nginx' }))
    assert.match(text, /^\s*listen 8090;$/m)
    assert.match(text, /^\s*server \[::1\]:9000;$/m)
    assert.match(text, /^\s*client_max_body_size 524288;$/m)
    assert.match(text, /^\s*client_max_body_size 2228224;$/m)
    assert.match(text, /^pid \/srv\/nginx\/nginx\.pid;$/m)
    assert.doesNotMatch(text, /\{\{/, 'every variable was replaced')
  })

  it('refuses values nginx would misread', async function () {
    const bad: Array<[RenderOptions, RegExp]> = [
      [{ listen: '127.0.0.1:80; include /etc/passwd' }, /listen must be/],
      [{ upstream: 'colony 8080' }, /upstream must be/],
      [{ bodyLimit: '1 m' }, /body limit must be a size/],
      [{ uploadLimit: 0 }, /upload limit must be a size/],
      [{ prefix: 'relative/dir' }, /prefix must be an absolute path/],
      [{ prefix: '/tmp/a b' }, /prefix must be an absolute path/],
      [{ readTimeout: '0' }, /read timeout must be a time/],
      [{ readTimeout: '5h' }, /read timeout must be a time/],
      [{ readTimeout: '30s; return 200' }, /read timeout must be a time/],
      [{ tlsCert: '/etc/colony/cert.pem' }, /TLS needs both a certificate/],
      [{ tlsKey: '/etc/colony/key.pem' }, /TLS needs both a certificate/],
      [{ tlsCert: 'cert.pem', tlsKey: '/k.pem' }, /TLS certificate must be an absolute path/],
      [{ tlsCert: '/c.pem', tlsKey: '/k.pem; include /etc/passwd' }, /TLS key must be an absolute path/],
      [{ redirectHttp: '80' }, /--redirect-http sends requests to HTTPS: it needs --tls-cert/],
      [{ tlsCert: '/c.pem', tlsKey: '/k.pem', redirectHttp: '80; return 200' }, /redirect-http must be port/],
    ]
    for (const [options, message] of bad) assert.throws(() => r.renderNginx(options), message, JSON.stringify(options))
    const { code, stderr } = await run(process.execPath, [SCRIPT, '--body-limit', 'lots'])
    assert.equal(code, 1)
    assert.match(stderr, /^render-nginx: body limit must be a size/)
  })

  it('a rendering passes nginx -t (Debian\'s nginx, unprivileged paths)', async function () {
    const conf = join(tmp, 'nginx.conf')
    await writeFile(conf, r.renderNginx({ prefix: tmp }))
    const { code, stderr } = await run('nginx', ['-t', '-e', 'stderr', '-p', tmp, '-c', conf])
    assert.equal(code, 0, stderr)
    assert.match(stderr, /test is successful/)
    assert.doesNotMatch(stderr, /\[(warn|emerg|alert)\]/)
  })

  it('with --tls-cert and --tls-key: HTTPS on the same listener, TLS 1.2+, HSTS; without them no trace of TLS; nginx -t passes', async function () {
    const plain = r.renderNginx()
    assert.doesNotMatch(plain, /ssl|Strict-Transport-Security/)
    assert.doesNotMatch(plain, /^\s*$\n^\s*$/m, 'no blank lines left where the TLS lines would be')
    const { cert, key } = await selfSignedCertificate(tmp)
    const text = r.renderNginx({ prefix: tmp, tlsCert: cert, tlsKey: key })
    assert.match(text, /^\s*listen 127\.0\.0\.1:8088 ssl;$/m)
    assert.match(text, new RegExp(`^\\s*ssl_certificate ${cert};$`, 'm'))
    assert.match(text, new RegExp(`^\\s*ssl_certificate_key ${key};$`, 'm'))
    assert.match(text, /^\s*ssl_protocols TLSv1\.2 TLSv1\.3;$/m)
    assert.match(text, /^\s*add_header Strict-Transport-Security "max-age=63072000" always;$/m)
    const conf = join(tmp, 'tls.conf')
    await writeFile(conf, text)
    const { code, stderr } = await run('nginx', ['-t', '-e', 'stderr', '-p', tmp, '-c', conf])
    assert.equal(code, 0, stderr)
    assert.doesNotMatch(stderr, /\[(warn|emerg|alert)\]/)
    const cli = await run(process.execPath, [SCRIPT, '--prefix', tmp, '--tls-cert', cert, '--tls-key', key])
    assert.equal(cli.stdout, text)
    assert.doesNotMatch(text, /return 308/, 'no plain-HTTP listener unless asked for')
    const redirecting = r.renderNginx({ listen: '0.0.0.0:443', prefix: tmp, tlsCert: cert, tlsKey: key, redirectHttp: '0.0.0.0:80' })
    assert.match(redirecting, /server \{\s+listen 0\.0\.0\.0:80;\s+server_name _;\s+return 308 https:\/\/\$host\$request_uri;\s+\}/)
    assert.match(r.renderNginx({ prefix: tmp, tlsCert: cert, tlsKey: key, redirectHttp: '8080' }), /return 308 https:\/\/\$host:8088\$request_uri;/)
    await writeFile(conf, redirecting.replace('listen 0.0.0.0:443 ssl;', 'listen 127.0.0.1:8443 ssl;').replace('listen 0.0.0.0:80;', 'listen 127.0.0.1:8081;'))
    const checked = await run('nginx', ['-t', '-e', 'stderr', '-p', tmp, '-c', conf])
    assert.equal(checked.code, 0, checked.stderr)
  })

  it('/ws and /mqtt are upgraded, unbuffered and may idle for an hour; /metrics is loopback only', function () {
    const text = r.renderNginx()
    const ws = /location ~ \^\/\(ws\|mqtt\)\$ \{([^}]*)\}/.exec(text)?.[1] ?? ''
    for (const line of ['proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection $connection_upgrade;',
      'proxy_set_header X-Forwarded-For $remote_addr;', 'proxy_buffering off;', 'proxy_read_timeout 1h;', 'proxy_send_timeout 1h;']) {
      assert.ok(ws.includes(line), `the WebSocket location has ${line}`)
    }
    const metrics = /location = \/metrics \{([^}]*)\}/.exec(text)?.[1] ?? ''
    assert.match(metrics, /allow 127\.0\.0\.1;\s+allow ::1;\s+deny all;/)
    assert.doesNotMatch(text, /proxy_add_x_forwarded_for/, 'X-Forwarded-For is overwritten, never appended to')
  })
})

describe('config: http.proxyAddresses', function () {
  function problems (env: NodeJS.ProcessEnv): string[] {
    try {
      loadConfig({ env })
    } catch (err) {
      assert.ok(err instanceof ColonyError && err.code === 'config_invalid')
      return (err.details as { problems: string[] }).problems
    }
    return []
  }

  it('defaults to the loopback addresses, IPv4-mapped included; COLONY_HTTP_PROXY_ADDRESSES sets it', function () {
    assert.equal(loadConfig({ env: {} }).http.proxyAddresses, '127.0.0.1,::1,::ffff:127.0.0.1')
    assert.equal(loadConfig({ env: { COLONY_HTTP_PROXY_ADDRESSES: '10.0.0.5, fd00::5' } }).http.proxyAddresses, '10.0.0.5, fd00::5')
  })

  it('every entry must be an IP address, and there must be one', function () {
    assert.deepEqual(problems({ COLONY_HTTP_PROXY_ADDRESSES: '10.0.0.5,proxy.local,10.0.0.0/8' }),
      ['http.proxyAddresses must be comma-separated IP addresses (not "proxy.local", "10.0.0.0/8")'])
    assert.deepEqual(problems({ COLONY_HTTP_PROXY_ADDRESSES: '' }), ['http.proxyAddresses must be a non-empty string'])
    assert.deepEqual(problems({ COLONY_HTTP_PROXY_ADDRESSES: '127.0.0.1,' }), ['http.proxyAddresses must be comma-separated IP addresses (not "")'])
  })
})
