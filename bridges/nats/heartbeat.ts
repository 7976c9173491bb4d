import type { Clock, TimerHandle } from '../../src/index.js'

/**
 * The host's `host_heartbeat` every `intervalMs`, on the injected clock (a test's ManualClock moves it) rather
 * than a timer of its own. Each beat is due one interval after the last one was due, so it keeps its phase like
 * setInterval did; after a stall (event loop blocked, clock jumped) missed beats are skipped, not sent in a burst.
 */
export function hostHeartbeat (clock: Clock, intervalMs: number, beat: () => void): { stop(): void } {
  let due = clock.now() + intervalMs
  let timer: TimerHandle
  let stopped = false
  const arm = (): void => { timer = clock.setTimeout(tick, Math.max(0, due - clock.now())) }
  const tick = (): void => {
    if (stopped) return
    const now = clock.now()
    due += intervalMs
    if (due <= now) due = now + intervalMs - ((now - due) % intervalMs)
    arm()
    beat()
  }
  arm()
  return {
    stop () {
      stopped = true
      clock.clearTimeout(timer)
    },
  }
}
