import { registerAdapter, type HostCall } from '../adapters.js'
import { ReplayDiverged } from '../host-journal.js'

/**
 * `wasi:keyvalue/store@0.2.0-draft`, guest side: jco's glue wants `{ Bucket, open }` where `open` returns an
 * instance of that very `Bucket` class and the glue calls its methods. Every method is a synchronous host call to
 * the linked keyvalue provider. A provider failure becomes the interface's `error::other(message)`: jco turns a
 * thrown non-Error value into the `result`'s err payload (a thrown Error would trap the guest instead).
 */
function guarded<T> (run: () => T): T {
  try {
    return run()
  } catch (err) {
    // A replay that left its recording must stop the guest, not hand it an error value it could carry on with.
    if (err instanceof ReplayDiverged) throw err
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- jco's contract: the thrown value is the err payload
    throw { tag: 'other', val: (err as Error)?.message ?? String(err) }
  }
}

registerAdapter('wasi:keyvalue/store', (host: HostCall) => {
  class Bucket {
    constructor (readonly identifier: string) {}

    get (key: string): Uint8Array | undefined {
      return guarded(() => host('get', [this.identifier, key]) as Uint8Array | undefined)
    }

    set (key: string, value: Uint8Array): void {
      guarded(() => host('set', [this.identifier, key, value]))
    }

    delete (key: string): void {
      guarded(() => host('delete', [this.identifier, key]))
    }

    exists (key: string): boolean {
      return guarded(() => host('exists', [this.identifier, key]) as boolean)
    }

    listKeys (cursor: bigint | undefined): { keys: string[], cursor: bigint | undefined } {
      return guarded(() => host('list-keys', [this.identifier, cursor === undefined ? undefined : Number(cursor)]) as { keys: string[], cursor: bigint | undefined })
    }
  }
  return {
    Bucket,
    open (identifier: string): Bucket {
      guarded(() => host('open', [identifier]))
      return new Bucket(identifier)
    },
  }
})
