import { ColonyError, toColonyError } from '../errors.js'
import { isTopicSafeId, messageId } from '../ids.js'
import type { Unsubscribe, BusMessage } from '../broker/bus.js'
import { parseCommand, parseInboundChat, type Command } from '../wire/payloads.js'
import { filters, parseAgentTopic } from '../wire/topics.js'
import type { Identity } from '../auth/identity.js'
import type { ActorSystem } from './system.js'
import { deliverChat } from './chat.js'

/**
 * Carries what MQTT clients publish on `agents/{id}/commands` and `agents/{id}/chat` to the actors. Only
 * client publishes are routed: the runtime's own publishes on those topics (replies) are for observers.
 * Every refusal (bad JSON, unknown command, protected actor, full mailbox) is answered with an alert on the
 * topic owner's `agents/{id}/alert` and logged; nothing is thrown back into the broker.
 */
export function routeClientMessages (system: ActorSystem): Unsubscribe {
  const offCommands = system.bus.subscribe(filters.commands, (m) => {
    if (m.clientId !== undefined) void onCommand(system, m)
  })
  const offChat = system.bus.subscribe(filters.chat, (m) => {
    if (m.clientId !== undefined) onChat(system, m)
  })
  return () => {
    offCommands()
    offChat()
  }
}

async function onCommand (system: ActorSystem, m: BusMessage): Promise<void> {
  const id = parseAgentTopic(m.topic)?.id ?? ''
  let command: Command | undefined
  try {
    command = parseCommand(m.payload)
    await apply(system, id, command, m.identity)
    system.log.info({ actor: id, command, clientId: m.clientId }, 'mqtt command applied')
  } catch (err) {
    refuse(system, id, err, command === undefined ? 'command refused' : `${command} refused`, m.clientId)
  }
}

async function apply (system: ActorSystem, ref: string, command: Command, as: Identity | undefined): Promise<void> {
  const api = system.api
  switch (command) {
    case 'pause': api.pause(ref, as); return
    case 'resume': api.resume(ref, as); return
    case 'stop': await api.stop(ref, as); return
    case 'delete': await api.remove(ref, as)
  }
}

function onChat (system: ActorSystem, m: BusMessage): void {
  const id = parseAgentTopic(m.topic)?.id ?? ''
  try {
    const chat = parseInboundChat(m.payload)
    const actor = system.api.get(id, m.identity)
    if (actor === undefined) throw new ColonyError('actor_not_found', `no actor with id "${id.slice(0, 64)}"`)
    deliverChat(system.api, actor, { id: chat.id ?? messageId('chat'), from: chat.from, content: chat.content, timestampMs: system.clock.now() }, m.identity)
  } catch (err) {
    refuse(system, id, err, 'chat message refused', m.clientId)
  }
}

function refuse (system: ActorSystem, id: string, err: unknown, what: string, clientId: string | undefined): void {
  const e = toColonyError(err)
  // A full mailbox raises its own alert once per episode (ActorCell.enqueue); one more per refused message would
  // turn a flood into as many alerts (and log lines) as messages.
  if (e.code === 'mailbox_full') {
    system.log.debug({ actor: id, clientId }, `${what}: mailbox full`)
    return
  }
  const severity = e.code === 'actor_protected' ? 'warning' : 'error'
  // An alert topic is only built from an id that is one safe topic level; anything else is just logged.
  if (isTopicSafeId(id)) system.alert(id, severity, `${what}: ${e.message}`, { code: e.code, source: 'runtime', clientId })
  else system.log.warn({ err: e, clientId }, what)
}
