import type { ActorKind } from '../../src/actor/types.js'

/** How many times each actor's behaviour started, by actor name: the tests' view of restarts. */
export const starts = new Map<string, number>()

/**
 * A test actor that crashes on demand: chat `crash` throws from the handler, `crash-async` rejects, and
 * `fail-start` in its options makes every start throw.
 */
export const crashyKind: ActorKind<{ failStart?: boolean }> = {
  kind: 'crashy',
  agentType: 'test',
  spawnable: true,
  create (ctx, options) {
    return {
      start () {
        starts.set(ctx.name, (starts.get(ctx.name) ?? 0) + 1)
        if (options.failStart === true) throw new Error('start refused')
      },
      chat (message) {
        if (message.content === 'crash') throw new Error(`${ctx.name} was told to crash`)
        if (message.content === 'crash-async') return Promise.reject(new Error('async crash'))
        return `ok ${message.content}`
      },
    }
  },
}

/** A test actor whose heartbeat can be switched off (`mute`) and on (`unmute`), like a wedged worker. */
export const mutableKind: ActorKind = {
  kind: 'mutable',
  agentType: 'test',
  spawnable: true,
  create () {
    let muted = false
    return {
      chat (message) {
        if (message.content === 'mute') muted = true
        if (message.content === 'unmute') muted = false
        return muted ? 'muted' : 'beating'
      },
      heartbeat: () => (muted ? false : {}),
    }
  },
}

/** Releases the blocked handlers of `blockingKind` actors. */
export const gate = { release: (): void => undefined }

/** A test actor whose chat handler waits until the test calls `gate.release()`: a busy actor. */
export const blockingKind: ActorKind = {
  kind: 'blocking',
  agentType: 'test',
  spawnable: true,
  create () {
    return {
      chat (message) {
        return new Promise<string>((resolve) => {
          const previous = gate.release
          gate.release = () => {
            previous()
            resolve(`done ${message.content}`)
          }
        })
      },
    }
  },
}

export const TEST_KINDS = [crashyKind, mutableKind, blockingKind] as ActorKind<never>[]
