import { join } from 'node:path'
import type { Clock } from '../clock.js'
import { isLoopback, type ColonyConfig } from '../config.js'
import type { Logger } from '../log.js'
import { Store } from '../store/index.js'
import { Gate, jwtSecret } from './gate.js'
import { OAuthService } from './oauth.js'
import { AuthService } from './service.js'
import { TeamService } from './teams.js'

export interface IdentityParts {
  store: Store
  auth: AuthService
  teams: TeamService
  gate: Gate
  oauth: OAuthService
  /** Set on the first start with an empty database: print it once, it is never shown again. */
  bootstrap: { email: string, apiKey: string } | undefined
}

/** Opens the store and builds the identity services and the gate every door uses. */
export function createIdentity (config: Readonly<ColonyConfig>, clock: Clock, log: Logger): IdentityParts {
  const file = config.store.file === ':memory:' ? ':memory:' : join(config.data.dir, config.store.file)
  const store = Store.open({ file, synchronous: config.store.synchronous })
  try {
    const secret = jwtSecret(config)
    const auth = new AuthService({
      store,
      clock,
      log: log.child({ component: 'auth' }),
      secret,
      jwtTtlMs: config.auth.jwtTtlMs,
      scrypt: { N: config.auth.scryptN, r: 8, p: 1 },
      login: { maxPerAccount: config.auth.loginMaxPerAccount, maxPerAddress: config.auth.loginMaxPerAddress, windowMs: config.auth.loginWindowMs },
    })
    const teams = new TeamService(store, auth, auth.events, clock)
    const bootstrap = auth.bootstrap()
    // Like Mosquitto 2: clients without credentials only while nothing but loopback can connect.
    const loopbackOnly = isLoopback(config.http.host) && isLoopback(config.mqtt.host)
    const anonymous = config.auth.mode === 'off' || (config.auth.mode === 'loopback' && loopbackOnly)
    const oauth = new OAuthService({ store, auth, clock, log: log.child({ component: 'oauth' }), config: config.oauth, secret })
    return { store, auth, teams, gate: new Gate(auth, config.auth.mode, anonymous), oauth, bootstrap }
  } catch (err) {
    store.close()
    throw err
  }
}

export { canAccess, type AuthResponse, type Identity } from './identity.js'
export { credentialFrom, Gate } from './gate.js'
export type { AuthService } from './service.js'
export type { OAuthService, OAuthErrorCode } from './oauth.js'
export type { TeamService, TeamView, MemberView } from './teams.js'
