import assert from 'node:assert/strict'
import { ManualClock } from '../../../src/clock.js'
import { loadConfig } from '../../../src/assembly.js'
import { createContext, Incarnation, type ContextHost, type ContextOwner } from '../../../src/actor/incarnation.js'
import type { ActorKind, KindRuntime, SystemApi } from '../../../src/actor/types.js'
import type { Logger } from '../../../src/log.js'
import type { Bus } from '../../../src/broker/bus.js'

const config = loadConfig({ env: {}, overrides: { data: { dir: '/nonexistent' }, auth: { jwtSecret: 'a-jwt-secret-of-thirty-two-chars!!' } } })
const services = { registry: 'the services bag' }

const host: ContextHost = {
  bus: {} as Bus,
  clock: new ManualClock(),
  config,
  api: {} as SystemApi,
  services,
  alert: () => undefined,
}

/** The actor side of a context; any kind will do (the kernel holds every kind as `ActorKind<never>`). */
function ownerOf (kind: object): ContextOwner {
  return { id: 'a1', name: 'a', kind: kind as ActorKind<never>, log: {} as Logger, live: true, enqueue: () => true, crash: () => undefined }
}

describe('actor/incarnation: what a context holds', () => {
  it('a kind without deps gets neither the config nor the services: ctx.deps is undefined', () => {
    const ctx = createContext(ownerOf({ kind: 'plain', agentType: 'test', create: () => ({}) }), host, new Incarnation())
    assert.equal(ctx.deps, undefined)
    assert.equal(Object.hasOwn(ctx, 'config'), false)
    assert.equal(Object.hasOwn(ctx, 'services'), false)
    assert.equal(Object.values(ctx).includes(config), false)
    assert.equal(Object.values(ctx).includes(services), false)
  })

  it('a kind with deps is offered the config and services, and its context holds exactly what it picked', () => {
    const offered: KindRuntime[] = []
    const kind: ActorKind<never, unknown, { staleWarningMs: number }> = {
      kind: 'picky',
      agentType: 'test',
      deps: (runtime) => {
        offered.push(runtime)
        return { staleWarningMs: runtime.config.monitor.staleWarningMs }
      },
      create: () => ({}),
    }
    const ctx = createContext(ownerOf(kind), host, new Incarnation())
    assert.deepEqual(ctx.deps, { staleWarningMs: config.monitor.staleWarningMs })
    assert.equal(offered.length, 1)
    assert.equal(offered[0]?.config, config)
    assert.equal(offered[0]?.services, services)
  })

  it('a kind that declares Deps must pick them: leaving deps out does not compile', () => {
    // @ts-expect-error -- Deps declared, deps missing; the build fails if this ever compiles
    const forgetful: ActorKind<never, unknown, { n: number }> = { kind: 'forgetful', agentType: 'test', create: () => ({}) }
    const none: ActorKind<never> = { kind: 'none', agentType: 'test', create: () => ({}) }
    assert.deepEqual([forgetful.kind, none.kind], ['forgetful', 'none'])
  })
})
