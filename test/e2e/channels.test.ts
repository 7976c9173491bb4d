import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { signup, type Account } from '../helpers/identity.js'
import { createTeam, switchTeam } from '../helpers/teams.js'
import { assertError, call } from '../helpers/components.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { Receiver, type Received } from '../helpers/receiver.js'
import { ManualClock } from '../../src/clock.js'
import { topics } from '../../src/wire/topics.js'
import { eventPayload } from '../../src/wire/events.js'
import { verify } from '../../src/channels.js'
import type { ActorKind } from '../../src/actor/types.js'
import type { Severity } from '../../src/wire/payloads.js'

/** Test actors that raise the alert they are told to in chat (`error disk full`): two types, for the type filter. */
const alerter = (kind: string, agentType: string): ActorKind => ({
  kind,
  agentType,
  spawnable: true,
  create (ctx) {
    return {
      chat (message) {
        const [severity, ...words] = message.content.split(' ')
        ctx.alert(severity as Severity, words.join(' '))
        return 'raised'
      },
    }
  },
})

/** A platform event as its producer publishes it (the hosts part publishes host.up this way). */
function hostUp (colony: TestColony, teamId: string, hostId: string): void {
  colony.rt.broker.bus.publish(topics.systemEvent('host.up'), eventPayload('host.up', teamId, { type: 'system' }, { id: hostId, type: 'host' }, Date.now()))
}

