/**
 * Debian's nginx in the foreground with a configuration scripts/render-nginx.mjs renders, in a throwaway prefix:
 * what the nginx e2e test and the nginx benchmark put in front of a running Colony.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const RENDER_SCRIPT = new URL('../../../scripts/render-nginx.mjs', import.meta.url)

export interface RenderOptions {
  listen?: string
  upstream?: string
  bodyLimit?: string | number
  uploadLimit?: string | number
  prefix?: string
  readTimeout?: string | number
  tlsCert?: string
  tlsKey?: string
  redirectHttp?: string
}
type Render = (options: RenderOptions) => string

export interface Nginx {
  port: number
  /** The worker processes' pids (where the proxying happens), from nginx's start-up lines. */
  workerPids: number[]
  stderr: () => string
  stop: () => Promise<void>
}

/** The renderer of scripts/render-nginx.mjs (a plain ES module, loaded at run time from the source tree). */
export async function renderer (): Promise<Render> {
  return (await import(RENDER_SCRIPT.href) as { renderNginx: Render }).renderNginx
}

/** Asks the OS for a port nobody uses right now (nginx cannot listen on port 0). */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Runs nginx with a rendered config on a free loopback port; ready once it has started its worker. */
export async function startNginx (options: RenderOptions): Promise<Nginx> {
  const render = await renderer()
  for (let attempt = 1; ; attempt++) {
    const prefix = await mkdtemp(join(tmpdir(), 'colony-nginx-'))
    // Started as root, nginx runs its worker as nobody, which must reach the temp directories inside.
    await chmod(prefix, 0o755)
    const port = await freePort()
    const conf = join(prefix, 'nginx.conf')
    await writeFile(conf, render({ ...options, listen: `127.0.0.1:${port}`, prefix }))
    const child = spawn('nginx', ['-e', 'stderr', '-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8')
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000)
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk
        if (/start worker process \d+/.test(stderr)) { clearTimeout(timer); resolve(true) }
      })
      void exited.then(() => { clearTimeout(timer); resolve(false) })
    })
    if (ready) {
      const workerPids = [...stderr.matchAll(/start worker process (\d+)/g)].map((m) => Number(m[1]))
      return { port, workerPids, stderr: () => stderr, stop: () => stop(child, exited, prefix) }
    }
    await stop(child, exited, prefix)
    // Someone took the port between freePort() and nginx's bind: try another one.
    if (!stderr.includes('Address already in use') || attempt === 3) throw new Error(`nginx did not start:\n${stderr}`)
  }
}

/** A graceful stop (SIGQUIT); resolves once nginx has exited, then removes its prefix. */
async function stop (child: ChildProcess, exited: Promise<void>, prefix: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT')
  await exited
  await rm(prefix, { recursive: true, force: true })
}

/** A self-signed certificate for 127.0.0.1 (openssl, P-256, one day) in `dir`: its files and its PEM, to trust it. */
export async function selfSignedCertificate (dir: string): Promise<{ cert: string, key: string, pem: string }> {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  await new Promise<void>((resolve, reject) => {
    const child = spawn('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
    child.once('error', reject)
    child.once('exit', (code) => { if (code === 0) resolve(); else reject(new Error(`openssl failed (${String(code)}): ${stderr}`)) })
  })
  // Started as root, nginx's worker runs as nobody; the master reads the key, but keep the prefix readable anyway.
  await chmod(key, 0o600)
  return { cert, key, pem: await readFile(cert, 'utf8') }
}
