/**
 * The messages a worker actor understands, built by the worker service (REST, MQTT, the gateway all go through it)
 * and read back with `readWorkerMessage`; anything else is refused. Type aliases, to fit the kernel's CustomMessage.
 */
import type { PluginInstallation } from './oplog-entries.js'
import { isRequest, type ActorMessage } from '../actor/types.js'
import type { Respond } from '../components/messages.js'

/** Runs an exported function; `await` false acknowledges once the call is durable (Golem's `invoke`). */
export type WorkerInvokeMessage = { type: 'worker-invoke', function: string, params: unknown, idempotencyKey: string, await: boolean }
export type WorkerInterruptMessage = { type: 'worker-interrupt', recoverImmediately: boolean }
export type WorkerResumeMessage = { type: 'worker-resume' }
export type WorkerUpdateMessage = { type: 'worker-update', mode: 'Automatic' | 'Manual', targetVersion: number }
/** The live part of the worker's metadata (status, queue, memory). */
export type WorkerDescribeMessage = { type: 'worker-describe' }
/** Plugin (de)activation, recorded in the oplog. */
export type WorkerPluginMessage = { type: 'worker-plugin', activate: boolean, plugin: PluginInstallation }
/** The actor's own timer: has it been idle long enough to leave memory? */
export type WorkerIdleMessage = { type: 'worker-idle-check' }

type Asked<M> = M & { respond: Respond }

export type WorkerInbound =
  | Asked<WorkerInvokeMessage> | Asked<WorkerInterruptMessage> | Asked<WorkerResumeMessage> | Asked<WorkerUpdateMessage>
  | Asked<WorkerDescribeMessage> | Asked<WorkerPluginMessage> | WorkerIdleMessage

export const workerMessages = {
  invoke: (fn: string, params: unknown, idempotencyKey: string, awaitResult: boolean): WorkerInvokeMessage =>
    ({ type: 'worker-invoke', function: fn, params, idempotencyKey, await: awaitResult }),
  interrupt: (recoverImmediately: boolean): WorkerInterruptMessage => ({ type: 'worker-interrupt', recoverImmediately }),
  resume: (): WorkerResumeMessage => ({ type: 'worker-resume' }),
  update: (mode: 'Automatic' | 'Manual', targetVersion: number): WorkerUpdateMessage => ({ type: 'worker-update', mode, targetVersion }),
  describe: (): WorkerDescribeMessage => ({ type: 'worker-describe' }),
  plugin: (activate: boolean, plugin: PluginInstallation): WorkerPluginMessage => ({ type: 'worker-plugin', activate, plugin }),
  idleCheck: (): WorkerIdleMessage => ({ type: 'worker-idle-check' }),
}

const ASKED = new Set(['worker-invoke', 'worker-interrupt', 'worker-resume', 'worker-update', 'worker-describe', 'worker-plugin'])

/** The worker protocol's message, or undefined (unknown type, or an ask that was not asked). */
export function readWorkerMessage (m: ActorMessage): WorkerInbound | undefined {
  if (m.type === 'worker-idle-check') return m as WorkerIdleMessage
  if (!ASKED.has(m.type) || !isRequest(m)) return undefined
  return m as unknown as WorkerInbound
}
