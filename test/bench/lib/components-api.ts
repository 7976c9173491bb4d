import mqtt, { type MqttClient } from 'mqtt'
import { HttpClient, multipart } from './http-client.js'
import { withTimeout } from './proc.js'

/** Invoke-and-await's body: Golem's `{result: {typ, value: [v]}}` plus the function and the guest's output. */
export interface InvokeReply { result: { value: unknown[] }, function: string, stdout: string, stderr: string }

/** The REST calls a user makes to run a component: upload, link, invoke (anonymous: loopback development mode). */
export class ComponentsApi {
  readonly http = new HttpClient()

  constructor (private readonly baseUrl: string) {}

  async upload (name: string, bytes: Uint8Array): Promise<string> {
    const { body, contentType } = multipart({ name }, { field: 'component', filename: `${name}.wasm`, bytes })
    const reply = await this.http.send('POST', `${this.baseUrl}/v1/envs/bench/components`, body, { 'content-type': contentType })
    if (reply.status !== 200) throw new Error(`upload of ${name} answered ${reply.status}: ${reply.body.toString('utf8').slice(0, 300)}`)
    return (JSON.parse(reply.body.toString('utf8')) as { componentId: string }).componentId
  }

  /** Lets the boot-time keyvalue provider serve the component's `wasi:keyvalue/store` import. */
  async linkKeyvalue (componentId: string): Promise<void> {
    await this.http.json('PUT', `${this.baseUrl}/v1/links`,
      { source_id: componentId, target: 'keyvalue-provider', wit_namespace: 'wasi', wit_package: 'keyvalue', interfaces: ['store'] })
  }

  invokeUrl (componentId: string, fn: string): string {
    return `${this.baseUrl}/v1/components/${componentId}/invoke-and-await?function=${encodeURIComponent(fn)}`
  }

  invoke (componentId: string, fn: string, params: unknown[]): Promise<InvokeReply> {
    return this.http.json<InvokeReply>('POST', this.invokeUrl(componentId, fn), { params })
  }

  close (): void {
    this.http.close()
  }
}

interface MqttReply { id: string, result?: unknown, error?: { code: string, message: string } }

/** `agents/{id}/invoke` request/reply with mqtt.js, replies matched by correlation id on `agents/{id}/reply`. */
export class MqttInvoker {
  private seq = 0
  private readonly waiting = new Map<string, (reply: MqttReply) => void>()

  private constructor (private readonly client: MqttClient, private readonly componentId: string) {
    client.on('message', (_topic, payload) => {
      const reply = JSON.parse(payload.toString('utf8')) as MqttReply
      const resolve = this.waiting.get(reply.id)
      this.waiting.delete(reply.id)
      resolve?.(reply)
    })
  }

  static async connect (url: string, componentId: string): Promise<MqttInvoker> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: `bench-wasm-${process.pid}` })
    await client.subscribeAsync(`agents/${componentId}/reply`)
    return new MqttInvoker(client, componentId)
  }

  async invoke (fn: string, params: unknown[]): Promise<unknown> {
    const id = String(++this.seq)
    const reply = withTimeout(new Promise<MqttReply>((resolve) => this.waiting.set(id, resolve)), 30_000, `MQTT reply ${id}`)
    this.client.publish(`agents/${this.componentId}/invoke`, JSON.stringify({ id, function: fn, params }))
    const r = await reply
    if (r.error !== undefined) throw new Error(`MQTT invoke ${fn}: ${r.error.code} ${r.error.message}`)
    return r.result
  }

  async close (): Promise<void> {
    await this.client.endAsync(true)
  }
}
