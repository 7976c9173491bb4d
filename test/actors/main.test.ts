import assert from 'node:assert/strict'
import { mainKind } from '../../actors/main.js'
import { ColonyError } from '../../src/errors.js'
import type { ActorStats, ChatMessage, SpawnOptions, SystemApi } from '../../src/actor/types.js'
import type { Identity } from '../../src/auth/identity.js'
import { fakeContext } from '../helpers/actor-context.js'

const stats = (name: string, extra: Partial<ActorStats> = {}): ActorStats => ({
  id: `id-${name}`, name, state: 'running', protected: false, agentType: 'echo', kind: 'echo', supervisor: 'user', team: null,
  createdAtMs: 0, startedAtMs: 0, restarts: 0, error: null, mailboxDepth: 0, mailboxCapacity: 1000, messagesProcessed: 0,
  lastHeartbeatMs: null, ...extra,
})

/** main-actor on a fake context whose SystemApi knows two actors and records what it was asked to do. */
function mainActor () {
  const actors = new Map<string, ActorStats>([['echo-1', stats('echo-1')], ['monitor', stats('monitor', { protected: true, agentType: 'monitor' })]])
  const calls: string[] = []
  const system: Partial<SystemApi> = {
    list: () => [...actors.values()],
    get: (ref) => actors.get(ref),
    kinds: () => [{ kind: 'echo', agentType: 'echo', spawnable: true }, { kind: 'main', agentType: 'orchestrator', spawnable: false }] as ReturnType<SystemApi['kinds']>,
    pause: (ref) => {
      calls.push(`pause ${ref}`)
      const a = actors.get(ref)
      if (a === undefined) throw new ColonyError('actor_not_found', `no actor ${ref}`)
      if (a.protected) throw new ColonyError('actor_protected', `${ref} is protected`)
      a.state = 'paused'
      return a
    },
    remove: async (ref) => {
      calls.push(`delete ${ref}`)
      actors.delete(ref)
      return stats(ref, { state: 'stopped' })
    },
    spawn: async (kind: string, options?: SpawnOptions) => {
      calls.push(`spawn ${kind} ${options?.name ?? '-'} team=${String(options?.team)}`)
      return stats(options?.name ?? 'echo-2', { state: 'running' })
    },
  }
  const { ctx, clock } = fakeContext({ components: {} } as never, system)
  const behaviour = mainKind.create(ctx, {})
  const say = async (content: string, sender?: Identity): Promise<string> =>
    await behaviour.chat!({ type: 'chat', content, ...(sender !== undefined && { sender }) } as ChatMessage)
  return { say, calls, clock, actors }
}

const member = (over: Partial<Identity> = {}): Identity => ({
  kind: 'user', userId: 'u1', email: 'a@example.com', name: 'A', teamId: 't1', isAdmin: false, teams: new Set(['t1']), ...over,
})

describe('actors/main: the main-actor command language', () => {
  it('an empty line and "help" print the help; commands are case-insensitive and whitespace-tolerant', async () => {
    const m = mainActor()
    for (const line of ['', '   ', 'help', 'HELP']) assert.match(await m.say(line), /^main-actor understands:\nhelp — this text\n/, JSON.stringify(line))
    assert.match(await m.say('  AGENTS  '), /^2 agents:/)
  })

  it('an unknown command names every command it knows', async () => {
    const m = mainActor()
    assert.equal(await m.say('dance now'),
      'unknown command "dance". Commands: help, agents, status, pause, resume, stop, delete, kinds, scale, capsule, channels, mute, unmute, hosts, spawn (say "help" for details)')
    assert.equal(await m.say(`${'x'.repeat(100)}`), `unknown command "${'x'.repeat(40)}". Commands: help, agents, status, pause, resume, stop, delete, kinds, scale, capsule, channels, mute, unmute, hosts, spawn (say "help" for details)`)
  })

  it('agents lists name, type, state and protection', async () => {
    assert.equal(await mainActor().say('agents'), '2 agents:\necho-1 (echo) running\nmonitor (monitor) running [protected]')
  })

  it('status shows one actor, its last heartbeat age from the clock, or the known names', async () => {
    const m = mainActor()
    assert.equal(await m.say('status'), 'usage: status <name>')
    assert.match(await m.say('status echo-1'), /^echo-1 \(echo, id id-echo-1\) is running; restarts 0; mailbox 0\/1000; processed 0; no heartbeat yet$/)
    m.actors.get('echo-1')!.lastHeartbeatMs = m.clock.now()
    m.clock.advance(4_600)
    assert.match(await m.say('status echo-1'), /last heartbeat 5s ago$/)
    assert.equal(await m.say('status ghost'), 'no agent named "ghost". Known agents: echo-1, monitor')
  })

  it('control verbs: usage without a name, the new state, the known names for an unknown one, the reason for a refusal', async () => {
    const m = mainActor()
    assert.equal(await m.say('pause'), 'usage: pause <name>')
    assert.equal(await m.say('pause echo-1'), 'echo-1 is paused')
    assert.equal(await m.say('pause ghost'), 'no agent named "ghost". Known agents: echo-1, monitor')
    assert.equal(await m.say('pause monitor'), 'cannot pause monitor: monitor is protected')
    assert.equal(await m.say('delete echo-1'), 'echo-1 deleted')
    assert.deepEqual(m.calls, ['pause echo-1', 'pause ghost', 'pause monitor', 'delete echo-1'])
  })

  it('kinds lists only the spawnable ones', async () => {
    assert.equal(await mainActor().say('kinds'), 'spawnable kinds: echo (echo)')
  })

  it("spawn: usage, the sender's team owns the new actor, and a sender no longer in their token's team is refused", async () => {
    const m = mainActor()
    assert.equal(await m.say('spawn'), 'usage: spawn <kind> [name]')
    assert.equal(await m.say('spawn echo e9', member()), 'spawned e9 (echo, id id-e9): running')
    assert.equal(await m.say('spawn echo'), 'spawned echo-2 (echo, id id-echo-2): running')
    assert.equal(await m.say('spawn echo e8', member({ teams: new Set(['other']) })),
      "cannot spawn echo: you are no longer a member of your token's team")
    assert.deepEqual(m.calls, ['spawn echo e9 team=t1', 'spawn echo - team=null'])
  })

  it('scale: anything but a component and a whole number is a usage line', async () => {
    const m = mainActor()
    for (const line of ['scale', 'scale adder', 'scale adder two', 'scale adder 1.5']) assert.equal(await m.say(line), 'usage: scale <component> <n>', line)
  })
})
