import assert from 'node:assert/strict'
import { bridgeKind, defineBridge, type BridgeContext, type BridgeRuntime } from '../../src/bridge.js'
import type { ActorContext } from '../../src/actor/types.js'

/** Only what `bridgeKind` passes through; a real runtime is in test/e2e/bridge-context-secrets.test.ts. */
const runtime = {
  config: { nats: { password: 'secret' }, ws: { path: '/ws' } },
  services: { bus: 'the bus', acl: 'the acl' },
} as unknown as BridgeRuntime

const actorCtx = { id: 'b', name: 'b', system: 'the system', clock: 'the clock', log: 'the log' } as unknown as ActorContext

describe('bridge: a bridge is started with its own actor and what its deps picked', () => {
  it('the context holds the picked slice and the bridge\'s own actor, nothing else', async () => {
    let seen: BridgeContext | undefined
    let picks = 0
    const def = defineBridge({
      name: 'probe',
      deps: ({ config, services }) => {
        picks++
        return { config: { ws: config.ws }, bus: services.bus }
      },
      async start (ctx) {
        seen = ctx
        ctx.setStats(() => ({ path: ctx.config.ws.path }))
        return async () => {}
      },
    })
    const behaviour = bridgeKind(def, runtime).create(actorCtx, {})
    await behaviour.start?.()
    assert.ok(seen !== undefined)
    assert.deepEqual(Object.keys(seen).sort(), ['actor', 'bus', 'clock', 'config', 'log', 'setStats', 'system'])
    assert.deepEqual((seen as unknown as { config: unknown }).config, { ws: { path: '/ws' } })
    assert.equal(seen.actor, actorCtx)
    assert.deepEqual(behaviour.heartbeat?.(), { path: '/ws' })
    await behaviour.stop?.()
    await behaviour.start?.()
    assert.equal(picks, 2, 'deps picks again on every start (a restart sees the same runtime)')
    await behaviour.stop?.()
  })

  it('a bridge\'s own actor wins over a picked field of the same name', async () => {
    let actor: unknown
    const def = defineBridge({
      name: 'clash',
      deps: () => ({ actor: 'not the actor' }),
      async start (ctx) {
        actor = ctx.actor
        return async () => {}
      },
    })
    const behaviour = bridgeKind(def, runtime).create(actorCtx, {})
    await behaviour.start?.()
    assert.equal(actor, actorCtx)
    await behaviour.stop?.()
  })
})
