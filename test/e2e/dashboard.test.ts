import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { startColony, SYSTEM_ACTORS, BRIDGE_ACTORS, type TestColony } from '../helpers/runtime.js'
import { ARTIFACTS, launchBrowser } from '../helpers/browser.js'
import { connect } from '../helpers/mqtt.js'
import { as, signup } from '../helpers/identity.js'
import { freePort, startNginx, type Nginx } from '../helpers/nginx.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The text of an actor's cell (`name`, `type`, `state`, `prot`, `age`) in the dashboard's table. */
const COLUMNS = { name: 1, type: 2, state: 3, prot: 4, age: 5 } as const
async function cellText (page: Page, actorId: string, column: keyof typeof COLUMNS): Promise<string> {
  return (await page.locator(`#actors tr[data-id="${actorId}"] td:nth-child(${COLUMNS[column]})`).textContent()) ?? ''
}

describe('dashboard in a real browser (Debian chromium, playwright-core)', function () {
  this.timeout(60_000)
  let colony: TestColony
  let browser: Browser
  let page: Page
  let key: string
  let base: string

  before(async () => {
    // Credentials required, as deployed (in loopback development mode the page needs none: tested below).
    colony = await startColony({ config: { actors: { heartbeatIntervalMs: 300 }, auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    key = colony.rt.identity.bootstrap?.apiKey as string
    await colony.rt.system.spawn('echo', { name: 'echo-test' })
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    page.on('dialog', (d) => { void d.accept() })
  })
  after(async () => {
    await browser?.close()
    await colony?.close()
  })

  it('is served by the REST bridge at / with its scripts, no CDN, and a strict content security policy', async () => {
    const res = await fetch(`${base}/`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /text\/html/)
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/)
    const html = await res.text()
    assert.ok(!/https?:\/\//.test(html.replace(/<!doctype html>/i, '')), 'nothing is loaded from elsewhere')
    const etag = res.headers.get('etag') as string
    assert.equal((await fetch(`${base}/`, { headers: { 'if-none-match': etag } })).status, 304)
    assert.equal((await fetch(`${base}/dashboard/app.js`)).status, 200)
    assert.equal((await fetch(`${base}/dashboard/..%2fpackage.json`)).status, 404, 'only the dashboard\'s own files')
    assert.equal((await fetch(`${base}/dashboard/nope.js`)).status, 404)
  })

  it('refuses a wrong key, signs in with an API key kept in sessionStorage only', async () => {
    await page.goto(`${base}/`)
    await page.fill('#key', 'col_00000000000000000000000000000000')
    await page.click('#sign-in button[type=submit]')
    await page.waitForSelector('#sign-in-error:text("not accepted")')
    await page.fill('#key', key)
    await page.click('#sign-in button[type=submit]')
    await page.waitForSelector('#app:not([hidden])')
    assert.ok(await page.locator('#sign-in').isHidden(), 'the sign-in form is gone once signed in')
    assert.ok(await page.locator('#local').isHidden(), 'credentials are required here: no local mode')
    assert.ok(await page.locator('#sign-out').isVisible())
    const stored = await page.evaluate('({ session: sessionStorage.getItem("colony.credential"), local: localStorage.length })')
    assert.deepEqual(stored, { session: key, local: 0 })
  })

  it('lists the system actors, protected ones without buttons to press', async () => {
    for (const name of [...SYSTEM_ACTORS, ...BRIDGE_ACTORS]) await page.waitForSelector(`#actors tr[data-id="${name}"]`)
    assert.equal(await cellText(page, 'main-actor', 'type'), 'orchestrator')
    assert.equal(await cellText(page, 'main-actor', 'prot'), 'yes')
    assert.equal(await cellText(page, 'main-actor', 'state'), 'running')
    assert.ok(await page.locator('#actors tr[data-id="main-actor"] button[data-action="pause"]').isDisabled())
    assert.ok(await page.locator('#actors tr[data-id="main-actor"] button[data-action="delete"]').isDisabled())
    const echoId = colony.rt.system.get('echo-test')?.id as string
    assert.ok(await page.locator(`#actors tr[data-id="${echoId}"] button[data-action="pause"]`).isEnabled())
  })

  it('refreshes heartbeat ages: beating actors stay fresh, a stopped one ages second by second; rates per type', async () => {
    // Locator waits: the page's CSP forbids evaluating strings, as it should.
    const text = (selector: string, pattern: RegExp): Promise<void> => page.locator(selector, { hasText: pattern }).waitFor()
    const fresh = '#actors tr[data-id="monitor-agent"] td.age'
    await text(fresh, /^[01]s ago$/)
    const quiet = await colony.rt.system.spawn('echo', { name: 'echo-quiet' })
    const age = `#actors tr[data-id="${quiet.id}"] td.age`
    await text(age, /s ago$/)
    await colony.rt.system.stop(quiet.id)
    await page.waitForSelector(`#actors tr[data-id="${quiet.id}"] .state.stopped`)
    await text(age, /^1s ago$/)
    await text(age, /^2s ago$/)
    assert.match(await page.locator(fresh).textContent() ?? '', /^[01]s ago$/, 'the beating actor is still fresh')
    await text('#legend', /orchestrator \d+\/s/)
    await text('#health', /^(no|\d+) stale actors? — health at /)
    await colony.rt.system.remove(quiet.id)
  })

  it('sends "@main-actor agents" through io/chat with @mention completion, and shows the reply', async () => {
    await page.click('#chat-input')
    await page.keyboard.type('@mai')
    await page.waitForSelector('#mentions:not([hidden]) li[data-name="main-actor"]')
    await page.keyboard.press('Tab')
    assert.equal(await page.inputValue('#chat-input'), '@main-actor ')
    await page.keyboard.type('agents')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#conversation li.mine:text("@main-actor agents")')
    const reply = page.locator('#conversation li:not(.mine)', { hasText: 'main-actor:' })
    await reply.waitFor()
    assert.match((await reply.textContent()) ?? '', /echo-test/)

    // Enter takes the highlighted completion instead of sending the half-typed line.
    await page.keyboard.type('@echo-t')
    await page.waitForSelector('#mentions:not([hidden]) li[data-name="echo-test"]')
    await page.keyboard.press('Enter')
    assert.equal(await page.inputValue('#chat-input'), '@echo-test ')
    assert.ok(await page.locator('#mentions').isHidden())
    await page.keyboard.type('ping from the browser')
    await page.keyboard.press('Enter')
    await page.locator('#conversation li:not(.mine)', { hasText: 'ping from the browser' }).waitFor()
    assert.equal(await page.locator('#conversation li.mine', { hasText: '@echo-t' }).count(), 1, 'only the whole line was sent')

  })

  it('pauses and resumes a test actor; the state changes in the table and in the runtime', async () => {
    const id = colony.rt.system.get('echo-test')?.id as string
    await page.click(`#actors tr[data-id="${id}"] button[data-action="pause"]`)
    await page.waitForSelector(`#actors tr[data-id="${id}"] .state.paused`)
    assert.equal(colony.rt.system.get(id)?.state, 'paused')
    assert.ok(await page.locator(`#actors tr[data-id="${id}"] button[data-action="resume"]`).isEnabled())
    await page.click(`#actors tr[data-id="${id}"] button[data-action="resume"]`)
    await page.waitForSelector(`#actors tr[data-id="${id}"] .state.running`)
  })

  it('shows alerts with their severity, and actors spawned or deleted elsewhere', async () => {
    const mqtt = await connect(colony.rt.urls.mqtt, { password: key, username: 'test' })
    try {
      // A command to a protected actor is refused with a warning alert.
      await mqtt.client.publishAsync('agents/main-actor/commands', JSON.stringify({ command: 'pause' }))
      await page.waitForSelector('#alerts li.warning:text("main-actor")')
    } finally {
      await mqtt.close()
    }
    const spawned = await colony.rt.system.spawn('echo', { name: 'echo-late' })
    await page.waitForSelector(`#actors tr[data-id="${spawned.id}"] .state.running`)
    await colony.rt.system.remove(spawned.id)
    await page.waitForSelector(`#actors tr[data-id="${spawned.id}"]`, { state: 'detached' })
  })

  it('shows heartbeat ages from the list at once, before the stream brings a beat', async () => {
    const quiet = await browser.newPage()
    try {
      // The /ws stream is answered by the test, not Colony: it opens and stays silent.
      await quiet.routeWebSocket(/\/ws(\?|$)/, () => {})
      await quiet.goto(`${base}/`)
      await quiet.fill('#key', key)
      await quiet.click('#sign-in button[type=submit]')
      await quiet.waitForSelector('#connection.on')
      const age = await quiet.locator('#actors tr[data-id="monitor-agent"] td.age').textContent()
      assert.match(age ?? '', /^\d+s ago$/, 'an age, not "—", without any heartbeat on the stream')
    } finally {
      await quiet.close()
    }
  })

  it('a team member\'s dashboard shows the system actors and the team\'s own, never another team\'s, and steers its own', async () => {
    const carol = await signup(base, 'carol')
    const dave = await signup(base, 'dave')
    const created = (await as(carol.token, 'POST', `${base}/v1/api-keys`, { name: 'dashboard' })).body as { key: string, id: string }
    const carolKey = created.key
    const mine = (await as(carol.token, 'POST', `${base}/api/actors`, { kind: 'echo', name: 'carol-echo' })).body.id as string
    const theirs = (await as(dave.token, 'POST', `${base}/api/actors`, { kind: 'echo', name: 'dave-echo' })).body.id as string
    const member = await browser.newPage()
    const spawned: string[] = [mine, theirs]
    try {
      await member.goto(`${base}/`)
      await member.fill('#key', carolKey)
      await member.click('#sign-in button[type=submit]')
      await member.waitForSelector(`#actors tr[data-id="${mine}"] .state.running`)
      await member.waitForSelector('#actors tr[data-id="main-actor"]')
      await member.locator(`#actors tr[data-id="${mine}"] td.age`, { hasText: /s ago$/ }).waitFor()
      // An actor of Dave's team spawned now: the page would learn of it from /ws; it must not.
      const later = (await as(dave.token, 'POST', `${base}/api/actors`, { kind: 'echo', name: 'dave-later' })).body.id as string
      const ownLater = (await as(carol.token, 'POST', `${base}/api/actors`, { kind: 'echo', name: 'carol-later' })).body.id as string
      spawned.push(later, ownLater)
      await member.waitForSelector(`#actors tr[data-id="${ownLater}"]`)
      assert.equal(await member.locator(`#actors tr[data-id="${theirs}"], #actors tr[data-id="${later}"]`).count(), 0)
      await member.click(`#actors tr[data-id="${mine}"] button[data-action="pause"]`)
      await member.waitForSelector(`#actors tr[data-id="${mine}"] .state.paused`)
      assert.equal(colony.rt.system.get(mine)?.state, 'paused')
      // Chat works for team members too (MQTT over /mqtt with the team's key).
      await member.fill('#chat-input', '@main-actor agents')
      await member.click('#chat-form button[type=submit]')
      const reply = member.locator('#conversation li:not(.mine)', { hasText: 'main-actor:' })
      await reply.waitFor()
      const text = (await reply.textContent()) ?? ''
      assert.match(text, /carol-echo/)
      assert.doesNotMatch(text, /dave-echo/, 'main-actor answers within the sender\'s view')
      // What actors send back is text, never markup.
      await member.fill('#chat-input', '@carol-later <img src=x id=injected><b>bold</b>')
      await member.keyboard.press('Escape')
      await member.click('#chat-form button[type=submit]')
      await member.locator('#conversation li:not(.mine)', { hasText: '<b>bold</b>' }).waitFor()
      assert.equal(await member.locator('#conversation img, #conversation b').count(), 0)

      // Revoking the key ends the session at once: the stream closes (1008) and the page asks for a key again.
      assert.equal((await as(carol.token, 'DELETE', `${base}/v1/api-keys/${created.id}`)).status, 204)
      await member.waitForSelector('#sign-in:not([hidden])')
      assert.match((await member.locator('#sign-in-error').textContent()) ?? '', /refused or revoked/)
      assert.ok(await member.locator('#app').isHidden())
      assert.equal(await member.evaluate('sessionStorage.getItem("colony.credential")'), null, 'the key is forgotten')
    } finally {
      await member.close()
      for (const id of spawned) await colony.rt.system.remove(id)
    }
  })

  it('saves a screenshot (test-artifacts/dashboard.png)', async () => {
    const file = `${ARTIFACTS}dashboard.png`
    await page.screenshot({ path: file, fullPage: false })
    assert.ok(statSync(file).size > 20_000)
  })
})

describe('dashboard with 500 actors', function () {
  this.timeout(90_000)
  const COUNT = 500
  let colony: TestColony
  let browser: Browser

  before(async () => {
    colony = await startColony({ config: { actors: { heartbeatIntervalMs: 500 } } })
    for (let i = 0; i < COUNT; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => colony.rt.system.spawn('echo', { name: `load-${i + j}` })))
    }
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await colony?.close()
  })

  it('loads every row, keeps the page responsive under ~1000 heartbeats/s, and filters at once', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    // Long tasks (> 50 ms on the main thread) are what "freezing" is made of; recorded from the first byte.
    await page.addInitScript({ content: 'window.__long = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ at: e.startTime, ms: e.duration }) }).observe({ type: "longtask", buffered: true })' })
    // Loopback development mode (this Colony's default): the page signs in by itself, as the local admin.
    const t0 = Date.now()
    await page.goto(`${colony.rt.urls.http}/`)
    await page.locator('#actor-count', { hasText: `(${COUNT + SYSTEM_ACTORS.length + BRIDGE_ACTORS.length})` }).waitFor()
    const loadMs = Date.now() - t0
    assert.ok(await page.locator('#local').isVisible(), 'it says so')
    assert.ok(await page.locator('#sign-in').isHidden())
    assert.equal(await page.evaluate('sessionStorage.length'), 0, 'no credential to keep')
    await page.locator('#actors tr[data-id] td.age', { hasText: /^0s ago$/ }).first().waitFor()
    const loadedAt = await page.evaluate<number>('performance.now()')

    // Three seconds of the stream at full rate, while we ask the page for round trips.
    const roundTrips: number[] = []
    const until = Date.now() + 3000
    while (Date.now() < until) {
      const s = Date.now()
      await page.evaluate('1')
      roundTrips.push(Date.now() - s)
    }
    const s = Date.now()
    await page.fill('#filter', 'load-49')
    await page.locator('#actors tr[data-id]:not([hidden])').nth(10).waitFor()
    const filterMs = Date.now() - s
    const visible = await page.locator('#actors tr[data-id]:not([hidden])').count()
    const long = (await page.evaluate<Array<{ at: number, ms: number }>>('window.__long')).filter((t) => t.at > loadedAt)
    const worst = Math.max(0, ...long.map((t) => t.ms))
    roundTrips.sort((a, b) => a - b)
    const p95 = roundTrips[Math.floor(roundTrips.length * 0.95)] ?? 0
    const note = `load ${loadMs} ms, round trips p95 ${p95} ms (${roundTrips.length}), filter ${filterMs} ms, long tasks after load: ${long.length}, worst ${worst.toFixed(0)} ms`
    console.log(`      ${note}`)
    assert.equal(visible, 11, 'load-49 and load-490..499')
    assert.ok(worst < 250, `no long freeze after load: ${note}`)
    assert.ok(p95 < 250, `the page answers while the stream runs: ${note}`)
    assert.ok(filterMs < 1000, note)
    await page.close()
  })
})

