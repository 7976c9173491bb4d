import { createRequire } from 'node:module'

/**
 * Makes the `debug` loggers of Colony's dependencies free when they are off. mqtt-packet, Aedes and bl call
 * `debug(...)` several times per MQTT packet, and `debug`'s logger takes its arguments as a rest parameter, so
 * even a disabled call allocates an array. In a small process V8 inlines the call and drops the array; in
 * Colony's (many modules share the one `debug` function, so its property loads go megamorphic) it does not:
 * measured in the QoS 0 fan-in bench, those arrays were more than half of the bytes allocated per message (7.1 KB
 * per message; 3.2 KB with this), and the broker spent 18 % of its time in the collector.
 *
 * This wraps each logger made after it runs in a function with fixed parameters that checks whether it is on
 * before passing the call on. An enabled logger gets the call with trailing undefined arguments dropped, which is
 * what every call site in those packages sends. It must run before the packages load: each entry point imports it
 * first (ES modules evaluate imports in order). Loggers made earlier keep working, unwrapped.
 *
 * Whether a logger is on is kept in the wrapper and read again from the real logger only when `debug.enable`
 * changed the namespaces or `enabled` was set: the real `enabled` is a getter defined on each logger, and with
 * dozens of loggers calling through the one wrapper its load went megamorphic (0.56 µs per message in the QoS 0
 * fan-in bench, against 0.10 in a bare Aedes process).
 */
type Logger = ((...args: unknown[]) => void) & { enabled: boolean, namespace: string, extend(ns: string, delimiter?: string): unknown }
type Factory = ((namespace: string) => Logger) & Record<string, unknown>

const WRAPPED = Symbol.for('colony.quietDebug')
/** What the wrapper forwards to the real logger, read and written. */
const FORWARDED = ['enabled', 'log', 'color', 'useColors', 'diff', 'inspectOpts'] as const

/** Never the factory's `namespaces`: a wrapper holding it reads the real logger's `enabled` at its next call. */
const STALE = Symbol('stale')

function quiet (real: Logger, factory: Factory): Logger {
  // `debug.enable` sets the factory's `namespaces` (a new string each time); the real getter caches on it too.
  let seen: unknown = STALE
  let on = false
  const logger = function quietDebug (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown, h?: unknown): void {
    if (factory.namespaces !== seen) {
      seen = factory.namespaces
      on = real.enabled
    }
    if (!on) return
    const args = [a, b, c, d, e, f, g, h]
    let n = args.length
    while (n > 0 && args[n - 1] === undefined) n--
    real(...args.slice(0, n))
  } as Logger
  for (const key of FORWARDED) {
    Object.defineProperty(logger, key, {
      get: () => (real as unknown as Record<string, unknown>)[key],
      set: (value: unknown) => {
        (real as unknown as Record<string, unknown>)[key] = value
        // Setting `enabled` overrides (or, set to null, restores) what the namespaces say.
        if (key === 'enabled') seen = STALE
      },
    })
  }
  logger.namespace = real.namespace
  logger.extend = (ns, delimiter) => real.extend(ns, delimiter)
  return logger
}

/** Installs the wrapper on the process's `debug` package (once; a second call does nothing). */
export function installQuietDebug (): void {
  const require = createRequire(import.meta.url)
  let path: string
  try {
    path = require.resolve('debug')
  } catch {
    return // no `debug` package: nothing to quiet
  }
  const real = require(path) as Factory
  if ((real as unknown as Record<symbol, unknown>)[WRAPPED] === true) return
  const cached = require.cache[path]
  if (cached === undefined) return
  const factory = ((namespace: string) => quiet(real(namespace), real)) as Factory
  Object.assign(factory, real)
  ;(factory as unknown as Record<symbol, unknown>)[WRAPPED] = true
  // `debug` hands itself out as `createDebug.default` and `.debug` too.
  factory.default = factory
  factory.debug = factory
  cached.exports = factory
}

installQuietDebug()
