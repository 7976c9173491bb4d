import { createActor, type Actor } from 'xstate'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { ColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import type { WireState } from '../wire/payloads.js'
import { topics } from '../wire/topics.js'
import { ALERT_CODES } from '../wire/alert-codes.js'
import { lifecycleMachine, type LifecycleHooks } from './lifecycle.js'
import { Mailbox } from './mailbox.js'
import { Drain } from './drain.js'
import type { ActorInfo, ActorKind, ActorMessage, ActorStats, Behaviour, ChatMessage } from './types.js'
import type { KernelCounters } from './counters.js'
import { createContext, Incarnation, publishChat, type ContextHost, type ContextOwner } from './incarnation.js'

const LIVE: ReadonlySet<WireState> = new Set(['initializing', 'running', 'paused'])

/** What a cell needs from the system that owns it (declared with the cell: it reports to the host as itself). */
/** The fields every heartbeat carries, after the behaviour's own. */
const HEARTBEAT_FIELDS: ReadonlySet<string> = new Set(['agentId', 'agentName', 'state', 'timestampMs', 'mailboxDepth', 'messagesProcessed', 'restarts', 'uptimeMs'])

export interface CellHost extends ContextHost {
  readonly log: Logger
  readonly counters: KernelCounters
  stateChanged(cell: ActorCell, previous: WireState, next: WireState): void
}

export interface CellSpec {
  id: string
  name: string
  kind: ActorKind<never>
  options: unknown
  supervisor: string
  team: string | null
  /** Overrides the kind's `protected`. */
  protected?: boolean
}

/**
 * One actor: its lifecycle machine, its mailbox, the current behaviour instance and the bookkeeping the
 * registry, heartbeats and metrics read. The machine decides; the cell carries out.
 */
export class ActorCell implements ContextOwner {
  readonly id: string
  readonly name: string
  readonly kind: ActorKind<never>
  readonly supervisor: string
  readonly team: string | null
  readonly createdAtMs: number
  readonly mailbox: Mailbox<ActorMessage>
  private readonly drain: Drain<ActorMessage>
  readonly log: Logger
  state: WireState = 'initializing'
  restarts = 0
  starts = 0
  startedAtMs: number | null = null
  messagesProcessed = 0
  lastHeartbeatMs: number | null = null
  lastError: unknown
  /** Set when the supervisor gave up: a crash of this cell is final. */
  givenUp = false
  private machine: Actor<typeof lifecycleMachine> | undefined
  private incarnation: Incarnation | undefined
  private waiters: Array<{ ready: () => boolean, resolve: (info: ActorInfo) => void }> = []
  /** Between SUSPEND and START: the old instance is released, the new one not created yet. */
  private down = false
  /** The heartbeat's topic and the start of its JSON, made at the first beat (see `heartbeat`). */
  private beatTopic: string | undefined
  private beatHead: string | undefined

  constructor (private readonly host: CellHost, private readonly spec: CellSpec) {
    this.id = spec.id
    this.name = spec.name
    this.kind = spec.kind
    this.supervisor = spec.supervisor
    this.team = spec.team
    this.createdAtMs = host.clock.now()
    this.mailbox = new Mailbox(host.config.actors.mailboxCapacity)
    this.log = host.log.child({ actor: spec.name })
    this.drain = new Drain(this.mailbox, {
      ready: () => this.state === 'running' && this.behaviour !== undefined,
      handle: (message) => this.handle(message),
      processed: () => {
        this.messagesProcessed++
        this.host.counters.messagesProcessed++
      },
      crashed: (err, message) => this.crash(err, message),
      refused: (firstOfEpisode) => {
        this.host.counters.mailboxRejected++
        if (!firstOfEpisode) return
        this.host.alert(this.id, 'warning',
          `mailbox of ${this.name} is full (${this.mailbox.capacity} messages); new messages are rejected until it drains`,
          { code: ALERT_CODES.mailboxFull, source: this.name })
      },
    }, { schedule: (run) => { queueMicrotask(run) }, yieldToLoop: () => yieldToLoop() })
  }

  get protected (): boolean {
    return this.spec.protected ?? this.kind.protected === true
  }

  get live (): boolean {
    return LIVE.has(this.state)
  }

  start (): void {
    const hooks: LifecycleHooks = { start: () => this.startBehaviour(), stop: () => this.stopBehaviour() }
    this.machine = createActor(lifecycleMachine, { input: hooks })
    this.machine.subscribe({
      next: (snapshot) => {
        const value = snapshot.value
        if (typeof value === 'string') this.onState(value, snapshot.context.error)
        else {
          this.onState('restarting', undefined)
          this.down = snapshot.matches({ restarting: 'down' })
          if (this.down) this.notify()
        }
      },
      error: (err) => this.log.error({ err }, 'lifecycle machine error'),
    })
    this.machine.start()
  }

  info (): ActorInfo {
    return {
      id: this.id,
      name: this.name,
      state: this.state,
      protected: this.protected,
      agentType: this.kind.agentType,
      kind: this.kind.kind,
      supervisor: this.supervisor,
      team: this.team,
      createdAtMs: this.createdAtMs,
      startedAtMs: this.startedAtMs,
      restarts: this.restarts,
      error: this.state === 'failed' && this.lastError !== undefined ? errorText(this.lastError) : null,
    }
  }

  stats (): ActorStats {
    return {
      ...this.info(),
      mailboxDepth: this.mailbox.size,
      mailboxCapacity: this.mailbox.capacity,
      messagesProcessed: this.messagesProcessed,
      lastHeartbeatMs: this.lastHeartbeatMs,
    }
  }

  /** Resolves once the cell is in one of `states`, with its info as it was at that moment. */
  waitFor (...states: WireState[]): Promise<ActorInfo> {
    return this.until(() => states.includes(this.state))
  }

  private until (ready: () => boolean): Promise<ActorInfo> {
    if (ready()) return Promise.resolve(this.info())
    return new Promise((resolve) => this.waiters.push({ ready, resolve }))
  }

  private notify (): void {
    if (this.waiters.length === 0) return
    const waiting = this.waiters
    this.waiters = []
    let info: ActorInfo | undefined
    for (const w of waiting) {
      if (w.ready()) w.resolve(info ??= this.info())
      else this.waiters.push(w)
    }
  }

  // ---- lifecycle commands (the system checks protection; these check state) ----

  pause (): void {
    if (this.state === 'paused') return
    if (this.state !== 'running') throw this.invalidState('pause')
    this.machine?.send({ type: 'PAUSE' })
  }

  resume (): void {
    if (this.state === 'running') return
    if (this.state !== 'paused') throw this.invalidState('resume')
    this.machine?.send({ type: 'RESUME' })
  }

  async stop (): Promise<ActorInfo> {
    if (this.state !== 'stopped') this.machine?.send({ type: 'STOP' })
    return await this.waitFor('stopped')
  }

  /** Supervisor restart, step 1: release the current instance (a crashed one is already released). */
  async suspend (): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return
    this.machine?.send({ type: 'SUSPEND' })
    await this.until(() => this.down || this.state === 'stopped')
  }

  /**
   * Supervisor restart, step 2: a fresh behaviour instance; the mailbox (minus the message that crashed) is
   * kept. Resolves once it runs, crashed again, or was stopped meanwhile; false if it was not restarted.
   */
  async restartNow (): Promise<boolean> {
    if (!this.down) return false
    this.restarts++
    this.machine?.send({ type: 'START' })
    await this.waitFor('running', 'failed', 'stopped')
    return true
  }

  /** Supervisor gave up on this cell's group: it ends `failed` and stays so. */
  giveUp (reason: string): void {
    this.givenUp = true
    if (this.live) this.machine?.send({ type: 'FAIL', error: new Error(reason) })
  }

  private invalidState (action: string): ColonyError {
    return new ColonyError('actor_invalid_state', `cannot ${action} ${this.name}: it is ${this.state}`, {
      details: { state: this.state },
    })
  }

  // ---- messages ----

  /** Returns false (and raises one alert per episode) when the mailbox is full. */
  enqueue (message: ActorMessage): boolean {
    return this.drain.offer(message)
  }

  /** Runs only while the drain says ready, so the behaviour is there. */
  private handle (message: ActorMessage): Promise<void> | undefined {
    const behaviour = this.behaviour as Behaviour
    if (message.type === 'chat') {
      const chat = message as ChatMessage
      if (behaviour.chat === undefined) {
        this.reply(chat, this.defaultChatReply(chat))
        return undefined
      }
      const result = behaviour.chat(chat)
      if (typeof result === 'string') {
        this.reply(chat, result)
        return undefined
      }
      return result.then((text) => this.reply(chat, text))
    }
    const result = behaviour.receive?.(message)
    return result instanceof Promise ? result : undefined
  }

  private defaultChatReply (chat: ChatMessage): string {
    const help = this.kind.help ?? 'help — this text'
    const word = chat.content.trim().split(/\s+/)[0] ?? ''
    if (word === '' || word === 'help') return `${this.name} (${this.kind.agentType}) understands:\n${help}`
    return `${this.name} does not understand "${word.slice(0, 40)}". It understands:\n${help}`
  }

  private reply (to: ChatMessage, content: string): void {
    publishChat(this.host, this, to.from, content, to.id)
  }

  crash (err: unknown, message?: ActorMessage): void {
    this.log.error({ err, messageType: message?.type }, 'actor crashed')
    this.machine?.send({ type: 'FAIL', error: err })
  }

  // ---- heartbeat ----

  /** Called by the heartbeat scheduler; false means "the bus is saturated, retry me" (coalesced). */
  beat (): boolean {
    const bus = this.host.bus
    if (bus.saturated) {
      this.host.counters.heartbeatsDeferred++
      return false
    }
    const now = this.host.clock.now()
    const json = this.heartbeat(now)
    if (json === undefined) return true
    if (json === false) {
      this.host.counters.heartbeatsSkipped++
      return true
    }
    this.beatTopic ??= topics.heartbeat(this.id)
    bus.publishJson(this.beatTopic, json)
    // A QoS 0 in-process publish on a three-level topic, made with the bus not saturated (checked above), cannot
    // fail: the beat counts as published now, while this cell is in the cache. A completion callback ran a turn
    // later, after every other beat of the tick, and found the cell cold: 7 % of a 10 000-actor runtime's CPU.
    this.lastHeartbeatMs = now
    this.host.counters.heartbeatsPublished++
    return true
  }

  /**
   * The heartbeat to publish now as JSON text, `false` to skip it (silent), or undefined when the actor is not
   * live. Written out rather than stringified from an object: at 10 000 beats a second the generic
   * `JSON.stringify` of a fresh object was a tenth of the runtime's CPU. The fields and their order are those of
   * `{...extra, agentId, agentName, state, timestampMs, mailboxDepth, messagesProcessed, restarts, uptimeMs}`.
   */
  heartbeat (now: number): string | false | undefined {
    if (!this.live) return undefined
    let extra: Record<string, unknown> | undefined
    if (this.behaviour?.heartbeat !== undefined && this.state !== 'initializing') {
      try {
        const result = this.behaviour.heartbeat()
        if (result === false) return false
        extra = result
      } catch (err) {
        this.crash(err)
        return undefined
      }
    }
    const uptimeMs = this.startedAtMs === null ? 0 : now - this.startedAtMs
    // The id and name never change: their escaped JSON is made once. State names need no escaping.
    this.beatHead ??= `"agentId":${JSON.stringify(this.id)},"agentName":${JSON.stringify(this.name)},"state":"`
    const own = `${this.beatHead}${this.state}","timestampMs":${now},"mailboxDepth":${this.mailbox.size},` +
      `"messagesProcessed":${this.messagesProcessed},"restarts":${this.restarts},"uptimeMs":${uptimeMs}}`
    if (extra === undefined) return `{${own}`
    for (const key in extra) {
      // An extra field named like one of ours: the object's rules (our value, the extra's position) decide.
      if (HEARTBEAT_FIELDS.has(key)) return JSON.stringify({ ...extra, ...JSON.parse(`{${own}`) as Record<string, unknown> })
    }
    const fields = JSON.stringify(extra)
    return fields.length > 2 ? `${fields.slice(0, -1)},${own}` : `{${own}`
  }

  // ---- behaviour instances ----

  /** The running instance's behaviour (undefined between instances). */
  private get behaviour (): Behaviour | undefined {
    return this.incarnation?.behaviour
  }

  private async startBehaviour (): Promise<void> {
    const incarnation = new Incarnation()
    this.incarnation = incarnation
    incarnation.starting = (async () => {
      const behaviour = this.spec.kind.create(createContext(this, this.host, incarnation), this.spec.options as never)
      incarnation.behaviour = behaviour
      this.starts++
      await behaviour.start?.()
      this.startedAtMs = this.host.clock.now()
    })()
    await incarnation.starting
  }

  /** Ends the current instance. Captures it synchronously so a later restart's new instance is never touched. */
  private async stopBehaviour (): Promise<void> {
    const incarnation = this.incarnation
    if (incarnation === undefined) return
    this.incarnation = undefined
    incarnation.alive = false
    for (const unsubscribe of incarnation.subscriptions) unsubscribe()
    incarnation.subscriptions.clear()
    // A stop can arrive while start is still running: let it settle so what it acquired is released too.
    await incarnation.starting?.catch(() => undefined)
    for (const timer of incarnation.timers) this.host.clock.clearTimeout(timer)
    incarnation.timers.clear()
    try {
      await incarnation.behaviour?.stop?.()
    } catch (err) {
      this.log.warn({ err }, 'behaviour stop failed')
    }
  }

  private onState (next: WireState, error: unknown): void {
    if (next === this.state) return
    const previous = this.state
    this.state = next
    this.down = false
    if (next === 'failed') {
      this.lastError = error
      // Release the crashed instance's subscriptions and timers now; a restart creates new ones.
      void this.stopBehaviour()
    }
    if (next === 'running') this.drain.kick()
    this.host.stateChanged(this, previous, next)
    this.notify()
  }
}

function errorText (err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 300)
}