describe('dashboard behind nginx, in the browser', function () {
  this.timeout(60_000)
  let colony: TestColony
  let nginx: Nginx
  let browser: Browser

  before(async () => {
    colony = await startColony({ config: { actors: { heartbeatIntervalMs: 300 }, http: { trustProxy: true } } })
    nginx = await startNginx({ upstream: new URL(colony.rt.urls.http).host })
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await nginx?.stop()
    await colony?.close()
  })

  it('works under nginx\'s headers: asks for a key (a proxied page is not local), then streams, chats and steers', async () => {
    const page = await browser.newPage()
    const violations: string[] = []
    page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()) })
    const res = await page.goto(`http://127.0.0.1:${nginx.port}/`)
    assert.match(res?.headers()['content-security-policy'] ?? '', /connect-src 'self' ws: wss:/)
    await page.waitForSelector('#sign-in:not([hidden])')
    assert.ok(await page.locator('#local').isHidden(), 'through a proxy there is no local mode')
    await page.fill('#key', colony.rt.identity.bootstrap?.apiKey as string)
    await page.click('#sign-in button[type=submit]')
    await page.waitForSelector('#connection.on')
    await page.locator('#actors tr[data-id="monitor-agent"] td.age', { hasText: /^[01]s ago$/ }).waitFor()
    const echo = await colony.rt.system.spawn('echo', { name: 'echo-via-nginx' })
    await page.waitForSelector(`#actors tr[data-id="${echo.id}"] .state.running`)
    await page.fill('#chat-input', '@echo-via-nginx through the proxy')
    await page.click('#chat-form button[type=submit]')
    await page.locator('#conversation li:not(.mine)', { hasText: 'through the proxy' }).waitFor()
    await page.click(`#actors tr[data-id="${echo.id}"] button[data-action="pause"]`)
    await page.waitForSelector(`#actors tr[data-id="${echo.id}"] .state.paused`)
    assert.deepEqual(violations, [], 'no CSP violation')
    await page.close()
  })
})

