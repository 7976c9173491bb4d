import type { Socket } from 'node:net'

/**
 * Holds a client socket's writes corked until the check phase of the current event-loop turn. Aedes delivers
 * each message in its own tick (and mqtt-packet uncorks on the next tick), so without this every packet is its own
 * `writev`; with it, everything written to a client in one turn of the loop leaves in one. The delay is the rest
 * of the turn: no timer, no added latency beyond it. Nagle's algorithm is turned off (this batches instead).
 */
export function coalesceWrites (socket: Socket): void {
  // Batching is done here, per turn: Nagle's algorithm on top would hold a small batch back until the peer's
  // (delayed, up to 40 ms) ACK of the previous one.
  socket.setNoDelay(true)
  let held = false
  const release = (): void => {
    held = false
    if (!socket.destroyed) socket.uncork()
  }
  const write = socket.write.bind(socket) as (...args: Parameters<Socket['write']>) => boolean
  socket.write = ((...args: Parameters<Socket['write']>): boolean => {
    if (!held && !socket.destroyed) {
      held = true
      socket.cork()
      setImmediate(release)
    }
    return write(...args)
  }) as Socket['write']
}
