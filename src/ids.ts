import { randomBytes } from 'node:crypto'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** Topic-safe: one MQTT topic level, no wildcards, no surprises in a URL path. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

export function isTopicSafeId (value: string): boolean {
  return ID_PATTERN.test(value)
}

/**
 * Actor ids look like the Wactorz seed's `01JQND5X-a1b2c3d4`: 8 Crockford base32 characters of the time
 * (so ids sort roughly by creation) and 8 random hex digits.
 */
export function actorId (nowMs: number): string {
  let t = Math.floor(nowMs / 1000)
  let prefix = ''
  for (let i = 0; i < 8; i++) {
    prefix = CROCKFORD[t % 32] + prefix
    t = Math.floor(t / 32)
  }
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/**
 * An actor id no one has yet. An id holds the second and 32 random bits, so the thousands of actors a big spawn
 * makes in one second can draw the same one (a 100 000-actor spawn did): a taken id is drawn again.
 */
export function freshActorId (nowMs: number, taken: (id: string) => boolean, draw: (nowMs: number) => string = actorId): string {
  for (;;) {
    const id = draw(nowMs)
    if (!taken(id)) return id
  }
}

/** Message ids for chat and requests: short, unique enough within a process lifetime and beyond. */
export function messageId (prefix = 'msg'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`
}
