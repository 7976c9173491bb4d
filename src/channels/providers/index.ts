import type { Provider } from './types.js'
import { discord } from './discord.js'
import { slack } from './slack.js'
import { teams } from './teams.js'
import { googlechat } from './googlechat.js'
import { telegram } from './telegram.js'
import { matrix } from './matrix.js'
import { webhook } from './webhook.js'

export type { Attempt, OutgoingRequest, Provider } from './types.js'

/** Wrenn's providers, in its order. */
export const PROVIDERS = { discord, slack, teams, googlechat, telegram, matrix, webhook } as const
export type ProviderName = keyof typeof PROVIDERS
export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[]

export function providerOf (name: string): Provider | undefined {
  return Object.hasOwn(PROVIDERS, name) ? PROVIDERS[name as ProviderName] : undefined
}
