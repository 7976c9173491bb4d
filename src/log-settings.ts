import { oneOf, section } from './settings.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export const logSettings = section('log', {
  level: oneOf(LOG_LEVELS, 'info'),
})
