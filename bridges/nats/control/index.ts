import type { Msg } from '@nats-io/transport-node'
import { topics } from '../../../src/index.js'
import type { Handler, Lattice } from '../lattice.js'
import { BadRequest, bodyOf, encodeReply, fail, type Reply } from '../wire.js'
import { componentHandlers } from './components.js'
import { hostHandlers } from './host.js'
import { linkHandlers } from './links.js'
import { providerHandlers } from './providers.js'

const QUERIES = new Set(['host.ping', 'host.get', 'host.inventory', 'host.inv', 'link.get', 'config.get', 'claims.get', 'component.auction', 'provider.auction', 'registry.put'])

/**
 * The handler key for a subject's tokens after `{prefix}.v1.{lattice}`, checking that host-scoped subjects name this
 * host: both wasmCloud 1.x's (`host.get.{id}`, `component.scale.{id}`) and the seed's (`host.{id}.inv`).
 */
export function routeOf (tokens: string[], hostId: string): string | undefined {
  const [family, verb, third] = tokens
  const n = tokens.length
  if (family === 'host') {
    if (n === 2 && (verb === 'ping' || verb === 'get')) return `host.${verb}`
    if (n === 3 && verb === 'get' && third === hostId) return 'host.inventory'
    if (n === 3 && verb === 'stop' && third === hostId) return 'host.stop'
    if (n === 3 && verb === hostId && third === 'inv') return 'host.inv'
    return undefined
  }
  if ((family === 'component' || family === 'provider') && n === 2 && verb === 'auction') return `${family}.auction`
  if (family === 'component' && n === 3 && third === hostId && (verb === 'scale' || verb === 'update')) return `component.${verb}`
  if (family === 'provider' && n === 3 && third === hostId && (verb === 'start' || verb === 'stop')) return `provider.${verb}`
  if (family === 'label' && n === 3 && third === hostId && (verb === 'put' || verb === 'del')) return `label.${verb}`
  if (family === 'link' && n === 2 && (verb === 'put' || verb === 'del' || verb === 'get')) return `link.${verb}`
  if (family === 'config' && n >= 3 && (verb === 'put' || verb === 'get' || verb === 'del')) return `config.${verb}`
  if (family === 'claims' && n === 2 && verb === 'get') return 'claims.get'
  if (family === 'registry' && n === 2 && verb === 'put') return 'registry.put'
  return undefined
}

/** A host id on the lattice: an nkey server public key (wasmCloud's and Colony's hosts alike). */
const HOST_ID = /^N[A-Z2-7]{55}$/
/** The verbs whose subject ends with the id of the host that acts. */
const HOST_SCOPED: Readonly<Record<string, readonly string[]>> = {
  host: ['get', 'stop'], component: ['scale', 'update'], provider: ['start', 'stop'], label: ['put', 'del'],
}

/**
 * True when some host's control subscriptions take this subject: the shapes `serveControl` subscribes, with any
 * host id where this host has its own. Such a request is that host's to answer (or, when no such host is on the
 * lattice, nobody's, as in wasmCloud); everything else under the prefix is answered `unsupported subject`.
 */
export function servedByAHost (tokens: string[]): boolean {
  const [family = '', verb = '', third = ''] = tokens
  const n = tokens.length
  if (family === 'config') return n >= 2
  if (n === 2) {
    return family === 'link' || (family === 'host' && (verb === 'ping' || verb === 'get')) ||
      ((family === 'component' || family === 'provider') && verb === 'auction') ||
      (family === 'registry' && verb === 'put') || (family === 'claims' && verb === 'get')
  }
  if (n === 3 && family === 'host') return HOST_ID.test(third) || (HOST_ID.test(verb) && third === 'inv')
  if (n === 3 && family in HOST_SCOPED) return HOST_ID.test(third)
  return false
}

