import { assign, fromPromise, setup } from 'xstate'

/** What the machine invokes: the actor kind's behaviour, wrapped by the cell. */
export interface LifecycleHooks {
  /** Creates a fresh behaviour instance and runs its `start`. A rejection is a crash. */
  start(): Promise<void>
  /** Runs the current instance's `stop` and releases what it owned. Never rejects. */
  stop(): Promise<void>
}

export type LifecycleEvent =
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'STOP' }
  | { type: 'FAIL', error: unknown }
  | { type: 'SUSPEND' }
  | { type: 'START' }

/**
 * The lifecycle every actor shares:
 *
 *   initializing -> running <-> paused -> stopping -> stopped
 *   any live state -> failed (a crash)
 *   failed|running|paused -> restarting (SUSPEND: the instance is released) -> initializing (START: a new one)
 *
 * Restarting is two steps so a supervisor can take a whole group down before bringing it back in order.
 *
 * The machine only decides which transitions are legal and when the behaviour's start/stop run; what an actor
 * does with a message is its kind's own logic, driven by the cell while the machine is in `running`.
 */
export const lifecycleMachine = setup({
  types: {
    input: {} as LifecycleHooks,
    context: {} as { hooks: LifecycleHooks, error: unknown },
    events: {} as LifecycleEvent,
  },
  actors: {
    startBehaviour: fromPromise<void, LifecycleHooks>(({ input }) => input.start()),
    stopBehaviour: fromPromise<void, LifecycleHooks>(({ input }) => input.stop()),
  },
  actions: {
    recordFailure: assign({ error: ({ event }) => (event as { error?: unknown }).error }),
    clearFailure: assign({ error: undefined }),
  },
}).createMachine({
  id: 'lifecycle',
  initial: 'initializing',
  context: ({ input }) => ({ hooks: input, error: undefined }),
  states: {
    initializing: {
      invoke: {
        src: 'startBehaviour',
        input: ({ context }) => context.hooks,
        onDone: 'running',
        onError: { target: 'failed', actions: 'recordFailure' },
      },
      on: { STOP: 'stopping', FAIL: { target: 'failed', actions: 'recordFailure' } },
    },
    running: {
      on: {
        PAUSE: 'paused',
        STOP: 'stopping',
        FAIL: { target: 'failed', actions: 'recordFailure' },
        SUSPEND: 'restarting',
      },
    },
    paused: {
      on: {
        RESUME: 'running',
        STOP: 'stopping',
        FAIL: { target: 'failed', actions: 'recordFailure' },
        SUSPEND: 'restarting',
      },
    },
    stopping: {
      invoke: { src: 'stopBehaviour', input: ({ context }) => context.hooks, onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
    failed: {
      on: { SUSPEND: 'restarting', STOP: 'stopped' },
    },
    restarting: {
      entry: 'clearFailure',
      initial: 'releasing',
      states: {
        releasing: {
          invoke: { src: 'stopBehaviour', input: ({ context }) => context.hooks, onDone: 'down', onError: 'down' },
        },
        down: {
          on: { START: '#lifecycle.initializing' },
        },
      },
      on: { STOP: 'stopping' },
    },
  },
})
