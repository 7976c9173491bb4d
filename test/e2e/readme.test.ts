import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect } from '../helpers/mqtt.js'

const README = fileURLToPath(new URL('../../../README.md', import.meta.url))
const run = promisify(execFile)

/** The README's "Once it runs:" lines that use the Mosquitto clients, exactly as a reader would paste them. */
function quickStartLines (): string[] {
  const text = readFileSync(README, 'utf8')
  const start = text.indexOf('Once it runs:')
  const block = text.slice(text.indexOf('```sh\n', start) + 6, text.indexOf('\n```', start + 20))
  return block.split('\n').filter((line) => /^mosquitto_(sub|pub) /.test(line))
}

/** A README line pointed at this test's broker: the same command with `-h 127.0.0.1 -p <port>` added, run by sh. */
function localize (line: string, port: number): string {
  return line.replace(/^(mosquitto_(?:sub|pub)) /, `$1 -h 127.0.0.1 -p ${port} `)
}

describe('README quick start: the mosquitto_sub / mosquitto_pub lines work as written (Debian mosquitto-clients)', () => {
  let colony: TestColony
  let sub: ChildProcess | undefined
  before(async () => { colony = await startColony() })
  after(async () => {
    sub?.kill('SIGKILL')
    await colony?.close()
  })

  it('mosquitto_sub sees every actor breathing; the two io/chat lines spawn e1 and get its hello back', async function () {
    this.timeout(30_000)
    const lines = quickStartLines()
    const subLine = lines.find((l) => l.startsWith('mosquitto_sub '))
    const pubLines = lines.filter((l) => l.startsWith('mosquitto_pub '))
    assert.ok(subLine !== undefined, 'the README shows a mosquitto_sub line')
    assert.equal(pubLines.length, 2, 'the README shows the spawn and the hello')
    const port = Number(new URL(colony.rt.urls.mqtt).port)

    // `exec`: the signal at the end reaches mosquitto_sub itself, not only the shell.
    sub = spawn('sh', ['-c', `exec ${localize(subLine, port)}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const waiters: Array<() => void> = []
    sub.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      for (const w of waiters.splice(0)) w()
    })
    /** Resolves once mosquitto_sub has printed a `topic payload` line matching the test (`-v` output). */
    const seen = (test: (topic: string, payload: string) => boolean, what: string): Promise<string> => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mosquitto_sub never printed ${what}; it printed:\n${out.slice(-2000)}`)), 10_000)
      const check = (): void => {
        const line = out.split('\n').find((l) => { const i = l.indexOf(' '); return i > 0 && test(l.slice(0, i), l.slice(i + 1)) })
        if (line === undefined) { waiters.push(check); return }
        clearTimeout(timer)
        resolve(line)
      }
      check()
    })

    // The retained spawn announcements arrive at once: the subscription is in place.
    await seen((topic) => topic === 'agents/main-actor/spawn', 'main-actor\'s spawn announcement')
    await run('sh', ['-c', localize(pubLines[0] as string, port)])
    const spawned = await seen((topic, payload) => topic === 'agents/main-actor/chat' && payload.includes('spawned e1'), 'main-actor\'s "spawned e1"')
    const e1 = colony.rt.system.get('e1')
    assert.ok(e1 !== undefined, spawned)
    await run('sh', ['-c', localize(pubLines[1] as string, port)])
    const hello = await seen((topic, payload) => topic === `agents/${e1.id}/chat` && JSON.parse(payload).content === 'hello', 'e1\'s hello')
    assert.equal(JSON.parse(hello.slice(hello.indexOf(' ') + 1)).to, 'me')
    assert.ok(out.split('\n').some((l) => /^agents\/[^/]+\/heartbeat /.test(l)) || out.includes('/status '), 'actors breathing')
  })
})

describe('README: the REST actor fields and the chat command table say what the code returns and accepts', () => {
  let colony: TestColony
  before(async () => { colony = await startColony() })
  after(async () => { await colony?.close() })

  const readme = (): string => readFileSync(README, 'utf8')
  /** The table row of the REST API section for this route. */
  const row = (route: string): string => readme().split('\n').find((l) => l.startsWith(`| \`${route}\` |`)) ?? ''
  const fieldsIn = (text: string): string[] => (text.match(/`\[?\{([^}]*)\}/)?.[1] ?? '').split(',').map((f) => f.trim()).sort()

  it('GET /api/actors, ?include=heartbeat and GET /api/actors/:id list exactly the README\'s fields', async () => {
    const list = await (await fetch(`${colony.rt.urls.http}/api/actors`)).json() as Array<Record<string, unknown>>
    const documented = fieldsIn(row('GET /api/actors'))
    assert.ok(documented.length > 5, row('GET /api/actors'))
    for (const actor of list) assert.deepEqual(Object.keys(actor).sort(), documented, String(actor.name))

    const beats = await (await fetch(`${colony.rt.urls.http}/api/actors?include=heartbeat`)).json() as Array<Record<string, unknown>>
    const extra = [...row('GET /api/actors').matchAll(/each also has `(\w+)` and `(\w+)`/g)].flatMap((m) => [m[1], m[2]])
    assert.equal(extra.length, 2)
    for (const actor of beats) assert.deepEqual(Object.keys(actor).sort(), [...documented, ...extra].sort())

    const one = await (await fetch(`${colony.rt.urls.http}/api/actors/main-actor`)).json() as Record<string, unknown>
    const plus = [...(/plus (.*?); `404`/.exec(row('GET /api/actors/:id'))?.[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1])
    assert.deepEqual(Object.keys(one).sort(), [...documented, ...plus].sort())

    const kinds = await (await fetch(`${colony.rt.urls.http}/api/kinds`)).json() as Array<Record<string, unknown>>
    assert.ok(kinds.length > 0)
    for (const kind of kinds) assert.deepEqual(Object.keys(kind).sort(), fieldsIn(row('GET /api/kinds')))
  })

  it('main-actor\'s row lists exactly the commands main-actor accepts', async () => {
    const line = readme().split('\n').find((l) => l.startsWith('| `main-actor` (`orchestrator`) |')) ?? ''
    const documented = [...line.split('|')[2]?.matchAll(/`(\w+)[^`]*`/g) ?? []].map((m) => m[1]).sort()
    // main-actor's answer to an unknown command lists every command it has.
    const mqtt = await connect(colony.rt.urls.mqtt)
    let reply: string
    try {
      await mqtt.subscribe('agents/main-actor/chat')
      const res = await fetch(`${colony.rt.urls.http}/api/chat`, { method: 'POST', body: JSON.stringify({ content: 'no-such-command' }) })
      const { id } = await res.json() as { id: string }
      reply = (await mqtt.next((m) => m.json?.inReplyTo === id)).json.content
    } finally {
      await mqtt.close()
    }
    const accepted = (/Commands: ([^(]*) \(/.exec(reply)?.[1] ?? '').split(', ').sort()
    assert.deepEqual(documented, accepted, reply)
  })
})
