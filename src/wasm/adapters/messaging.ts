import { registerAdapter, type HostCall } from '../adapters.js'
import { ReplayDiverged } from '../host-journal.js'

interface BrokerMessage { subject: string, body: Uint8Array, replyTo?: string }

/**
 * `wasmcloud:messaging/consumer@0.2.0`: publish and request through the linked messaging provider, which maps
 * subjects onto MQTT topics. Failures are the interface's `result<_, string>` errors (a thrown string).
 */
function guarded<T> (run: () => T): T {
  try {
    return run()
  } catch (err) {
    // A replay that left its recording must stop the guest, not hand it an error value it could carry on with.
    if (err instanceof ReplayDiverged) throw err
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- jco's contract: the thrown value is the err payload
    throw (err as Error)?.message ?? String(err)
  }
}

registerAdapter('wasmcloud:messaging/consumer', (host: HostCall) => ({
  publish (msg: BrokerMessage): void {
    guarded(() => host('publish', [msg.subject, msg.body, msg.replyTo]))
  },
  request (subject: string, body: Uint8Array, timeoutMs: number): BrokerMessage {
    return guarded(() => host('request', [subject, body, timeoutMs]) as BrokerMessage)
  },
}))
