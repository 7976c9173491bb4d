import {
  ColonyError, compileFilter, isRuntimeTopic, topics, type ActorContext, type ActorKind, type Behaviour, type MqttMessage, type Services,
} from '../src/index.js'
import { componentMessages, providerMessages, readProviderMessage, refuseMessage, type HostCallMessage } from '../src/components.js'

type Handler = (call: HostCallMessage) => unknown

/** What a provider does besides answering host calls: its start and stop, its own timer, MQTT it subscribed to. */
interface ProviderExtra extends Pick<Behaviour, 'start' | 'stop' | 'heartbeat'> {
  reconcile?: () => void
  mqtt?: (message: MqttMessage) => void
}

/**
 * A provider is an actor that answers `host-call` requests (the provider protocol); this wraps the bookkeeping they
 * share. Anything else is refused, except MQTT messages for a provider that subscribed.
 */
function provider (ctx: ActorContext<unknown>, handlers: Record<string, Handler>, extra: ProviderExtra = {}): Behaviour {
  let calls = 0
  let errors = 0
  const { reconcile, mqtt, ...lifecycle } = extra
  return {
    ...lifecycle,
    receive (raw) {
      if (raw.type === 'mqtt' && mqtt !== undefined) {
        mqtt(raw as MqttMessage)
        return
      }
      const message = readProviderMessage(raw)
      if (message === undefined || (message.type === 'reconcile' && reconcile === undefined)) {
        refuseMessage(ctx.log, raw, 'provider')
        return
      }
      if (message.type === 'reconcile') {
        reconcile?.()
        return
      }
      const handler = Object.hasOwn(handlers, message.method) ? handlers[message.method] : undefined
      calls++
      try {
        if (handler === undefined) throw new ColonyError('function_not_found', `${ctx.name} does not implement ${message.iface}.${message.method}`)
        message.respond(undefined, handler(message))
      } catch (err) {
        errors++
        message.respond(err)
      }
    },
    heartbeat: () => ({ calls, errors, ...(extra.heartbeat?.() || {}) }),
  }
}

const text = (value: unknown, what: string, max = 1024): string => {
  if (typeof value !== 'string' || value.length > max) throw new ColonyError('invalid_params', `${what} must be a string of at most ${max} characters`)
  return value
}

/**
 * `wasi:keyvalue/store` backed by SQLite. Each component has its own key space (the scope is the calling
 * component's id), so two components never see each other's buckets; values survive restarts of everything.
 */
export const keyvalueProviderKind: ActorKind<Record<string, unknown>, Pick<Services['store'], 'kv'>> = {
  kind: 'provider:keyvalue',
  agentType: 'provider',
  protected: true,
  help: 'help — this text\nServes wasi:keyvalue/store (SQLite) to linked components.',
  // Only the key-value table: `services.store` is the whole store (accounts, keys) behind a narrow type.
  deps: ({ services }) => ({ kv: services.store.kv }),
  create (ctx) {
    const kv = ctx.deps.kv
    return provider(ctx, {
      open: (c) => { text(c.args[0], 'bucket identifier', 256) },
      get: (c) => kv.get(c.source, text(c.args[0], 'bucket', 256), text(c.args[1], 'key')),
      set: (c) => {
        const value = c.args[2]
        if (!(value instanceof Uint8Array)) throw new ColonyError('invalid_params', 'value must be bytes')
        kv.set(c.source, text(c.args[0], 'bucket', 256), text(c.args[1], 'key'), value)
      },
      delete: (c) => { kv.remove(c.source, text(c.args[0], 'bucket', 256), text(c.args[1], 'key')) },
      exists: (c) => kv.get(c.source, text(c.args[0], 'bucket', 256), text(c.args[1], 'key')) !== undefined,
      'list-keys': (c) => ({ keys: kv.keys(c.source, text(c.args[0], 'bucket', 256)), cursor: undefined }),
    })
  },
}

