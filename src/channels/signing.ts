/**
 * Wrenn's webhook signature: `X-Wrenn-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, with
 * the timestamp (Unix seconds) in `X-Wrenn-Timestamp` so a receiver can refuse old replays, and the delivery id in
 * `X-Wrenn-Delivery` (the same on every attempt: the receiver's idempotency key).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'X-Wrenn-Signature'
export const TIMESTAMP_HEADER = 'X-Wrenn-Timestamp'
export const DELIVERY_HEADER = 'X-Wrenn-Delivery'

export function sign (secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/** What a receiver does (and the tests): recompute and compare in constant time. */
export function verify (secret: string, timestamp: string, body: string, signature: string): boolean {
  const want = Buffer.from(sign(secret, timestamp, body))
  const got = Buffer.from(signature)
  return want.length === got.length && timingSafeEqual(want, got)
}
