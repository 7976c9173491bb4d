/**
 * A component's scale is acknowledged state: what REST, chat or NATS scaled is running again after a restart, with
 * the same instances, env, args, filesystem and links; what was scaled to 0, deleted, or only started by an
 * invocation (scale-from-zero) is not.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { call, create, envCheck, fixture, invokeOk, linkKeyvalue, scale } from '../helpers/components.js'

/** The next heartbeat of an actor, from the in-process bus. */
function nextBeat (colony: TestColony, id: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const off = colony.rt.broker.bus.subscribe(`agents/${id}/heartbeat`, (m) => {
      off()
      resolve(JSON.parse(m.payload.toString('utf8')) as Record<string, unknown>)
    })
  })
}

/**
 * Sends a chat line to main-actor and resolves with its reply. The reply can come before the 202 that names the
 * line's id: replies are kept by the id they answer until that id is known.
 */
async function chat (colony: TestColony, content: string): Promise<string> {
  const replies = new Map<string, string>()
  let wanted: ((content: string) => void) | undefined
  let accepted: string | undefined
  const off = colony.rt.broker.bus.subscribe('agents/main-actor/chat', (m) => {
    const message = JSON.parse(m.payload.toString('utf8')) as { inReplyTo?: string, content: string }
    if (message.inReplyTo === undefined) return
    if (message.inReplyTo === accepted) wanted?.(message.content)
    else replies.set(message.inReplyTo, message.content)
  })
  try {
    const res = await call('POST', `${colony.rt.urls.http}/api/chat`, { to: 'main-actor', content })
    assert.equal(res.status, 202, JSON.stringify(res.body))
    accepted = res.body.id as string
    const early = replies.get(accepted)
    if (early !== undefined) return early
    return await new Promise<string>((resolve) => { wanted = resolve })
  } finally {
    off()
  }
}

describe('components: scales survive a restart', function () {
  this.timeout(60_000)
  let dir: string
  let colony: TestColony | undefined

  const start = async (): Promise<TestColony> => {
    colony = await startColony({ config: { data: { dir } } })
    return colony
  }

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'colony-restore-')) })
  afterEach(async () => {
    await colony?.close()
    colony = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('REST and chat scales come back with instances, env, args, filesystem and links; 0, deleted and scale-from-zero do not', async () => {
    let c = await start()
    let base = c.rt.urls.http
    const env = await create(base, 'envcheck', await envCheck())
    const scaled = await call('POST', `${base}/v1/components/${env}/scale`, { instances: 3, env: { A: '1', B: '2' }, args: ['prog', '--x', 'y'], filesystem: true })
    assert.equal(scaled.status, 200, JSON.stringify(scaled.body))
    // A resize keeps the running instances' settings; that is what must come back.
    assert.equal((await scale(base, env, 2)).status, 200)

    const counter = await create(base, 'counter', await fixture('counter'))
    assert.equal((await linkKeyvalue(base, counter)).status, 200)
    assert.equal(await chat(c, 'scale counter 2'), 'counter runs 2 instances')
    assert.equal(await invokeOk(base, counter, 'increment', []), 1)

    const adder = await create(base, 'adder', await fixture('adder'))
    assert.equal(await invokeOk(base, adder, 'add', [1, 2]), 3, 'started by the call: scale-from-zero')
    assert.equal(c.rt.system.get(adder)?.state, 'running')
    const hello = await create(base, 'hello', await fixture('hello'))
    assert.equal((await scale(base, hello, 2)).status, 200)
    assert.equal((await call('DELETE', `${base}/api/actors/${hello}`)).status, 200)
    const loop = await create(base, 'loop', await fixture('loop'))
    assert.equal((await scale(base, loop, 2)).status, 200)
    assert.equal((await scale(base, loop, 0)).status, 200)
    await c.close()

    c = await start()
    base = c.rt.urls.http
    // Restored before the listeners opened: running as soon as the API answers.
    assert.equal(c.rt.system.get(env)?.state, 'running')
    const beat = await nextBeat(c, env)
    assert.equal(beat.instances, 2)
    assert.equal(beat.desiredInstances, 2)
    assert.equal(await invokeOk(base, env, 'env-count', []), 2, 'env restored')
    assert.equal(await invokeOk(base, env, 'args-count', []), 3, 'args restored')
    assert.equal(await invokeOk(base, env, 'dirs-count', []), 1, 'filesystem restored')
    assert.equal(c.rt.system.get(counter)?.state, 'running')
    assert.equal((await nextBeat(c, counter)).instances, 2)
    assert.equal(await invokeOk(base, counter, 'increment', []), 2, 'its link and its data are back')
    for (const [name, id] of [['adder', adder], ['hello', hello], ['loop', loop]]) {
      assert.equal(c.rt.system.get(id as string), undefined, `${name as string} is not running`)
    }
    assert.deepEqual(c.rt.services.components.scales.all().map((s) => s.componentId).sort(), [counter, env].sort())
    assert.ok(c.logs.some((l) => l.msg === 'component scales restored' && l.restored === 2))
  })

  it('scaling to 0 or deleting the component forgets its scale', async () => {
    let c = await start()
    const base = c.rt.urls.http
    const adder = await create(base, 'adder', await fixture('adder'))
    const hello = await create(base, 'hello', await fixture('hello'))
    for (const id of [adder, hello]) assert.equal((await scale(base, id, 1)).status, 200)
    assert.equal((await call('DELETE', `${base}/v1/components/${adder}`)).status, 200)
    assert.equal(await chat(c, 'scale hello 0'), 'hello stopped (0 instances)')
    assert.deepEqual(c.rt.services.components.scales.all(), [])
    await c.close()
    c = await start()
    assert.equal(c.rt.system.get(hello), undefined)
    assert.ok(!c.logs.some((l) => l.msg === 'component scales restored'))
  })

  it('a component that cannot start again is logged, the others start, and its scale is kept for the next start', async () => {
    let c = await start()
    const base = c.rt.urls.http
    const broken = await create(base, 'adder', await fixture('adder'))
    const fine = await create(base, 'hello', await fixture('hello'))
    for (const id of [broken, fine]) assert.equal((await scale(base, id, 1)).status, 200)
    await c.close()
    // Its bytes are gone (a disk problem, a restore from an old backup): it cannot be loaded.
    rmSync(join(dir, 'components', broken), { recursive: true, force: true })

    c = await start()
    assert.equal(c.rt.system.get(fine)?.state, 'running')
    assert.equal(c.rt.system.get(broken), undefined)
    const warning = c.logs.find((l) => l.msg === 'a component\'s saved scale could not be restored')
    assert.equal(warning?.componentId, broken)
    assert.deepEqual(c.rt.services.components.scales.get(broken)?.instances, 1, 'kept: the next start tries again')
  })

  it('a dozen components come back together, each running, without listener warnings', async () => {
    let c = await start()
    const adder = await fixture('adder')
    const ids: string[] = []
    for (let i = 0; i < 12; i++) {
      const id = await create(c.rt.urls.http, `adder-${i}`, adder)
      assert.equal((await scale(c.rt.urls.http, id, 1)).status, 200)
      ids.push(id)
    }
    await c.close()
    const warnings: string[] = []
    const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
    process.on('warning', onWarning)
    try {
      c = await start()
      for (const id of ids) assert.equal(c.rt.system.get(id)?.state, 'running', id)
      assert.equal(await invokeOk(c.rt.urls.http, ids[11] as string, 'add', [20, 22]), 42)
      assert.ok(c.logs.some((l) => l.msg === 'component scales restored' && l.restored === 12))
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [])
    } finally {
      process.off('warning', onWarning)
    }
  })
})