/** `wasi:logging/logging`: a component's log lines go to its `agents/{id}/logs`. */
export const loggingProviderKind: ActorKind = {
  kind: 'provider:logging',
  agentType: 'provider',
  protected: true,
  help: `help — this text\nServes wasi:logging/logging: lines appear on ${topics.logs('{component}')}.`,
  create (ctx) {
    return provider(ctx, {
      log: (c) => {
        ctx.publish(topics.logs(c.source), {
          agentId: c.source,
          stream: 'log',
          level: text(c.args[0], 'level', 32),
          context: text(c.args[1], 'context', 256),
          text: text(c.args[2], 'message', 64 * 1024),
          timestampMs: ctx.clock.now(),
        })
      },
    })
  },
}

/** Topics a component may not publish on through the messaging provider (the runtime's own). */
function checkTopic (topic: string): string {
  if (topic === '' || /[+#\0]/.test(topic) || isRuntimeTopic(topic)) {
    throw new ColonyError('publish_refused', `a component may not publish on "${topic.slice(0, 80)}"`)
  }
  return topic
}

/**
 * `wasmcloud:messaging/consumer` over MQTT: a subject is an MQTT topic. `publish` publishes; `request` is refused
 * (MQTT 3.1.1 has no reply-to). A link's target config `subscriptions` (comma-separated topic filters) makes the
 * provider deliver matching messages to the component's `wasmcloud:messaging/handler.handle-message`.
 */
export const messagingProviderKind: ActorKind<Record<string, unknown>, Services['links']> = {
  kind: 'provider:messaging',
  agentType: 'provider',
  protected: true,
  help: 'help — this text\nServes wasmcloud:messaging/consumer over MQTT; link target config "subscriptions" feeds handle-message.',
  deps: ({ services }) => services.links,
  create (ctx) {
    const links = ctx.deps
    /** filter -> the components subscribed to it, and the subscription */
    const subscriptions = new Map<string, { components: Set<string>, off: () => void, matches: (topic: string) => boolean }>()
    let delivered = 0

    const reconcile = (): void => {
      const wanted = new Map<string, Set<string>>()
      for (const link of links.all()) {
        if (link.target !== ctx.name && link.target !== ctx.id) continue
        if (link.wit_package !== 'messaging') continue
        const filters = (links.mergedConfig(link.target_config).subscriptions ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '')
        for (const f of filters) wanted.set(f, (wanted.get(f) ?? new Set()).add(link.source_id))
      }
      for (const [filter, sub] of subscriptions) {
        if (!wanted.has(filter)) {
          sub.off()
          subscriptions.delete(filter)
        }
      }
      for (const [filter, components] of wanted) {
        const existing = subscriptions.get(filter)
        if (existing !== undefined) existing.components = components
        else subscriptions.set(filter, { components, off: ctx.subscribe(filter), matches: compileFilter(filter) })
      }
    }

    const onMessage = (m: MqttMessage): void => {
      for (const sub of subscriptions.values()) {
        if (!sub.matches(m.topic)) continue
        for (const component of sub.components) {
          delivered++
          ctx.system.ask(component, componentMessages.invoke('wasmcloud:messaging/handler.handle-message',
            [{ subject: m.topic, body: [...m.payload], 'reply-to': null }])).catch((err: unknown) => ctx.log.warn({ err, component, topic: m.topic }, 'handle-message failed'))
        }
      }
    }

    const onLinks = (): void => { ctx.schedule(0, providerMessages.reconcile()) }
    return provider(ctx, {
      publish: (c) => {
        const body = c.args[1]
        if (!(body instanceof Uint8Array)) throw new ColonyError('invalid_params', 'body must be bytes')
        ctx.publish(checkTopic(text(c.args[0], 'subject', 1024)), Buffer.from(body))
      },
      request: () => { throw new ColonyError('invalid_params', 'request is not supported over MQTT 3.1.1 (no reply-to); publish, and subscribe through a link') },
    }, {
      start () {
        links.on('changed', onLinks)
        reconcile()
      },
      reconcile,
      mqtt: onMessage,
      stop () {
        links.off('changed', onLinks)
      },
      heartbeat: () => ({ subscriptions: subscriptions.size, delivered }),
    })
  },
}
