import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The pids below `pid` (children, grandchildren...), read from /proc. */
function descendants (pid: number): number[] {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch { /* gone meanwhile */ }
  }
  const found: number[] = []
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf) if (parent === p) { found.push(child); walk(child) }
  }
  walk(pid)
  return found
}

/** The executable's name (`node`, `sh`, `npm`...) and the command line, or empty strings once it is gone. */
function describeProcess (pid: number): { comm: string, cmdline: string } {
  try {
    return { comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ') }
  } catch {
    return { comm: '', cmdline: '' }
  }
}

/** True when nothing listens on the port any more (binding it succeeds). */
async function portFree (port: number): Promise<boolean> {
  const server = createServer()
  try {
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    return true
  } catch {
    return false
  } finally {
    server.close()
  }
}

describe('npm start: the process a user started stops the runtime on SIGTERM and SIGINT', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to the npm process: node exits cleanly (logged shutdown, exit 0), the ports are free, no rebuild`, async function () {
      this.timeout(60_000)
      const dataDir = mkdtempSync(join(tmpdir(), 'colony-npm-start-'))
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COLONY_')))
      let npm: ChildProcess | undefined
      let tree: number[] = []
      try {
        npm = spawn('npm', ['start', '--', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'info'],
          { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
        const exited = once(npm, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
        let stdout = ''
        let stderr = ''
        npm.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
        const ready = await new Promise<string>((resolve, reject) => {
          npm?.stdout?.on('data', (c: Buffer) => {
            stdout += c.toString()
            const line = stdout.split('\n').find((l) => l.startsWith('colony ') && l.includes(' ready'))
            if (line !== undefined) resolve(line)
          })
          void exited.then(([code]) => reject(new Error(`npm start exited with ${code}: ${stderr}`)))
        })
        const http = Number(/REST http:\/\/[^:]+:(\d+)\//.exec(ready)?.[1])
        const mqtt = Number(/MQTT mqtt:\/\/[^:]+:(\d+)/.exec(ready)?.[1])
        assert.ok(http > 0 && mqtt > 0, ready)
        assert.doesNotMatch(stderr, /building dist/, 'an up-to-date build is started as it is')

        tree = descendants(npm.pid as number)
        const nodes = tree.filter((pid) => { const p = describeProcess(pid); return p.comm === 'node' && p.cmdline.includes('dist/src/main.js') })
        assert.equal(nodes.length, 1, 'one node process runs Colony')
        const server = nodes[0] as number

        npm.kill(signal)
        const [code, killedBy] = await exited
        assert.deepEqual({ code, killedBy }, { code: 0, killedBy: null }, stderr)
        // npm exits after its child: Colony's node has exited and been reaped, not left behind as an orphan.
        assert.equal(existsSync(`/proc/${server}`), false, 'the node process is gone')
        const shutdown = stdout.split('\n').filter((l) => l.includes('"msg":"shutting down"'))
        assert.equal(shutdown.length, 1)
        assert.equal(JSON.parse(shutdown[0] as string).signal, signal)
        assert.ok(stdout.includes('"msg":"colony stopped"'))
        assert.equal(await portFree(http), true, 'the HTTP port is free')
        assert.equal(await portFree(mqtt), true, 'the MQTT port is free')
      } finally {
        // Whatever a failure left behind (an orphaned node holds our stdout pipe open and would keep mocha alive).
        if (npm?.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL')
        for (const pid of tree) {
          try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
        }
        npm?.stdout?.destroy()
        npm?.stderr?.destroy()
        rmSync(dataDir, { recursive: true, force: true })
      }
    })
  }
})
