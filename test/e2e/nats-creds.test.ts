import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt'
import { connect as natsConnect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

/**
 * Decentralized NATS auth, as a multi-tenant wasmCloud lattice uses it: an operator, an account, a user JWT and its
 * seed in a `.creds` file (`nats.credsFile`). The server trusts the operator and knows the account (memory resolver).
 */
describe('NATS bridge: .creds authentication (operator mode)', function () {
  this.timeout(30_000)
  let nats: NatsServer
  let colony: TestColony | undefined
  let client: NatsConnection
  let dir: string
  let creds: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'colony-creds-'))
    const operator = createOperator()
    const account = createAccount()
    const limits = { conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, leaf: -1 }
    const accountJwt = await encodeAccount('lattice', account, { limits }, { signer: operator })
    const user = createUser()
    creds = join(dir, 'colony.creds')
    writeFileSync(creds, fmtCreds(await encodeUser('colony', user, account), user), { mode: 0o600 })
    nats = await startNatsServer({
      conf: `operator: ${await encodeOperator('colony-test', operator)}\nresolver: MEMORY\nresolver_preload: { ${account.getPublicKey()}: ${accountJwt} }\n`,
    })
    client = await natsConnect({ servers: nats.url, authenticator: credsAuthenticator(readFileSync(creds)) })
  })
  after(async () => {
    await client?.close()
    await colony?.close()
    await nats?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a Colony with nats.credsFile joins the account and answers host.ping', async () => {
    const heartbeat = new Promise<string>((resolve) => {
      const sub = client.subscribe('wasmbus.evt.default.host_heartbeat', { callback: (_err, msg) => { sub.unsubscribe(); resolve(msg.json<{ source: string }>().source) } })
    })
    await client.flush()
    colony = await startColony({ config: { nats: { url: nats.url, credsFile: creds, heartbeatIntervalMs: 200 } } })
    const hostId = await heartbeat
    const reply = (await client.request('wasmbus.ctl.v1.default.host.ping', '', { timeout: 2000 })).json<{ success: boolean, response: { id: string } }>()
    assert.deepEqual({ success: reply.success, id: reply.response.id }, { success: true, id: hostId })
  })

  it('without credentials the same server refuses: the bridge alerts and the runtime runs on', async () => {
    await colony?.close()
    colony = await startColony({ config: { nats: { url: nats.url, reconnectMaxMs: 200 } } })
    // The alert is logged as it is published: look in the log first, then wait on the bus (same tick, no gap).
    const c = colony
    const logged = c.logs.find((l) => l.code === 'nats_unreachable')
    const refused = logged !== undefined
      ? { code: logged.code, message: String(logged.msg) }
      : await new Promise<Record<string, unknown>>((resolve) => {
        const off = c.rt.broker.bus.subscribe('agents/nats-bridge/alert', (m) => {
          const alert = JSON.parse(m.payload.toString()) as Record<string, unknown>
          if (alert.code !== 'nats_unreachable') return
          off()
          resolve(alert)
        })
      })
    assert.equal(refused.code, 'nats_unreachable')
    assert.match(String(refused.message), /Authorization Violation|authorization/i)
    const health = await fetch(`${colony.rt.urls.http}/api/health`)
    assert.equal(health.status, 200)
  })
})
