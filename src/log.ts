import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino'

export type { Logger }

/** Paths pino blanks out wherever they appear in a log object: credentials never reach a log line. */
export const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'apiKey', '*.apiKey', 'secret', '*.secret',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'headers["x-api-key"]', 'req.headers["x-api-key"]', 'headers.cookie', 'req.headers.cookie',
]

export interface LogOptions {
  level: LevelWithSilent
  /** Where lines go; stdout when omitted. Tests pass a memory stream to read what was logged. */
  destination?: DestinationStream
}

export function createLogger (options: LogOptions): Logger {
  return pino({
    level: options.level,
    base: { service: 'colony' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, options.destination ?? pino.destination({ fd: 1, sync: true }))
}
