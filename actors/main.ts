import { toColonyError, type ActorContext, type ActorKind, type ChatMessage, type Identity, type Services, type SystemApi } from '../src/index.js'
import { scaleComponent } from '../src/components.js'

const HELP = [
  'help — this text',
  'scale <component> <n> — run n instances of a WebAssembly component on this host (0 stops it)',
  'agents — every actor with its type and state',
  'status <name> — one actor in detail',
  'pause <name> | resume <name> | stop <name> | delete <name> — control an actor (protected ones refuse)',
  'kinds — actor kinds you can spawn',
  'spawn <kind> [name] — start a new actor',
  'capsule create [template] — start a sandbox (a capsule) for your team; then @<capsule id> exec <command>',
  'channels — your team\'s notification channels, with their events and whether they are muted',
  'mute <channel> [minutes] — stop sending to a channel (for that long, or until unmuted); unmute <channel> — start again',
  'hosts — the Wrenn hosts you can see, with their status and last heartbeat',
].join('\n')

/** `as`: who sent the command; they see and steer only what their teams own. */
/** The main actor scales components (`scale`), creates capsules (`capsule create`), mutes channels and lists hosts (`hosts`): those services, nothing else. */
type MainDeps = Pick<Services, 'components' | 'capsules' | 'channels' | 'hostDirectory'>

type Handler = (api: SystemApi, args: string[], ctx: ActorContext<MainDeps>, as: Identity | undefined) => string | Promise<string>

const COMMANDS: Record<string, Handler> = {
  help: () => `main-actor understands:\n${HELP}`,
  agents: (api, _args, _ctx, as) => {
    const actors = api.list(as)
    const lines = actors.map((a) => `${a.name} (${a.agentType}) ${a.state}${a.protected ? ' [protected]' : ''}`)
    return `${actors.length} agents:\n${lines.join('\n')}`
  },
  status: (api, [name], ctx, as) => {
    if (name === undefined) return 'usage: status <name>'
    const a = api.get(name, as)
    if (a === undefined) return unknownAgent(api, name, as)
    const beat = a.lastHeartbeatMs === null ? 'no heartbeat yet' : `last heartbeat ${Math.round((ctx.clock.now() - a.lastHeartbeatMs) / 1000)}s ago`
    return `${a.name} (${a.agentType}, id ${a.id}) is ${a.state}${a.protected ? ', protected' : ''}; ` +
      `restarts ${a.restarts}; mailbox ${a.mailboxDepth}/${a.mailboxCapacity}; processed ${a.messagesProcessed}; ${beat}`
  },
  pause: control('pause', (api, name, as) => api.pause(name, as)),
  resume: control('resume', (api, name, as) => api.resume(name, as)),
  stop: control('stop', (api, name, as) => api.stop(name, as)),
  delete: control('delete', (api, name, as) => api.remove(name, as)),
  kinds: (api) => {
    const kinds = api.kinds().filter((k) => k.spawnable)
    return kinds.length === 0 ? 'no kinds can be spawned' : `spawnable kinds: ${kinds.map((k) => `${k.kind} (${k.agentType})`).join(', ')}`
  },
  scale: async (api, [component, count], ctx, as) => {
    const n = Number(count)
    if (component === undefined || count === undefined || !Number.isInteger(n)) return 'usage: scale <component> <n>'
    try {
      const record = ctx.deps.components.find(as, component)
      const info = await scaleComponent(api, ctx.deps.components, record.id, n, { ...(as !== undefined && { as }) })
      return info === undefined ? `${record.name} stopped (0 instances)` : `${info.name} runs ${n} instance${n === 1 ? '' : 's'}`
    } catch (err) {
      return `cannot scale ${component}: ${toColonyError(err).message}`
    }
  },
  capsule: async (_api, [verb, template], ctx, as) => {
    if (verb !== 'create') return 'usage: capsule create [template]'
    if (as === undefined) return 'cannot create a capsule: the sender has no team'
    try {
      const actor = as.kind === 'user' ? { type: 'user' as const, id: as.userId, name: as.name } : as.kind === 'api_key' ? { type: 'api_key' as const } : { type: 'system' as const }
      const c = await ctx.deps.capsules.create({ teamId: as.teamId, isAdmin: false, actor }, { ...(template !== undefined && { template }) })
      return `capsule ${c.id} is ${c.status} (${c.template}, ${c.vcpus} vCPU, ${c.memory_mb} MiB): @${c.id} exec <command>`
    } catch (err) {
      return `cannot create a capsule: ${toColonyError(err).message}`
    }
  },
  channels: (_api, _args, ctx, as) => {
    if (as === undefined) return 'no channels: the sender has no team'
    const list = ctx.deps.channels.list(as.teamId)
    if (list.length === 0) return 'your team has no notification channels (POST /v1/channels)'
    const lines = list.map((c) => `${c.name} (${c.provider}) ${c.events.join(', ')}${c.muted ? ` [muted${c.muted_until === null ? '' : ` until ${c.muted_until}`}]` : ''}`)
    return `${list.length} channel${list.length === 1 ? '' : 's'}:\n${lines.join('\n')}`
  },
  mute: (_api, [channel, minutes], ctx, as) => {
    if (channel === undefined || (minutes !== undefined && !/^\d+$/.test(minutes))) return 'usage: mute <channel> [minutes]'
    if (as === undefined) return 'cannot mute: the sender has no team'
    try {
      const c = ctx.deps.channels.mute(as.teamId, channel, minutes === undefined ? undefined : Number(minutes))
      return `${c.name} is muted ${c.muted_until === null ? 'until unmuted' : `until ${c.muted_until}`}`
    } catch (err) {
      return `cannot mute ${channel.slice(0, 64)}: ${toColonyError(err).message}`
    }
  },
  unmute: (_api, [channel], ctx, as) => {
    if (channel === undefined) return 'usage: unmute <channel>'
    if (as === undefined) return 'cannot unmute: the sender has no team'
    try {
      return `${ctx.deps.channels.unmute(as.teamId, channel).name} is no longer muted`
    } catch (err) {
      return `cannot unmute ${channel.slice(0, 64)}: ${toColonyError(err).message}`
    }
  },
  hosts: (_api, _args, ctx, as) => {
    // Admins (and the runtime itself) see every host; others their active team's BYOC hosts.
    const list = ctx.deps.hostDirectory.list(as === undefined ? undefined : { userId: as.userId, teamId: as.teamId, isAdmin: as.isAdmin, actor: { type: 'user', id: as.userId } })
    if (list.length === 0) return 'no hosts'
    const lines = list.map((h) => `${h.id} (${h.type}${h.team_id === null ? '' : `, team ${h.team_id}`}) ${h.status}; last heartbeat ${h.last_heartbeat_at ?? 'never'}${h.address === null ? '' : `; ${h.address}`}`)
    return `${list.length} host${list.length === 1 ? '' : 's'}:\n${lines.join('\n')}`
  },
  spawn: async (api, [kind, name], _ctx, as) => {
    if (kind === undefined) return 'usage: spawn <kind> [name]'
    try {
      // The new actor belongs to the sender's team (a runtime-internal sender makes a system-owned actor), and
      // only while the sender still belongs to it.
      if (as !== undefined && !as.isAdmin && !as.teams.has(as.teamId)) return `cannot spawn ${kind}: you are no longer a member of your token's team`
      const info = await api.spawn(kind, { ...(name !== undefined && { name }), team: as?.teamId ?? null })
      return `spawned ${info.name} (${info.agentType}, id ${info.id}): ${info.state}`
    } catch (err) {
      return `cannot spawn ${kind}: ${toColonyError(err).message}`
    }
  },
}

