import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { WebSocket } from 'ws'
import { compileFilter } from '../../src/wire/topics.js'
import { startColony, type TestColony } from '../helpers/runtime.js'

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
/** Every `/ws?topics=` URL the README shows, exactly as written there. */
const README_URLS = [...new Set(README.match(/ws:\/\/(?:localhost|127\.0\.0\.1):8080\/ws\?topics=[^\s'"`)]+/g) ?? [])]
/** The README's Node-only client one-liner (the quick start's alternative to websocat). */
const NODE_ONE_LINER = /^node --experimental-websocket -e "([^"]+)"/m.exec(README)?.[1]

/** The filters a README URL means, decoded by hand: `+` as written, `%23` as `#`. */
const meant = (url: string): string[] => decodeURIComponent(url.slice(url.indexOf('topics=') + 7)).split(',')

describe('/ws: the README\'s topic filter URLs work as written', () => {
  let colony: TestColony
  let port: number

  before(async () => {
    colony = await startColony()
    port = Number(new URL(colony.rt.urls.http).port)
  })
  after(async () => { await colony?.close() })

  const local = (url: string): string => url.replace(/\/\/(?:localhost|127\.0\.0\.1):8080\//, `//127.0.0.1:${port}/`)

  it('the README shows /ws?topics= URLs with + and %23, and a Node one-liner', () => {
    assert.ok(README_URLS.some((u) => u.includes('/+/')), `README URLs: ${README_URLS.join(' ')}`)
    assert.ok(README_URLS.some((u) => u.includes('%23')))
    assert.ok(!README_URLS.some((u) => u.includes('#')), 'a literal # would be a URL fragment')
    assert.ok(NODE_ONE_LINER?.includes('ws://localhost:8080/ws?topics='))
  })

  for (const url of README_URLS) {
    it(`${url} streams every filter it names, and nothing else`, async () => {
      const filters = meant(url)
      const matchers = filters.map(compileFilter)
      const seen = new Set<number>()
      const ws = new WebSocket(local(url))
      try {
        await new Promise<void>((resolve, reject) => {
          ws.on('error', reject)
          ws.on('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)))
          ws.on('open', () => {
            // Actors beat every 200 ms here; elsewhere the runtime may be quiet for a while (system/# ticks slowly).
            for (const filter of filters.filter((f) => !f.startsWith('agents/'))) {
              colony.rt.broker.bus.publish(filter.replace(/\+/g, 'x').replace('#', 'probe'), { probe: true })
            }
          })
          ws.on('message', (data) => {
            const { topic } = JSON.parse((data as Buffer).toString()) as { topic: string }
            const which = matchers.findIndex((m) => m(topic))
            if (which === -1) reject(new Error(`${topic} does not match ${filters.join(',')}`))
            seen.add(which)
            if (seen.size === filters.length) resolve()
          })
        })
      } finally {
        ws.close()
      }
    })
  }

  it('the Node one-liner prints stream frames', async function () {
    this.timeout(20_000)
    const script = local(NODE_ONE_LINER as string)
    const child = spawn(process.execPath, ['--experimental-websocket', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve)
        child.once('exit', (code) => reject(new Error(`the one-liner exited with ${code}`)))
      })
      const frame = JSON.parse(line) as { topic: string, payload: { agentId: string } }
      assert.match(frame.topic, /^agents\/[^/]+\/heartbeat$/)
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill()
        await exited
      }
    }
  })

  it('a filter MQTT refuses is a 400 with a JSON code before the upgrade, given as a literal URL', async () => {
    for (const bad of ['a/%23/b', 'a+/b', 'a/%00', '']) {
      const { status, body } = await new Promise<{ status: number, body: any }>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?topics=${bad}`)
        ws.on('unexpected-response', (_req, res) => {
          let text = ''
          res.on('data', (c: Buffer) => { text += c.toString() })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
        })
        ws.on('open', () => { ws.close(); reject(new Error(`filter "${bad}" was accepted`)) })
        ws.on('error', () => undefined)
      })
      assert.equal(status, 400, bad)
      assert.equal(body.error.code, 'invalid_topic_filter', bad)
      assert.equal(typeof body.error.message, 'string')
    }
  })
})
