import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { post } from '../helpers/http.js'
import { KINDS } from '../../src/assembly.js'
import { reachableStrings, secretsOf } from '../helpers/reachable.js'
import type { ActorContext, ActorKind } from '../../src/actor/types.js'

const SECRETS = {
  natsPassword: 'nats-password-4f1c9a',
  oauthClientSecret: 'oauth-client-secret-7d2e0b',
  jwtSecret: 'jwt-secret-that-is-long-enough-9b3f6c21',
}

const secretsIn = (root: unknown): string[] => secretsOf(root, SECRETS)

/** The contexts spies were created with, by actor name. */
const contexts = new Map<string, ActorContext<unknown>>()

/** A user-spawnable kind exactly as the runtime has it (same `deps`), that also keeps the context it was given. */
function spyOn (kind: ActorKind<never, unknown, unknown>): ActorKind<never, unknown, unknown> {
  return {
    ...kind,
    kind: `spy-${kind.kind}`,
    create (ctx, options) {
      contexts.set(ctx.name, ctx)
      return kind.create(ctx, options)
    },
  }
}

const SPAWNABLE = (KINDS as Array<ActorKind<never, unknown, unknown>>).filter((k) => k.spawnable === true)

describe('a user-spawned actor\'s context holds no secret', () => {
  let colony: TestColony

  before(async () => {
    colony = await startColony({
      config: {
        nats: { user: 'colony-test', password: SECRETS.natsPassword },
        oauth: { githubClientId: 'colony-test-client', githubClientSecret: SECRETS.oauthClientSecret },
        auth: { jwtSecret: SECRETS.jwtSecret },
      },
      kinds: SPAWNABLE.map(spyOn) as Array<ActorKind<never>>,
    })
  })
  after(async () => { await colony?.close() })

  it('the runtime under test holds the secrets (the walk finds them in its config)', () => {
    assert.deepEqual(secretsIn(colony.rt.config).sort(), Object.values(SECRETS).sort())
  })

  it('echo is among the user-spawnable kinds checked', () => {
    assert.ok(SPAWNABLE.some((k) => k.kind === 'echo'), SPAWNABLE.map((k) => k.kind).join(', '))
  })

  for (const kind of SPAWNABLE) {
    it(`${kind.kind}, spawned over REST as a user would, sees none of them`, async () => {
      const name = `spied-${kind.kind}`
      const res = await post(`${colony.rt.urls.http}/api/actors`, { kind: `spy-${kind.kind}`, name })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      const ctx = contexts.get(name)
      assert.ok(ctx !== undefined, 'the spy recorded its context')
      // The walk reached into the context (its own id is there) and found no secret anywhere below it.
      assert.ok(reachableStrings(ctx).includes(ctx.id))
      assert.deepEqual(secretsIn(ctx), [])
      assert.equal(Object.hasOwn(ctx, 'config'), false)
      assert.equal(Object.hasOwn(ctx, 'services'), false)
    })
  }
})
