import { registerAdapter, type HostCall } from '../adapters.js'

/** `wasi:logging/logging`: `log(level, context, message)`, sent to the linked logging provider. */
registerAdapter('wasi:logging/logging', (host: HostCall) => ({
  log (level: string, context: string, message: string): void {
    host('log', [level, context, message])
  },
}))
