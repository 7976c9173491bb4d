/** MQTT's variable-length "remaining length": 7 bits a byte, least significant first, high bit = more [MQTT-2.2.3]. */
export function remainingLength (n: number): Buffer {
  const bytes: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    bytes.push(b)
  } while (n > 0)
  return Buffer.from(bytes)
}