function control (verb: string, act: (api: SystemApi, name: string, as: Identity | undefined) => unknown): Handler {
  return async (api, [name], _ctx, as) => {
    if (name === undefined) return `usage: ${verb} <name>`
    try {
      await act(api, name, as)
      const after = api.get(name, as)
      return after === undefined ? `${name} deleted` : `${after.name} is ${after.state}`
    } catch (err) {
      const e = toColonyError(err)
      return e.code === 'actor_not_found' ? unknownAgent(api, name, as) : `cannot ${verb} ${name}: ${e.message}`
    }
  }
}

function unknownAgent (api: SystemApi, name: string, as: Identity | undefined): string {
  return `no agent named "${name.slice(0, 64)}". Known agents: ${api.list(as).map((a) => a.name).join(', ')}`
}

/** The orchestrator: a small command language over chat for looking at and steering the actor system. */
export const mainKind: ActorKind<Record<string, unknown>, MainDeps> = {
  kind: 'main',
  agentType: 'orchestrator',
  protected: true,
  help: HELP,
  deps: ({ services }) => ({ components: services.components, capsules: services.capsules, channels: services.channels, hostDirectory: services.hostDirectory }),
  create (ctx) {
    return {
      chat (message: ChatMessage) {
        const words = message.content.trim().split(/\s+/).filter((w) => w !== '')
        const [command = 'help', ...args] = words
        const handler = COMMANDS[command.toLowerCase()]
        if (handler === undefined) {
          return `unknown command "${command.slice(0, 40)}". Commands: ${Object.keys(COMMANDS).join(', ')} (say "help" for details)`
        }
        return handler(ctx.system, args, ctx, message.sender)
      },
    }
  },
}
