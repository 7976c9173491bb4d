import { BlockList, isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'

/**
 * Which peers may speak for their clients with `X-Forwarded-*` (config `http.trustProxy` + `http.proxyAddresses`):
 * REST strips those headers from anyone else, and the broker takes an MQTT-over-WebSocket client's address from
 * them only when a trusted proxy sent them.
 */
export class ProxyTrust {
  private readonly proxies = new BlockList()

  constructor (readonly enabled: boolean, addresses: string) {
    for (const ip of addresses.split(',').map((a) => a.trim()).filter((a) => a !== '')) this.proxies.addAddress(ip, family(ip))
  }

  /** Is this peer one of the proxies (and is trusting proxies on at all)? */
  trusts (peer: string | undefined): boolean {
    return this.enabled && peer !== undefined && this.proxies.check(peer, family(peer))
  }

  /** The client's address: from a trusted proxy, the last `X-Forwarded-For` entry (the one it saw); else the peer. */
  clientAddress (req: IncomingMessage): string | undefined {
    const peer = req.socket.remoteAddress
    if (!this.trusts(peer)) return peer
    const header = req.headers['x-forwarded-for']
    const last = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').at(-1)
    return last !== undefined && isIP(last) !== 0 ? last : peer
  }
}

function family (ip: string): 'ipv4' | 'ipv6' {
  return isIP(ip) === 6 ? 'ipv6' : 'ipv4'
}
