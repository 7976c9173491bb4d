import { int, ms, oneOf, section, text, type SettingsOf } from '../settings.js'

const url = (defaultValue: string): ReturnType<typeof text> => text(defaultValue, { pattern: /^https?:\/\/[^\s]+$/, hint: 'an http(s) URL' })

/**
 * `loopback`: requests without credentials act as the local admin while every listener is on loopback (like
 * Mosquitto 2), and need credentials otherwise; `required`: always need credentials; `off`: never checked, and
 * then only loopback addresses may be bound.
 */
export const AUTH_MODES = ['loopback', 'required', 'off'] as const
export type AuthMode = typeof AUTH_MODES[number]

export const authSettings = section('auth', {
  mode: oneOf(AUTH_MODES, 'loopback'),
  /** Empty: generated once and kept in the data dir. */
  jwtSecret: text('', { optional: true, secret: true, pattern: /^(.{32,})?$/, hint: 'empty (generated) or at least 32 characters' }),
  jwtTtlMs: ms(21_600_000, 60_000, 30 * 86_400_000),
  scryptN: int(32_768, { min: 1024, max: 1 << 20 }),
  loginMaxPerAccount: int(10, { min: 1, max: 1_000_000 }),
  loginMaxPerAddress: int(100, { min: 1, max: 1_000_000 }),
  loginWindowMs: ms(900_000, 1000),
}, (auth, problems) => {
  const n = auth.scryptN
  if (typeof n === 'number' && Number.isInteger(n) && (n & (n - 1)) !== 0) problems.push(`auth.scryptN must be a power of two (got ${n})`)
})
export type AuthSettings = SettingsOf<typeof authSettings>

export const oauthSettings = section('oauth', {
  frontendUrl: url('http://127.0.0.1:8080'),
  stateTtlMs: ms(600_000, 10_000, 3_600_000),
  githubClientId: text('', { optional: true }),
  githubClientSecret: text('', { optional: true, secret: true }),
  githubAuthorizeUrl: url('https://github.com/login/oauth/authorize'),
  githubTokenUrl: url('https://github.com/login/oauth/access_token'),
  githubApiUrl: url('https://api.github.com'),
})
export type OAuthSettings = SettingsOf<typeof oauthSettings>