describe('notification channels', () => {
  let colony: TestColony
  let base: string
  let alice: Account
  const receivers: Receiver[] = []
  const receiver = async (): Promise<Receiver> => {
    const r = await new Receiver().start()
    receivers.push(r)
    return r
  }
  const api = (method: string, path: string, body?: unknown, who: Account = alice) => call(method, `${base}${path}`, body, { token: who.token })
  const createChannel = async (body: Record<string, unknown>, who: Account = alice): Promise<any> => {
    const res = await api('POST', '/v1/channels', body, who)
    assert.equal(res.status, 201, JSON.stringify(res.body))
    return res.body
  }

  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close()
    await colony?.close()
  })

  describe('on a real runtime', () => {
    beforeEach(async () => {
      colony = await startColony({ kinds: [alerter('sensor', 'sensor'), alerter('probe', 'probe')] })
      base = colony.rt.urls.http
      alice = await signup(base, 'alice')
    })

    it('each provider\'s payload reaches its receiver in the provider\'s documented shape', async () => {
      const r = await receiver()
      const events = ['host.up']
      await createChannel({ name: 'discord', provider: 'discord', config: { webhook_url: `${r.url}/api/webhooks/1/tok-discord` }, events })
      await createChannel({ name: 'slack', provider: 'slack', config: { webhook_url: `${r.url}/services/T0/B0/tok-slack` }, events })
      await createChannel({ name: 'teams', provider: 'teams', config: { webhook_url: `${r.url}/workflows/tok-teams` }, events })
      await createChannel({ name: 'gchat', provider: 'googlechat', config: { webhook_url: `${r.url}/v1/spaces/S/messages?key=k&token=tok-gchat` }, events })
      await createChannel({ name: 'telegram', provider: 'telegram', config: { bot_token: '123:tok-telegram', chat_id: '-1001', api_url: r.url }, events })
      await createChannel({ name: 'matrix', provider: 'matrix', config: { homeserver_url: r.url, access_token: 'tok-matrix', room_id: '!room:example.org' }, events })
      const hook = await createChannel({ name: 'hook', provider: 'webhook', config: { url: `${r.url}/hook` }, events })
      assert.match(hook.secret, /^[0-9a-f]{64}$/, 'Wrenn generates 32 random bytes as hex')

      hostUp(colony, alice.team_id, 'host-7')
      const by = (prefix: string): Promise<Received> => r.next((q) => q.url.startsWith(prefix), 10_000, prefix)

      const discord = await by('/api/webhooks/1/tok-discord')
      assert.equal(discord.method, 'POST')
      assert.match(discord.json.content, /Host host-7 is up/)
      assert.equal(discord.json.embeds[0].description, discord.json.content)
      assert.equal(typeof discord.json.embeds[0].color, 'number')

      const slack = await by('/services/T0/B0/tok-slack')
      assert.match(slack.json.text, /Host host-7 is up/)
      assert.deepEqual(slack.json.blocks[0], { type: 'section', text: { type: 'mrkdwn', text: slack.json.text } })

      const teams = await by('/workflows/tok-teams')
      assert.equal(teams.json.type, 'message')
      assert.equal(teams.json.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive')
      assert.equal(teams.json.attachments[0].content.type, 'AdaptiveCard')
      assert.match(teams.json.attachments[0].content.body[1].text, /Host host-7 is up/)

      const gchat = await by('/v1/spaces/S/messages')
      assert.equal(gchat.url, '/v1/spaces/S/messages?key=k&token=tok-gchat', 'the key and token stay in the query')
      assert.deepEqual(Object.keys(gchat.json), ['text'])
      assert.match(gchat.json.text, /Host host-7 is up/)

      const telegram = await by('/bot123:tok-telegram/sendMessage')
      assert.equal(telegram.method, 'POST')
      assert.equal(telegram.json.chat_id, '-1001')
      assert.match(telegram.json.text, /Host host-7 is up/)

      const matrix = await by('/_matrix/client/v3/rooms/')
      assert.equal(matrix.method, 'PUT')
      assert.match(matrix.url, /^\/_matrix\/client\/v3\/rooms\/!room%3Aexample\.org\/send\/m\.room\.message\/[0-9a-f-]{36}$/)
      assert.equal(matrix.headers.authorization, 'Bearer tok-matrix')
      assert.deepEqual(matrix.json.msgtype, 'm.text')
      assert.match(matrix.json.body, /Host host-7 is up/)

      const webhook = await by('/hook')
      assert.deepEqual(webhook.json, { event: 'host.up', timestamp: webhook.json.timestamp, team_id: alice.team_id, actor: { type: 'system' }, resource: { id: 'host-7', type: 'host' } })
      assert.match(webhook.json.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
      const ts = webhook.headers['x-wrenn-timestamp'] as string
      assert.match(ts, /^\d{10}$/)
      assert.match(webhook.headers['x-wrenn-delivery'] as string, /^[0-9a-f-]{36}$/)
      assert.ok(verify(hook.secret, ts, webhook.body, webhook.headers['x-wrenn-signature'] as string), 'the signature verifies with the secret')
      assert.ok(!verify('0'.repeat(64), ts, webhook.body, webhook.headers['x-wrenn-signature'] as string))
      assert.equal(r.requests.length, 7, 'one request per channel')
    })

    it('another team\'s event and an event the channel did not ask for send nothing', async () => {
      const r = await receiver()
      const bob = await signup(base, 'bob')
      await createChannel({ name: 'ups', provider: 'webhook', config: { url: `${r.url}/ups` }, events: ['host.up'] })
      await createChannel({ name: 'downs', provider: 'webhook', config: { url: `${r.url}/downs` }, events: ['host.down'] })
      hostUp(colony, bob.team_id, 'host-bob')
      hostUp(colony, alice.team_id, 'host-a')
      const first = await r.next()
      assert.equal(first.json.resource.id, 'host-a')
      assert.equal(first.url, '/ups')
      await colony.rt.broker.bus.drained()
      assert.equal(r.requests.length, 1)
    })

    it('bad input on every route: a clear 4xx with a code, nothing stored; another team\'s channel is 404', async () => {
      const r = await receiver()
      const good = { name: 'ok', provider: 'webhook', config: { url: `${r.url}/x`, secret: 's3cret' }, events: ['capsule.created'] }
      const bad: Array<[Record<string, unknown>, number, string]> = [
        [{ ...good, provider: 'pager' }, 400, 'invalid_body'],
        [{ ...good, name: '' }, 400, 'invalid_body'],
        [{ ...good, name: 'has space' }, 400, 'invalid_body'],
        [{ ...good, events: [] }, 400, 'channel_event_unknown'],
        [{ ...good, events: ['capsule.exploded'] }, 400, 'channel_event_unknown'],
        [{ ...good, config: {} }, 400, 'channel_config_invalid'],
        [{ ...good, config: { url: 'ftp://x/y' } }, 400, 'channel_config_invalid'],
        [{ ...good, config: { url: 'not a url' } }, 400, 'channel_config_invalid'],
        [{ ...good, config: { url: `${r.url}/x`, token: 'extra' } }, 400, 'channel_config_invalid'],
        [{ ...good, provider: 'telegram', config: { bot_token: 't' } }, 400, 'channel_config_invalid'],
        [{ ...good, provider: 'matrix', config: { homeserver_url: r.url, access_token: 'a' } }, 400, 'channel_config_invalid'],
        [{ ...good, config: { url: 5 } }, 400, 'invalid_body'],
        [{ ...good, alert_filter: { min_severity: 'loud' } }, 400, 'invalid_body'],
        [{ ...good, extra: 1 }, 400, 'invalid_body'],
        [{ name: 'x' }, 400, 'invalid_body'],
      ]
      for (const [body, status, code] of bad) assertError(await api('POST', '/v1/channels', body), status, code, JSON.stringify(body))
      assert.deepEqual((await api('GET', '/v1/channels')).body, [], 'nothing was stored')

      const ch = await createChannel(good)
      assert.equal(ch.secret, 's3cret', 'Wrenn: the webhook secret is in the create answer, and never again')
      assert.equal((await api('GET', `/v1/channels/${ch.id}`)).body.secret, undefined)
      assertError(await api('POST', '/v1/channels', good), 409, 'channel_name_taken')
      const other = await createChannel({ ...good, name: 'other' })
      assertError(await api('PATCH', `/v1/channels/${other.id}`, { name: 'ok' }), 409, 'channel_name_taken')
      assertError(await api('PATCH', `/v1/channels/${ch.id}`, { events: ['nope'] }), 400, 'channel_event_unknown')
      assertError(await api('PATCH', `/v1/channels/${ch.id}`, { events: [] }), 400, 'channel_event_unknown')
      assertError(await api('PATCH', `/v1/channels/${ch.id}`, { colour: 'red' }), 400, 'invalid_body')
      assertError(await api('PUT', `/v1/channels/${ch.id}/config`, { config: { nope: 'x' } }), 400, 'channel_config_invalid')
      assertError(await api('PUT', `/v1/channels/${ch.id}/config`, {}), 400, 'invalid_body')
      assertError(await api('GET', '/v1/channels/ch-missing'), 404, 'channel_not_found')
      assertError(await api('POST', '/v1/channels/test', { provider: 'slack', config: {} }), 400, 'channel_config_invalid')
      r.statuses = [500]
      assertError(await api('POST', '/v1/channels/test', { provider: 'slack', config: { webhook_url: `${r.url}/fail` } }), 502, 'channel_delivery_failed')
      assert.deepEqual(await api('POST', '/v1/channels/test', { provider: 'slack', config: { webhook_url: `${r.url}/works` } }).then((x) => x.body), { status: 'ok' })
      assert.match((await r.next((q) => q.url === '/works')).json.text, /test notification/)

      const bob = await signup(base, 'bob')
      for (const [method, path, body] of [['GET', `/v1/channels/${ch.id}`], ['PATCH', `/v1/channels/${ch.id}`, { name: 'mine' }],
        ['PUT', `/v1/channels/${ch.id}/config`, { config: { url: `${r.url}/bob` } }], ['DELETE', `/v1/channels/${ch.id}`]] as Array<[string, string, unknown]>) {
        assertError(await api(method, path, body, bob), 404, 'channel_not_found', `${method} ${path}`)
      }
      assert.deepEqual((await api('GET', '/v1/channels', undefined, bob)).body, [])
      const after = await api('GET', `/v1/channels/${ch.id}`)
      assert.equal(after.body.name, 'ok', 'nothing changed')
      assert.deepEqual(after.body.events, ['capsule.created'])

      // The good paths of the routes not used above.
      const patched = await api('PATCH', `/v1/channels/${ch.id}`, { name: 'renamed', events: ['host.up', 'host.down', 'host.up'], alert_filter: { min_severity: 'error' } })
      assert.equal(patched.status, 200, JSON.stringify(patched.body))
      assert.deepEqual(patched.body.events, ['host.up', 'host.down'])
      assert.deepEqual(patched.body.alert_filter, { min_severity: 'error' })
      const rotated = await api('PUT', `/v1/channels/${ch.id}/config`, { config: { url: `${r.url}/rotated` } })
      assert.equal(rotated.status, 200)
      assert.match(rotated.body.secret, /^[0-9a-f]{64}$/, 'a rotation without a secret generates one, shown once')
      assert.equal((await api('GET', `/v1/channels/${ch.id}`)).body.secret, undefined)
      assert.equal((await api('DELETE', `/v1/channels/${ch.id}`)).status, 204)
      assertError(await api('GET', `/v1/channels/${ch.id}`), 404, 'channel_not_found')
    })

    it('no secret in any GET, log line, MQTT payload or the database file', async () => {
      const r = await receiver()
      const mqtt: Recorder = await connect(colony.rt.urls.mqtt)
      await mqtt.subscribe('#')
      const secrets = ['SECRET-discord-6f1e', 'SECRET-tg-93ab', 'SECRET-matrix-77c2', 'SECRET-hook-0d4e']
      await createChannel({ name: 'd', provider: 'discord', config: { webhook_url: `${r.url}/api/webhooks/1/${secrets[0]}` }, events: ['host.up', 'actor.alert'] })
      await createChannel({ name: 't', provider: 'telegram', config: { bot_token: secrets[1], chat_id: '1', api_url: r.url }, events: ['host.up'] })
      await createChannel({ name: 'm', provider: 'matrix', config: { homeserver_url: r.url, access_token: secrets[2], room_id: '!r:x' }, events: ['host.up'] })
      const hook = await createChannel({ name: 'w', provider: 'webhook', config: { url: `${r.url}/w`, secret: secrets[3] as string }, events: ['host.up'] })
      // A failing attempt logs; a rotation and a test send go through the same code.
      r.statuses = [500]
      hostUp(colony, alice.team_id, 'h1')
      for (let i = 1; i <= 4; i++) await r.nth(i)
      await api('PUT', `/v1/channels/${hook.id}/config`, { config: { url: `${r.url}/w2`, secret: secrets[3] as string } })
      await api('POST', '/v1/channels/test', { provider: 'telegram', config: { bot_token: secrets[1] as string, chat_id: '1', api_url: 'http://127.0.0.1:1' } })
      const list = JSON.stringify((await api('GET', '/v1/channels')).body)
      const one = JSON.stringify((await api('GET', `/v1/channels/${hook.id}`)).body)
      await colony.rt.broker.bus.drained()
      const logs = JSON.stringify(colony.logs)
      const payloads = mqtt.received.map((m) => m.payload.toString('utf8')).join('\n')
      assert.ok(mqtt.received.some((m) => m.topic === 'system/events/host.up'), 'the event itself went over MQTT')
      assert.ok(colony.logs.some((l) => l.msg === 'channel delivery failed; will retry'), 'the failure was logged')
      const files = readdirSync(colony.dataDir).filter((f) => f.startsWith('colony.db')).map((f) => readFileSync(join(colony.dataDir, f)).toString('latin1')).join('')
      for (const s of secrets) {
        assert.ok(!list.includes(s) && !one.includes(s), `GET shows ${s}`)
        assert.ok(!logs.includes(s), `a log line holds ${s}`)
        assert.ok(!payloads.includes(s), `an MQTT payload holds ${s}`)
        assert.ok(!files.includes(s), `the database holds ${s} in plaintext`)
      }
      await mqtt.close()
    })

    it('actor alerts reach a channel by severity and actor type; states too; mute and unmute from chat', async () => {
      const r = await receiver()
      const mqtt = await connect(colony.rt.urls.mqtt)
      await mqtt.subscribe('agents/main-actor/chat')
      await createChannel({ name: 'alerts', provider: 'webhook', config: { url: `${r.url}/alerts` }, events: ['actor.alert'], alert_filter: { min_severity: 'error', agent_types: ['sensor'] } })
      const sensor = await colony.rt.system.spawn('sensor', { name: 's1', team: alice.team_id })
      const probe = await colony.rt.system.spawn('probe', { name: 'p1', team: alice.team_id })
      const bobs = await colony.rt.system.spawn('sensor', { name: 's-other', team: (await signup(base, 'bob')).team_id })
      const say = async (to: string, content: string, who: Account = alice): Promise<string> => {
        const res = await api('POST', '/api/chat', { to, content }, who)
        assert.equal(res.status, 202, JSON.stringify(res.body))
        return res.body.id as string
      }
      await say(sensor.id, 'info all fine')
      await say(probe.id, 'critical probe is on fire')
      colony.rt.system.deliver(bobs.id, { type: 'chat', id: 'm1', from: 'test', to: bobs.id, content: 'critical other team', timestampMs: Date.now() })
      await say(sensor.id, 'error disk full')
      const got = await r.next()
      assert.equal(got.json.event, 'actor.alert')
      assert.deepEqual(got.json.alert, { severity: 'error', message: 'disk full' })
      assert.deepEqual(got.json.agent, { name: 's1', type: 'sensor' })
      assert.deepEqual(got.json.resource, { id: sensor.id, type: 'actor' })
      assert.equal(got.json.team_id, alice.team_id)

      // Mute from chat: nothing is sent; unmute: sent again.
      const ask = async (content: string): Promise<string> => {
        const id = await say('main-actor', content)
        return (await mqtt.next((m) => m.json?.inReplyTo === id, { what: content })).json.content as string
      }
      assert.match(await ask('channels'), /alerts \(webhook\) actor\.alert/)
      assert.match(await ask('mute alerts 5'), /alerts is muted until \d{4}-/)
      assert.match(await ask('channels'), /\[muted until/)
      assert.match(await ask('mute nope'), /cannot mute nope: no channel named nope/)
      await say(sensor.id, 'critical while muted')
      await colony.rt.broker.bus.drained()
      assert.match(await ask('unmute alerts'), /alerts is no longer muted/)
      await say(sensor.id, 'critical after unmute')
      const next = await r.nth(2)
      assert.equal(next.json.alert.message, 'after unmute', 'the alert raised while muted was not sent')
      assert.equal(r.requests.length, 2)

      // actor.status: the lifecycle of the team's actors, filtered by type.
      await api('PATCH', `/v1/channels/${(await api('GET', '/v1/channels')).body[0].id}`, { events: ['actor.status'], alert_filter: { agent_types: ['probe'] } })
      colony.rt.system.pause(probe.id)
      const paused = await r.next((q) => q.json.event === 'actor.status')
      assert.deepEqual([paused.json.state, paused.json.agent], ['paused', { name: 'p1', type: 'probe' }])
      await mqtt.close()
    })
    it('a platform event on MQTT reaches only the clients of the team it names', async () => {
      const bob = await signup(base, 'bob')
      const a = await connect(colony.rt.urls.mqtt, { username: 'alice', password: alice.token })
      const b = await connect(colony.rt.urls.mqtt, { username: 'bob', password: bob.token })
      await a.subscribe('system/events/#')
      await b.subscribe('system/events/#')
      hostUp(colony, bob.team_id, 'host-of-bob')
      hostUp(colony, alice.team_id, 'host-of-alice')
      assert.equal((await a.next((m) => m.topic === 'system/events/host.up')).json.resource.id, 'host-of-alice', 'alice never sees bob\'s event')
      assert.equal((await b.next((m) => m.topic === 'system/events/host.up')).json.resource.id, 'host-of-bob')
      await a.close()
      await b.close()
    })

    it('a deleted team\'s channels go with it', async () => {
      const teamId = await createTeam(base, alice.token, 'ops')
      const token = await switchTeam(base, alice.token, teamId)
      const ch = await createChannel({ name: 'gone', provider: 'slack', config: { webhook_url: 'https://hooks.example/x' }, events: ['host.up'] }, { ...alice, token })
      assert.equal((await call('DELETE', `${base}/v1/teams/${teamId}`, undefined, { token })).status, 204)
      assert.equal(colony.rt.identity.store.channels.get(ch.id), undefined)
    })

    it('capsule and snapshot events reach a webhook as Wrenn sends them (capsule.running only on resume)', async function () {
      this.timeout(60_000)
      const r = await receiver()
      await createChannel({
        name: 'capsules', provider: 'webhook', config: { url: `${r.url}/c` },
        events: ['capsule.created', 'capsule.running', 'capsule.paused', 'capsule.destroyed', 'template.snapshot.created', 'template.snapshot.deleted'],
      })
      const created = await api('POST', '/v1/capsules', {})
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const id = created.body.id as string
      const seen = async (n: number): Promise<any> => (await r.nth(n, 20_000)).json
      const first = await seen(1)
      assert.deepEqual(first, {
        event: 'capsule.created', timestamp: first.timestamp, team_id: alice.team_id,
        actor: { type: 'user', id: alice.user_id, name: 'alice' }, resource: { id, type: 'capsule' },
      })
      assert.equal((await api('POST', `/v1/capsules/${id}/pause`)).status, 200)
      assert.equal((await seen(2)).event, 'capsule.paused')
      assert.equal((await api('POST', `/v1/capsules/${id}/resume`)).status, 200)
      assert.equal((await seen(3)).event, 'capsule.running')
      assert.equal((await api('POST', '/v1/snapshots', { sandbox_id: id, name: 'snap-1' })).status, 201)
      // The snapshot pauses the running capsule first, as Wrenn's does.
      assert.equal((await seen(4)).event, 'capsule.paused')
      assert.deepEqual([(await seen(5)).event, (await seen(5)).resource], ['template.snapshot.created', { id: 'snap-1', type: 'template' }])
      assert.equal((await api('DELETE', `/v1/capsules/${id}`)).status, 204)
      assert.equal((await seen(6)).event, 'capsule.destroyed')
      assert.equal((await api('DELETE', '/v1/snapshots/snap-1')).status, 204)
      assert.deepEqual((await seen(7)).resource, { id: 'snap-1', type: 'template' })
      assert.equal((await seen(7)).event, 'template.snapshot.deleted')
      assert.equal(r.requests.filter((q) => q.json.event === 'capsule.running').length, 1, 'create is not capsule.running')
    })
  })

  describe('with an injected clock', () => {
    let clock: ManualClock
    beforeEach(async () => {
      clock = new ManualClock(Date.now())
      colony = await startColony({ clock })
      base = colony.rt.urls.http
      alice = await signup(base, 'alice')
    })

    it('a receiver that fails twice gets the third attempt (10 s, then 30 s later), with the same delivery id', async () => {
      const r = await receiver()
      r.statuses = [500, 302]
      const hook = await createChannel({ name: 'w', provider: 'webhook', config: { url: `${r.url}/w` }, events: ['host.down'] })
      const attempts = colony.rt.services.channels.dispatcher.events
      const outcome = once(attempts, 'attempt')
      colony.rt.broker.bus.publish(topics.systemEvent('host.down'), eventPayload('host.down', alice.team_id, { type: 'system' }, { id: 'h', type: 'host' }, clock.now()))
      assert.deepEqual((await outcome)[0].ok, false)
      clock.advance(9_999)
      assert.equal(r.requests.length, 1, 'not before 10 s')
      const second = once(attempts, 'attempt')
      clock.advance(1)
      assert.equal((await second)[0].attempt, 2)
      assert.equal(r.requests.length, 2, 'a redirect is a failure, not followed')
      clock.advance(29_999)
      assert.equal(r.requests.length, 2, 'not before 30 s more')
      const third = once(attempts, 'attempt')
      clock.advance(1)
      assert.deepEqual((await third)[0], { ...(await third)[0], attempt: 3, ok: true, final: true })
      const ids = r.requests.map((q) => q.headers['x-wrenn-delivery'])
      assert.equal(new Set(ids).size, 1, 'one delivery id on every attempt')
      const last = r.requests[2] as Received
      assert.ok(verify(hook.secret, last.headers['x-wrenn-timestamp'] as string, last.body, last.headers['x-wrenn-signature'] as string))
      assert.deepEqual(colony.rt.identity.store.channels.pending(), [], 'the outbox is empty once delivered')
    })

    it('three failures drop the delivery with a warning', async () => {
      const r = await receiver()
      r.statuses = [500, 500, 500]
      await createChannel({ name: 'w', provider: 'slack', config: { webhook_url: `${r.url}/s` }, events: ['host.down'] })
      const attempts = colony.rt.services.channels.dispatcher.events
      let outcome = once(attempts, 'attempt')
      colony.rt.broker.bus.publish(topics.systemEvent('host.down'), eventPayload('host.down', alice.team_id, { type: 'system' }, { id: 'h', type: 'host' }, clock.now()))
      await outcome
      outcome = once(attempts, 'attempt')
      clock.advance(10_000)
      await outcome
      outcome = once(attempts, 'attempt')
      clock.advance(30_000)
      assert.deepEqual(((await outcome)[0] as { final: boolean, ok: boolean }), { ...(await outcome)[0], ok: false, final: true })
      assert.equal(r.requests.length, 3)
      assert.ok(colony.logs.some((l) => l.msg === 'channel delivery failed its last attempt; dropped'))
      assert.deepEqual(colony.rt.identity.store.channels.pending(), [])
    })
  })
})
