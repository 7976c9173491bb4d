import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { get } from '../helpers/http.js'
import { BRIDGES } from '../../src/assembly.js'
import { secretsOf } from '../helpers/reachable.js'
import type { BridgeContext, BridgeDef } from '../../src/bridge.js'

const SECRETS = {
  natsPassword: 'nats-password-51be07',
  oauthClientSecret: 'oauth-client-secret-a93c44',
  jwtSecret: 'jwt-secret-that-is-long-enough-0e7d25f1',
}
const secretsIn = (root: unknown): string[] => secretsOf(root, SECRETS)

/** The context each bridge was started with, by bridge name. */
const contexts = new Map<string, BridgeContext>()

/** The bridge exactly as the runtime has it (same `deps`), that also keeps the context it was started with. */
function spyOn (def: BridgeDef): BridgeDef {
  return {
    ...def,
    async start (ctx) {
      contexts.set(def.name, ctx)
      return def.start(ctx)
    },
  }
}

const configOf = (name: string): Record<string, unknown> => (contexts.get(name) as unknown as { config: Record<string, unknown> }).config

describe('a bridge\'s context holds its own slice, not the config', () => {
  let colony: TestColony

  before(async () => {
    colony = await startColony({
      config: {
        // No nats.url: the NATS bridge stays off, but it is started with what its deps picked, credentials included.
        nats: { user: 'colony-test', password: SECRETS.natsPassword },
        oauth: { githubClientId: 'colony-test-client', githubClientSecret: SECRETS.oauthClientSecret },
        auth: { jwtSecret: SECRETS.jwtSecret },
      },
      bridges: BRIDGES.map(spyOn),
    })
  })
  after(async () => { await colony?.close() })

  it('every bridge started, and through the spy (the REST bridge answers)', async () => {
    assert.deepEqual([...contexts.keys()].sort(), ['nats-bridge', 'rest-bridge', 'ws-bridge'])
    assert.equal((await get(`${colony.rt.urls.http}/api/health`)).status, 200)
  })

  it('the runtime under test holds the secrets (the walk finds them in its config)', () => {
    assert.deepEqual(secretsIn(colony.rt.config).sort(), Object.values(SECRETS).sort())
  })

  it('the ws bridge sees no NATS password, JWT secret or OAuth client secret', () => {
    const ctx = contexts.get('ws-bridge')
    assert.deepEqual(secretsIn(ctx), [])
    assert.deepEqual(Object.keys(configOf('ws-bridge')), ['ws'])
    assert.equal(Object.hasOwn(ctx!, 'services'), false)
  })

  it('the NATS bridge sees its own credentials and no one else\'s secret', () => {
    const ctx = contexts.get('nats-bridge')
    // It needs its password to connect: the walk finding it shows the walk reaches the bridge's own slice.
    assert.deepEqual(secretsIn(ctx), [SECRETS.natsPassword])
    assert.deepEqual(Object.keys(configOf('nats-bridge')).sort(), ['data', 'nats', 'wasm'])
  })

  it('the REST bridge\'s config holds no NATS section and no OAuth client secret', () => {
    const config = configOf('rest-bridge')
    assert.deepEqual(Object.keys(config).sort(), ['http', 'oauth', 'wasm'])
    assert.deepEqual(secretsIn(config), [])
    // It signs JWTs, so its auth service holds that secret (as bytes): the walk finding it shows it reads bytes too.
    assert.deepEqual(secretsIn(contexts.get('rest-bridge')).includes(SECRETS.jwtSecret), true)
    assert.ok(!secretsIn(contexts.get('rest-bridge')).includes(SECRETS.natsPassword))
  })
})
