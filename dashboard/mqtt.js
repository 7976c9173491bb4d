// A minimal MQTT 3.1.1 client over WebSocket, just enough for the dashboard to publish as an authenticated MQTT
// client (the broker's ACL applies to it like to any other): CONNECT with a password, PUBLISH at QoS 0, PINGREQ to
// keep the session, DISCONNECT. No subscriptions: the dashboard reads everything from /ws.

const encoder = new TextEncoder()

function remainingLength (n) {
  const out = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return out
}

function utf8 (text) {
  const bytes = encoder.encode(text)
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes]
}

function packet (first, body) {
  return new Uint8Array([first, ...remainingLength(body.length), ...body])
}

/** The size of the first packet in `bytes` (fixed header + remaining length), or undefined while incomplete. */
function packetSize (bytes) {
  let length = 0
  let multiplier = 1
  for (let i = 1; i < 5 && i < bytes.length; i++) {
    length += (bytes[i] & 0x7f) * multiplier
    if ((bytes[i] & 0x80) === 0) return 1 + i + length
    multiplier *= 128
  }
  return undefined
}

const CONNACK_CODES = {
  1: 'unacceptable protocol version',
  2: 'client id rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
}

export class MqttLite {
  constructor (url, { clientId, username, password, keepaliveS = 30 }) {
    this.url = url
    this.options = { clientId, username, password, keepaliveS }
    this.ws = undefined
    this.ping = undefined
  }

  /** Resolves once the broker accepted the connection (CONNACK 0); rejects with the reason otherwise. */
  connect () {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, ['mqtt'])
      ws.binaryType = 'arraybuffer'
      this.ws = ws
      let settled = false
      ws.onopen = () => {
        const { clientId, username, password, keepaliveS } = this.options
        // User name, password (none in local development mode), clean session.
        const flags = 0x80 | (password ? 0x40 : 0) | 0x02
        const body = [...utf8('MQTT'), 4, flags, keepaliveS >> 8, keepaliveS & 0xff, ...utf8(clientId), ...utf8(username), ...(password ? utf8(password) : [])]
        ws.send(packet(0x10, body))
      }
      // WebSocket frames need not align with MQTT packets: bytes are gathered until a whole packet is there.
      let pending = new Uint8Array(0)
      ws.onmessage = (event) => {
        const chunk = new Uint8Array(event.data)
        const joined = new Uint8Array(pending.length + chunk.length)
        joined.set(pending)
        joined.set(chunk, pending.length)
        pending = joined
        for (;;) {
          const size = packetSize(pending)
          if (size === undefined || pending.length < size) break
          const bytes = pending.slice(0, size)
          pending = pending.slice(size)
          if (bytes[0] !== 0x20 || settled) continue
          settled = true
          const code = bytes[bytes.length - 1]
          if (code === 0) {
            this.ping = setInterval(() => this.send(new Uint8Array([0xc0, 0x00])), this.options.keepaliveS * 500)
            resolve()
          } else {
            reject(new Error(`MQTT connection refused: ${CONNACK_CODES[code] ?? `code ${code}`}`))
            ws.close()
          }
        }
      }
      ws.onclose = () => {
        clearInterval(this.ping)
        if (!settled) {
          settled = true
          reject(new Error('MQTT connection closed'))
        }
        this.onclose?.()
      }
    })
  }

  get connected () {
    return this.ws !== undefined && this.ws.readyState === WebSocket.OPEN
  }

  send (bytes) {
    if (this.connected) this.ws.send(bytes)
  }

  /** QoS 0: no acknowledgement; returns false when not connected. */
  publish (topic, payload) {
    if (!this.connected) return false
    this.send(packet(0x30, [...utf8(topic), ...encoder.encode(payload)]))
    return true
  }

  close () {
    clearInterval(this.ping)
    this.send(new Uint8Array([0xe0, 0x00]))
    this.ws?.close()
  }
}