/** The refusal for a subject no host serves: when it is a host-scoped verb, it says what the subject lacks. */
export function unsupportedMessage (tokens: string[]): string {
  const [family = '', verb = '', third] = tokens
  if (!(HOST_SCOPED[family] ?? []).includes(verb) || tokens.length > 3) return 'unsupported subject'
  if (third === undefined) return `unsupported subject: ${family}.${verb} needs the id of the host that acts (${family}.${verb}.{hostId})`
  return `unsupported subject: ${family}.${verb}.${third.slice(0, 64)}: "${third.slice(0, 64)}" is not a host id (N followed by 55 characters)`
}

/**
 * Subscribes the control interface the way a wasmCloud 1.x host does: scatter-gather subjects plainly, host-scoped
 * ones with this host's id, lattice-wide writes (`link.*`, `config.>`, `claims.get`) in queue groups so one host
 * answers, and a queue-grouped catch-all that answers `unsupported subject` for anything else under the prefix.
 */
export function serveControl (l: Lattice): { requests: () => number, failures: () => number } {
  const handlers: Record<string, Handler> = { ...hostHandlers(l), ...componentHandlers(l), ...providerHandlers(l), ...linkHandlers(l) }
  const P = l.prefix
  const id = l.host.id
  const log = l.ctx.log
  let requests = 0
  let failures = 0

  const answer = (msg: Msg, key: string | undefined, body: Record<string, unknown> | undefined, reply: Reply | undefined): void => {
    if (reply === undefined) return
    if (!reply.success) failures++
    if (msg.reply !== undefined && msg.reply !== '') msg.respond(encodeReply(reply))
    if (key !== undefined && !QUERIES.has(key)) {
      l.ctx.actor.publish(topics.latticeCtl, {
        hostId: id,
        lattice: l.host.lattice,
        subject: msg.subject,
        operation: key,
        // A config's values stay on NATS; MQTT sees which keys were set.
        request: key === 'config.put' && body !== undefined ? { keys: Object.keys(body) } : body,
        success: reply.success,
        message: reply.message,
        timestampMs: l.ctx.clock.now(),
      })
    }
  }

  const refuse = (msg: Msg, key: string | undefined, err: unknown): void => {
    if (err instanceof BadRequest) log.warn({ subject: msg.subject, error: err.message }, 'NATS control request refused')
    else log.error({ err, subject: msg.subject }, 'NATS control request failed')
    answer(msg, key, undefined, fail(err instanceof Error ? err.message : String(err)))
  }

  const dispatch = (msg: Msg): void => {
    requests++
    const tokens = msg.subject.slice(P.length + 1).split('.')
    const key = routeOf(tokens, id)
    const handler = key === undefined ? undefined : handlers[key]
    if (handler === undefined) {
      answer(msg, undefined, undefined, fail('unsupported subject'))
      return
    }
    let body: Record<string, unknown> | undefined
    try {
      body = bodyOf(msg)
      const out = handler(body, tokens)
      if (out instanceof Promise) out.then((r) => answer(msg, key, body, r), (err: unknown) => refuse(msg, key, err))
      else answer(msg, key, body, out)
    } catch (err) {
      refuse(msg, key, err)
    }
  }

  for (const s of ['host.ping', 'host.get', `host.*.${id}`, `host.${id}.inv`, `component.*.${id}`, `provider.*.${id}`, `label.*.${id}`,
    'component.auction', 'provider.auction', 'registry.put']) {
    l.link.subscribe(`${P}.${s}`, dispatch)
  }
  l.link.subscribe(`${P}.link.*`, dispatch, `${P}.link`)
  l.link.subscribe(`${P}.config.>`, dispatch, `${P}.config`)
  l.link.subscribe(`${P}.claims.get`, dispatch, `${P}.claims`)
  l.link.subscribe(`${P}.>`, (msg) => {
    // Requests only (events are not answered), and only those no host's subscriptions take (see servedByAHost).
    if (msg.reply === undefined || msg.reply === '') return
    const tokens = msg.subject.slice(P.length + 1).split('.')
    if (tokens[0] === 'evt' || servedByAHost(tokens)) return
    requests++
    answer(msg, undefined, undefined, fail(unsupportedMessage(tokens)))
  }, `${P}.unsupported`)

  return { requests: () => requests, failures: () => failures }
}
