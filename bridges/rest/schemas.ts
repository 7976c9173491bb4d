import { Type, type TSchema } from '@sinclair/typebox'

/**
 * The shapes the REST families answer with, shared where two families answer the same thing. Objects list the fields
 * a client may rely on; they do not forbid more (a newer Colony may add fields, as the anchors' APIs do).
 */

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** One of a few strings, as an `enum` (a union of literals would report a mismatch against its first member only). */
export const OneOf = <T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options })

export const Id = (description: string) => Type.String({ description })

export const Success = Type.Object({ success: Type.Boolean() })

const WireState = OneOf(['initializing', 'running', 'paused', 'stopping', 'stopped', 'failed', 'restarting'])

export const ActorInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  state: WireState,
  protected: Type.Boolean(),
  agentType: Type.String(),
  kind: Type.String(),
  supervisor: Type.String(),
  team: nullable(Type.String()),
  createdAtMs: Type.Number(),
  startedAtMs: nullable(Type.Number()),
  restarts: Type.Integer(),
  error: nullable(Type.String()),
})

export const ActorBeatInfo = Type.Composite([ActorInfo, Type.Object({
  lastHeartbeatMs: nullable(Type.Number()),
  heartbeatAgeMs: nullable(Type.Number()),
})])

export const ActorStats = Type.Composite([ActorInfo, Type.Object({
  mailboxDepth: Type.Integer(),
  mailboxCapacity: Type.Integer(),
  messagesProcessed: Type.Integer(),
  lastHeartbeatMs: nullable(Type.Number()),
})])

export const KindInfo = Type.Object({
  kind: Type.String(),
  agentType: Type.String(),
  spawnable: Type.Boolean(),
  protected: Type.Boolean(),
  help: Type.Optional(Type.String()),
})

/** Wrenn's AuthResponse: login, signup and switch-team. */
export const AuthResponse = Type.Object({
  token: Type.String(),
  user_id: Type.String(),
  team_id: Type.String(),
  email: Type.String(),
  name: Type.String(),
})

const Role = OneOf(['owner', 'admin', 'member'])

export const Team = Type.Object({ id: Type.String(), name: Type.String(), slug: Type.String(), created_at: Type.String({ format: 'date-time' }) })
export const TeamWithRole = Type.Composite([Team, Type.Object({ role: Role })])
export const Member = Type.Object({ user_id: Type.String(), email: Type.String(), name: Type.String(), role: Role, joined_at: Type.String({ format: 'date-time' }) })
export const TeamWithMembers = Type.Object({ team: Team, members: Type.Array(Member) })
export const UserMatch = Type.Object({ user_id: Type.String(), email: Type.String() })

/** Wrenn's APIKeyResponse; `key` (the plaintext) only in the creation's 201. */
export const ApiKey = Type.Object({
  id: Type.String(),
  team_id: Type.String(),
  name: Type.String(),
  key_prefix: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used: nullable(Type.String({ format: 'date-time' })),
})
export const NewApiKey = Type.Composite([ApiKey, Type.Object({ key: Type.String() })])

/** Golem's component view, with the WIT metadata Colony reads from the binary. */
export const Component = Type.Object({
  componentId: Type.String(),
  componentName: Type.String(),
  componentVersion: Type.Integer({ minimum: 0 }),
  componentSize: Type.Integer({ minimum: 0 }),
  createdAt: Type.String({ format: 'date-time' }),
  environmentId: Type.String(),
  metadata: Type.Object({
    exports: Type.Array(Type.Object({ name: Type.String(), interface: Type.Optional(Type.String()), params: Type.Array(Type.Object({ name: Type.String() })) })),
    imports: Type.Array(Type.String()),
    exportedInterfaces: Type.Array(Type.String()),
  }),
})

export const StringMap = Type.Record(Type.String(), Type.String())

/** A wasmCloud link (the control interface's `LinkDefinition`, snake_case as on the wire). */
export const Link = Type.Object({
  source_id: Type.String(),
  target: Type.String(),
  name: Type.String(),
  wit_namespace: Type.String(),
  wit_package: Type.String(),
  interfaces: Type.Array(Type.String()),
  source_config: Type.Array(Type.String()),
  target_config: Type.Array(Type.String()),
})

export const ConfigEntries = StringMap
