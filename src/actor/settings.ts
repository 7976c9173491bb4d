import { int, ms, oneOf, section, type SettingsOf } from '../settings.js'

export const actorSettings = section('actors', {
  heartbeatIntervalMs: ms(10_000, 10),
  mailboxCapacity: int(1000, { min: 1, max: 10_000_000 }),
  maxActors: int(100_000, { min: 1, max: 10_000_000 }),
})

export const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const
export type Strategy = typeof STRATEGIES[number]

export const supervisorSettings = section('supervisor', {
  strategy: oneOf(STRATEGIES, 'one_for_one'),
  maxRestarts: int(5, { min: 0, max: 1_000_000 }),
  restartWindowMs: ms(60_000, 1),
})
export type SupervisorSettings = SettingsOf<typeof supervisorSettings>
