import { wsUrl } from './api.js'

// The /ws stream, narrowed to what the dashboard shows; reconnects with backoff (1 s doubling to 15 s).
const TOPICS = ['agents/+/spawn', 'agents/+/status', 'agents/+/heartbeat', 'agents/+/alert', 'agents/+/chat', 'system/health']

export class Stream {
  constructor (credential, onMessage, onState) {
    this.credential = credential
    this.onMessage = onMessage
    this.onState = onState
    this.closed = false
    this.retryMs = 1000
    this.ws = undefined
    this.timer = undefined
  }

  open () {
    // Browsers cannot set headers on a WebSocket: the credential travels as a `bearer.<token>` subprotocol.
    const protocols = this.credential ? ['colony', `bearer.${this.credential}`] : ['colony']
    const ws = new WebSocket(wsUrl(`/ws?topics=${encodeURIComponent(TOPICS.join(','))}`), protocols)
    this.ws = ws
    ws.onopen = () => {
      this.retryMs = 1000
      this.onState(true)
    }
    ws.onmessage = (event) => {
      let frame
      try { frame = JSON.parse(event.data) } catch { return }
      this.onMessage(frame.topic, frame.payload)
    }
    ws.onclose = (event) => {
      this.onState(false, event.code)
      if (this.closed || event.code === 1008) return // closed by us, or the credential was refused or revoked
      this.timer = setTimeout(() => this.open(), this.retryMs)
      this.retryMs = Math.min(this.retryMs * 2, 15000)
    }
  }

  close () {
    this.closed = true
    clearTimeout(this.timer)
    this.ws?.close()
  }
}