describe('dashboard across a Colony restart', function () {
  this.timeout(60_000)
  let browser: Browser
  let colony: TestColony | undefined
  let dir: string
  let port: number

  const start = async (): Promise<TestColony> => {
    colony = await startColony({ config: { http: { port }, data: { dir }, actors: { heartbeatIntervalMs: 300 } } })
    return colony
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'colony-dashboard-restart-'))
    port = await freePort()
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await colony?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('goes offline when Colony stops, and comes back live with the list read again once it is up', async () => {
    let c = await start()
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${port}/`)
    await page.waitForSelector('#connection.on')
    // The runtime's own spawn: not restored (a user's would be), so its row going shows that the list was read again.
    const before = await c.rt.system.spawnInternal('echo', { name: 'before-restart' })
    await page.waitForSelector(`#actors tr[data-id="${before.id}"]`)
    await c.close()
    await page.waitForSelector('#connection.off')
    // Typed while Colony is down: kept, and sent once the chat's connection is back.
    await page.fill('#chat-input', '@main-actor help')
    await page.click('#chat-form button[type=submit]')
    await page.waitForSelector('#conversation li.mine:text("@main-actor help")')
    c = await start()
    const after = await c.rt.system.spawn('echo', { name: 'after-restart' })
    // The stream reconnects with backoff (1 s, 2 s, ...) and the page reads the list again.
    await page.waitForSelector('#connection.on', { timeout: 20_000 })
    await page.waitForSelector(`#actors tr[data-id="${after.id}"] .state.running`)
    await page.waitForSelector(`#actors tr[data-id="${before.id}"]`, { state: 'detached' })
    await page.locator('#actors tr[data-id="main-actor"] td.age', { hasText: /^[01]s ago$/ }).waitFor()
    await page.locator('#conversation li:not(.mine)', { hasText: 'main-actor:' }).waitFor({ timeout: 10_000 })
    // And the chat's MQTT connection is back for new lines.
    await page.fill('#chat-input', '@after-restart still here')
    await page.click('#chat-form button[type=submit]')
    await page.locator('#conversation li:not(.mine)', { hasText: 'still here' }).waitFor({ timeout: 10_000 })
    await page.close()
  })
})

