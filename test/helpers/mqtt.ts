import mqtt, { type MqttClient, type IClientOptions } from 'mqtt'

export interface Received {
  topic: string
  payload: Buffer
  retain: boolean
  /** The payload parsed as JSON, or undefined if it is not JSON. */
  json: any
  index: number
}

/**
 * An mqtt.js client that records everything it receives, so a test can wait for the message it expects
 * (including one that arrived before it started waiting) instead of sleeping.
 */
export class Recorder {
  readonly received: Received[] = []
  private waiters: Array<{ from: number, test: (m: Received) => boolean, resolve: (m: Received) => void }> = []

  constructor (readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let json: unknown
      try { json = JSON.parse(payload.toString('utf8')) } catch { json = undefined }
      const m: Received = { topic, payload, retain: packet.retain, json, index: this.received.length }
      this.received.push(m)
      this.waiters = this.waiters.filter((w) => {
        if (m.index >= w.from && w.test(m)) {
          w.resolve(m)
          return false
        }
        return true
      })
    })
  }

  get mark (): number {
    return this.received.length
  }

  /** Resolves with the first message (at or after `from`) that passes `test`. */
  next (test: (m: Received) => boolean, options: { from?: number, timeoutMs?: number, what?: string } = {}): Promise<Received> {
    const from = options.from ?? 0
    const found = this.received.find((m) => m.index >= from && test(m))
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(new Error(`timed out waiting for ${options.what ?? 'a message'}`))
      }, options.timeoutMs ?? 5000)
      const done = (m: Received): void => {
        clearTimeout(timer)
        resolve(m)
      }
      this.waiters.push({ from, test, resolve: done })
    })
  }

  /** Messages on `topic` (exact) at or after `from`. */
  on (topic: string, from = 0): Received[] {
    return this.received.filter((m) => m.index >= from && m.topic === topic)
  }

  async subscribe (...filters: string[]): Promise<void> {
    await this.client.subscribeAsync(filters)
  }

  publish (topic: string, payload: unknown, options: { retain?: boolean } = {}): Promise<unknown> {
    const body = Buffer.isBuffer(payload) || typeof payload === 'string' ? payload : JSON.stringify(payload)
    return this.client.publishAsync(topic, body, { qos: 0, retain: options.retain === true })
  }

  async close (): Promise<void> {
    await this.client.endAsync(true)
  }
}

export async function connect (url: string, options: IClientOptions = {}): Promise<Recorder> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options })
  return new Recorder(client)
}
