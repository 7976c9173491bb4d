import { deserialize, serialize } from 'node:v8'

/**
 * Synchronous calls from a component's worker to the main thread, for host imports that must return a value
 * (a linked provider such as wasi:keyvalue): the guest's call is synchronous, the provider lives in the main
 * thread. The worker writes the request into a SharedArrayBuffer, wakes the main thread with a message and
 * blocks in Atomics.wait; the main thread answers (possibly after awaiting an actor) and notifies.
 *
 * Layout: Int32 [0] state (0 idle, 1 request, 2 response, 3 answering), [1] byte length; then the v8-serialized
 * payload. The state, not a wake-up, says whether the answer is there: a notify can arrive late (the main thread
 * notifies after storing RESPONSE, by which time the worker may already be waiting on its next request), so the
 * worker waits until the state changes. The main thread claims a request (REQUEST -> ANSWERING) before writing, so a
 * worker that gives up (REQUEST -> IDLE) and one being answered can never both win.
 */
const HEADER = 8
const IDLE = 0
const REQUEST = 1
const RESPONSE = 2
const ANSWERING = 3
/** How long the worker sleeps at a time while the main thread writes an answer it has claimed. */
const ANSWERING_WAIT_MS = 100

export interface RpcRequest { iface: string, method: string, args: unknown[] }
export type RpcResponse = { ok: true, value: unknown } | { ok: false, message: string }

export function createRpcBuffer (bytes = 1 << 20): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER + bytes)
}

function write (buffer: SharedArrayBuffer, value: unknown): void {
  const data = serialize(value)
  if (data.length > buffer.byteLength - HEADER) throw new Error(`host call payload of ${data.length} bytes is over the ${buffer.byteLength - HEADER} byte limit`)
  new Uint8Array(buffer, HEADER, data.length).set(data)
  new Int32Array(buffer, 0, 2)[1] = data.length
}

function read (buffer: SharedArrayBuffer): unknown {
  const length = new Int32Array(buffer, 0, 2)[1] as number
  return deserialize(Buffer.from(new Uint8Array(buffer, HEADER, length)))
}

/** Worker side: blocks until the main thread answers; `wake` posts the notification message. */
export function callHost (buffer: SharedArrayBuffer, wake: () => void, request: RpcRequest, timeoutMs: number): unknown {
  const control = new Int32Array(buffer, 0, 2)
  write(buffer, request)
  Atomics.store(control, 0, REQUEST)
  wake()
  const deadline = performance.now() + timeoutMs
  for (let state = Atomics.load(control, 0); state !== RESPONSE; state = Atomics.load(control, 0)) {
    const left = deadline - performance.now()
    if (state === REQUEST && left <= 0) {
      if (Atomics.compareExchange(control, 0, REQUEST, IDLE) === REQUEST) {
        throw new Error(`host call ${request.iface}.${request.method} timed out after ${timeoutMs} ms`)
      }
      continue // claimed by the main thread meanwhile: its answer is on the way
    }
    Atomics.wait(control, 0, state, state === REQUEST ? left : ANSWERING_WAIT_MS)
  }
  const response = read(buffer) as RpcResponse
  Atomics.store(control, 0, IDLE)
  if (!response.ok) throw new Error(response.message)
  return response.value
}

/** Main side: the pending request, if the worker posted one. */
export function takeRequest (buffer: SharedArrayBuffer): RpcRequest | undefined {
  const control = new Int32Array(buffer, 0, 2)
  return Atomics.load(control, 0) === REQUEST ? read(buffer) as RpcRequest : undefined
}

/** Main side: answers and wakes the worker. */
export function answer (buffer: SharedArrayBuffer, response: RpcResponse): void {
  const control = new Int32Array(buffer, 0, 2)
  if (Atomics.compareExchange(control, 0, REQUEST, ANSWERING) !== REQUEST) return // the worker gave up (timed out) meanwhile
  try {
    write(buffer, response)
  } catch (err) {
    write(buffer, { ok: false, message: (err as Error).message })
  }
  Atomics.store(control, 0, RESPONSE)
  Atomics.notify(control, 0)
}
