import assert from 'node:assert/strict'
import { killAll, startCli } from '../helpers/cli.js'
import { FIXTURES_DIR, call, invokeOk } from '../helpers/components.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { killAllNats, startNatsCluster, startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { Wash, type CtlReply } from '../helpers/wash.js'

/**
 * Several Colony processes as hosts of one lattice: each a real `colony` child process with its own data dir, joined
 * through a real nats-server (or a 3-node cluster), driven by a wash-like client. Heartbeats every 200 ms let the
 * tests wait for events instead of sleeping.
 */

interface Host {
  name: string
  id: string
  http: string
  mqtt: string
  stop(): Promise<void>
}

const NKEY = /^N[A-Z2-7]{55}$/
const ADDER_REF = `file://${FIXTURES_DIR}adder.wasm`

/** Starts `colony --nats-url url` and learns its host id from its `host_started` event (named by its friendly name). */
async function startHost (wash: Wash, natsUrl: string, name: string): Promise<Host> {
  const run = await startCli(['--nats-url', natsUrl], { COLONY_NATS_HEARTBEAT_INTERVAL_MS: '200', COLONY_NATS_FRIENDLY_NAME: name })
  const stop = async (): Promise<void> => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM')
    await run.exited
  }
  try {
    const started = await wash.event('host_started', (e) => e.data.friendly_name === name)
    return { name, id: started.source, http: run.urls.http, mqtt: run.urls.mqtt, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** The hosts answering a `host.ping` scatter-gather (the 1 s window is the protocol: every reply until it ends). */
async function ping (wash: Wash): Promise<string[]> {
  const replies = await wash.gather('host.ping', '', 1000)
  assert.ok(replies.every((r) => r.success), JSON.stringify(replies))
  return replies.map((r) => r.response.id as string)
}

/** Scales the adder on `target` over NATS; resolves with its `component_scaled` event. */
async function scaleAdder (wash: Wash, target: Host): Promise<{ source: string, data: any }> {
  const from = wash.mark
  const ack = await wash.request(`component.scale.${target.id}`, { component_ref: ADDER_REF, component_id: 'adder', count: 1 })
  assert.equal(ack.success, true, JSON.stringify(ack))
  return wash.event('component_scaled', (e) => e.data.component_id === 'adder', { from })
}

/** The lattice ids of the components a host's inventory (`host.get.{id}`) lists. */
async function inventory (wash: Wash, host: Host): Promise<string[]> {
  const inv = await wash.request(`host.get.${host.id}`)
  assert.equal(inv.success, true, JSON.stringify(inv))
  assert.equal(inv.response.host_id, host.id)
  return inv.response.components.map((c: { id: string }) => c.id)
}

const linksOf = async (host: Host, sourceId: string): Promise<unknown[]> => {
  const res = await call('GET', `${host.http}/v1/links`)
  assert.equal(res.status, 200, JSON.stringify(res.body))
  return (res.body as Array<{ source_id: string }>).filter((l) => l.source_id === sourceId)
}

const summary = (replies: CtlReply[]): unknown[] => replies.map((r) => ({ success: r.success, message: r.message }))

describe('NATS lattice: several Colony processes as hosts', function () {
  this.timeout(30_000)
  after(() => {
    // Safety net only: every test stops what it started.
    killAll()
    killAllNats()
  })

  describe('three hosts on one nats-server', () => {
    let nats: NatsServer
    let wash: Wash
    let hosts: Host[] = []
    let a: Host, b: Host, c: Host
    /** One recorder per host on its MQTT `system/lattice/events/linkdef_*` mirror. */
    let mirrors: Recorder[] = []

    before(async () => {
      nats = await startNatsServer()
      wash = await Wash.connect(nats.url)
      hosts = await Promise.all(['lattice-a', 'lattice-b', 'lattice-c'].map((n) => startHost(wash, nats.url, n)))
      ;[a, b, c] = hosts as [Host, Host, Host]
      await wash.converge(hosts.map((h) => h.id))
      mirrors = await Promise.all(hosts.map((h) => connect(h.mqtt)))
      await Promise.all(mirrors.map((m) => m.subscribe('system/lattice/events/linkdef_set', 'system/lattice/events/linkdef_deleted')))
    })
    after(async () => {
      await Promise.all(mirrors.map((m) => m.close()))
      await Promise.all(hosts.map((h) => h.stop()))
      await wash?.close()
      await nats?.stop()
    })

    it('host.ping: each host answers exactly once, with its own 56-character N... nkey id', async () => {
      const ids = await ping(wash)
      assert.equal(ids.length, 3, `replies from ${ids.join(', ')}`)
      assert.equal(new Set(ids).size, 3)
      for (const id of ids) assert.match(id, NKEY)
      assert.deepEqual([...ids].sort(), hosts.map((h) => h.id).sort())
    })

    it('component.scale.{C} is performed by C only: C lists, serves and invokes it; A and B do not know it', async () => {
      const scaled = await scaleAdder(wash, c)
      assert.equal(scaled.source, c.id)
      assert.deepEqual({ host: scaled.data.host_id, ref: scaled.data.image_ref, n: scaled.data.max_instances }, { host: c.id, ref: ADDER_REF, n: 1 })

      assert.deepEqual(await inventory(wash, c), ['adder'])
      assert.deepEqual(await inventory(wash, a), [])
      assert.deepEqual(await inventory(wash, b), [])
      // Only C scaled anything (its inventory answers came after its event, so the others had time to misbehave).
      assert.deepEqual(wash.seen('component_scaled').map((e) => e.source), [c.id])

      const registered = await call('GET', `${c.http}/v1/envs/default/components/adder`)
      assert.equal(registered.status, 200, JSON.stringify(registered.body))
      const componentId = registered.body.componentId as string
      assert.equal(await invokeOk(c.http, componentId, 'add', [2, 3]), 5)

      const onA = await call('GET', `${a.http}/v1/envs/default/components/adder`)
      assert.equal(onA.status, 404, JSON.stringify(onA.body))
      assert.equal((await call('POST', `${a.http}/v1/components/${componentId}/invoke-and-await?function=add`, { params: [2, 3] })).status, 404)
    })

    it('link.put and link.del are answered by exactly one host and replicated to every host', async () => {
      const link = {
        source_id: 'adder', target: 'keyvalue-provider', name: 'default', wit_namespace: 'wasi', wit_package: 'keyvalue',
        interfaces: ['store'], source_config: [], target_config: [],
      }
      let from = wash.mark
      let marks = mirrors.map((m) => m.mark)
      // Scatter-gather with a reply inbox: the queue group lets one host take the request, so one reply comes back.
      assert.deepEqual(summary(await wash.gather('link.put', link, 1000)), [{ success: true, message: 'successfully set link' }])
      const set = await wash.event('linkdef_set', (e) => e.data.source_id === 'adder', { from })
      assert.ok(hosts.some((h) => h.id === set.source), `announced by ${set.source}`)
      assert.deepEqual(set.data, link)

      // Each host's MQTT shows the event (the answering host's own, the others' mirror, put there right before they
      // store it in the same synchronous handler): once it is on MQTT, that host's REST lists the link.
      for (const [i, host] of hosts.entries()) {
        const mirrored = await (mirrors[i] as Recorder).next((m) => m.json?.id === set.id, { from: marks[i], what: `linkdef_set on ${host.name}'s MQTT` })
        assert.equal(mirrored.json.source, set.source)
        assert.deepEqual(await linksOf(host, 'adder'), [link], `GET /v1/links on ${host.name}`)
      }
      // The replicas applied it quietly: one announcement in the lattice, one message per host's MQTT.
      assert.deepEqual(wash.seen('linkdef_set', from).map((e) => e.source), [set.source])
      assert.deepEqual(mirrors.map((m, i) => m.on('system/lattice/events/linkdef_set', marks[i]).length), [1, 1, 1])

      from = wash.mark
      marks = mirrors.map((m) => m.mark)
      const key = { source_id: 'adder', name: 'default', wit_namespace: 'wasi', wit_package: 'keyvalue' }
      assert.deepEqual(summary(await wash.gather('link.del', key, 1000)), [{ success: true, message: 'successfully deleted link' }])
      const deleted = await wash.event('linkdef_deleted', (e) => e.data.source_id === 'adder', { from })
      assert.ok(hosts.some((h) => h.id === deleted.source))
      for (const [i, host] of hosts.entries()) {
        await (mirrors[i] as Recorder).next((m) => m.json?.id === deleted.id, { from: marks[i], what: `linkdef_deleted on ${host.name}'s MQTT` })
        assert.deepEqual(await linksOf(host, 'adder'), [], `GET /v1/links on ${host.name} after link.del`)
      }
      assert.deepEqual(wash.seen('linkdef_deleted', from).map((e) => e.source), [deleted.source])
      assert.deepEqual((await wash.request('link.get')).response, [])
    })

    it('a host that joins later takes the lattice\'s links (link.get on connect)', async () => {
      const link = {
        source_id: 'late-source', target: 'logging-provider', name: 'default', wit_namespace: 'wasi', wit_package: 'logging',
        interfaces: ['logging'], source_config: [], target_config: [],
      }
      const marks = mirrors.map((m) => m.mark)
      const put = await wash.request('link.put', link)
      assert.equal(put.success, true, JSON.stringify(put))
      // Every running host holds it before the newcomer asks, whichever of them answers its link.get.
      await Promise.all(mirrors.map((m, i) => m.next((x) => x.json?.data?.source_id === 'late-source', { from: marks[i], what: 'linkdef_set' })))

      const d = await startHost(wash, nats.url, 'lattice-d')
      try {
        await wash.converge([d.id])
        assert.equal((await ping(wash)).length, 4)
        // The catch-up runs in the background after connecting and leaves no event behind (links taken from link.get
        // are not announced again), so there is nothing to await directly. Heartbeats come every 200 ms: look again
        // after each of D's heartbeats, at most 25 times (about 5 s), instead of sleeping.
        let links: unknown[] = []
        for (let attempt = 0; attempt < 25; attempt++) {
          links = await linksOf(d, 'late-source')
          if (links.length > 0) break
          await wash.event('host_heartbeat', (e) => e.source === d.id, { from: wash.mark })
        }
        assert.deepEqual(links, [link], 'GET /v1/links on the host that joined later')
        assert.equal(wash.seen('linkdef_set').filter((e) => e.source === d.id).length, 0, 'the newcomer does not announce what it caught up on')
      } finally {
        await d.stop()
      }
    })
  })

  describe('two hosts on a 3-node NATS cluster (hosts on nodes A and C, the client on node B)', () => {
    let cluster: NatsServer[] = []
    let wash: Wash
    let hosts: Host[] = []

    before(async () => {
      cluster = await startNatsCluster()
      const [nodeA, nodeB, nodeC] = cluster as [NatsServer, NatsServer, NatsServer]
      wash = await Wash.connect(nodeB.url)
      hosts = await Promise.all([startHost(wash, nodeA.url, 'cluster-1'), startHost(wash, nodeC.url, 'cluster-2')])
      await wash.converge(hosts.map((h) => h.id))
    })
    after(async () => {
      await Promise.all(hosts.map((h) => h.stop()))
      await wash?.close()
      await Promise.all(cluster.map((s) => s.stop()))
    })

    it('host.ping through the routes: each host answers exactly once', async () => {
      const ids = await ping(wash)
      assert.equal(ids.length, 2, `replies from ${ids.join(', ')}`)
      assert.deepEqual([...ids].sort(), hosts.map((h) => h.id).sort())
    })

    it('a scale sent to the second host is performed by it only', async () => {
      const [first, second] = hosts as [Host, Host]
      const scaled = await scaleAdder(wash, second)
      assert.equal(scaled.source, second.id)
      assert.deepEqual(await inventory(wash, second), ['adder'])
      assert.deepEqual(await inventory(wash, first), [])
      assert.deepEqual(wash.seen('component_scaled').map((e) => e.source), [second.id])
      const registered = await call('GET', `${second.http}/v1/envs/default/components/adder`)
      assert.equal(registered.status, 200, JSON.stringify(registered.body))
      assert.equal(await invokeOk(second.http, registered.body.componentId as string, 'add', [20, 22]), 42)
      assert.equal((await call('GET', `${first.http}/v1/envs/default/components/adder`)).status, 404)
    })
  })
})
