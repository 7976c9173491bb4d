/**
 * Golem's public oplog entries (v1.2.x `PublicOplogEntry`, JSON with a `type` discriminator and an ISO 8601
 * `timestamp` on every kind), as `GET .../oplog` returns them and as Colony stores them. Build them with `Oplog.*`:
 * the constructors fill the timestamp and the fields Golem always has, so no caller writes a malformed entry.
 */
import type { GolemTyp } from '../components/golem.js'

/** A Golem type-annotated value `{typ, value}`. */
export interface ValueAndType { typ: GolemTyp, value: unknown }

export interface WorkerIdJson { componentId: string, workerName: string }

/** Golem's PluginInstallationDescription. */
export interface PluginInstallation {
  installationId: string
  pluginName: string
  pluginVersion: string
  parameters: Record<string, string>
}

/** How a host call touches the world, which decides whether replay may skip it (Golem's WrappedFunctionType). */
export type WrappedFunctionType = 'ReadLocal' | 'WriteLocal' | 'ReadRemote' | 'WriteRemote'

export type LogLevel = 'Stdout' | 'Stderr' | 'Trace' | 'Debug' | 'Info' | 'Warn' | 'Error' | 'Critical'

export type UpdateDescription = { type: 'Automatic' } | { type: 'SnapshotBased', payload?: number[] }

interface At { timestamp: string }

export interface CreateEntry extends At {
  type: 'Create'
  workerId: WorkerIdJson
  componentVersion: number
  args: string[]
  env: Record<string, string>
  accountId: string
  parent: null
  componentSize: number
  initialTotalLinearMemorySize: number
  initialActivePlugins: PluginInstallation[]
}
export interface ImportedFunctionInvokedEntry extends At {
  type: 'ImportedFunctionInvoked'
  /** `wasi:clocks/wall-clock::now` style: interface, `::`, function. */
  functionName: string
  request: ValueAndType
  response: ValueAndType
  wrappedFunctionType: { type: WrappedFunctionType }
}
export interface ExportedFunctionInvokedEntry extends At {
  type: 'ExportedFunctionInvoked'
  functionName: string
  /** The params, one typed value each. */
  request: ValueAndType[]
  idempotencyKey: string
  traceId?: string
}
export interface ExportedFunctionCompletedEntry extends At {
  type: 'ExportedFunctionCompleted'
  /** The result tuple; null for a function that returns nothing. */
  response: ValueAndType | null
  consumedFuel: number
}
export interface ErrorEntry extends At { type: 'Error', error: string }
export interface InterruptedEntry extends At { type: 'Interrupted' }
export interface SuspendEntry extends At { type: 'Suspend' }
export interface ExitedEntry extends At { type: 'Exited' }
export interface RestartEntry extends At { type: 'Restart' }
export interface PendingUpdateEntry extends At { type: 'PendingUpdate', targetVersion: number, description: UpdateDescription }
export interface SuccessfulUpdateEntry extends At {
  type: 'SuccessfulUpdate'
  targetVersion: number
  newComponentSize: number
  newActivePlugins: PluginInstallation[]
}
export interface FailedUpdateEntry extends At { type: 'FailedUpdate', targetVersion: number, details?: string }
export interface LogEntry extends At { type: 'Log', level: LogLevel, context: string, message: string }
export interface ActivatePluginEntry extends At { type: 'ActivatePlugin', plugin: PluginInstallation }
export interface DeactivatePluginEntry extends At { type: 'DeactivatePlugin', plugin: PluginInstallation }
/** Entries start..end (inclusive) no longer count: replay skips them. */
export interface RevertEntry extends At { type: 'Revert', droppedRegion: { start: number, end: number } }
export interface CancelInvocationEntry extends At { type: 'CancelInvocation', idempotencyKey: string }
/**
 * A fire-and-forget invocation accepted and not run yet (Golem's PendingWorkerInvocation): what its `{}` answer
 * acknowledges, so recovery can run it after a crash.
 */
export interface PendingWorkerInvocationEntry extends At {
  type: 'PendingWorkerInvocation'
  invocation: { type: 'ExportedFunction', idempotencyKey: string, fullFunctionName: string, functionInput: ValueAndType[] }
}

export type OplogEntry =
  | CreateEntry | ImportedFunctionInvokedEntry | ExportedFunctionInvokedEntry | ExportedFunctionCompletedEntry | ErrorEntry
  | InterruptedEntry | SuspendEntry | ExitedEntry | RestartEntry | PendingUpdateEntry | SuccessfulUpdateEntry | FailedUpdateEntry
  | LogEntry | ActivatePluginEntry | DeactivatePluginEntry | RevertEntry | CancelInvocationEntry | PendingWorkerInvocationEntry

export type OplogEntryType = OplogEntry['type']

export const OPLOG_ENTRY_TYPES: readonly OplogEntryType[] = [
  'Create', 'ImportedFunctionInvoked', 'ExportedFunctionInvoked', 'ExportedFunctionCompleted', 'Error', 'Interrupted', 'Suspend',
  'Exited', 'Restart', 'PendingUpdate', 'SuccessfulUpdate', 'FailedUpdate', 'Log', 'ActivatePlugin', 'DeactivatePlugin', 'Revert',
  'CancelInvocation', 'PendingWorkerInvocation',
]

/** Epoch ms (default: now) as Golem's timestamp string. */
const iso = (atMs?: number): string => new Date(atMs ?? Date.now()).toISOString()

function nonNegativeInt (what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${what} must be a non-negative integer, not ${n}`)
  return n
}

function nonEmpty (what: string, s: string): string {
  if (typeof s !== 'string' || s.length === 0) throw new TypeError(`${what} must be a non-empty string`)
  return s
}

/**
 * The constructors. Each takes the kind's fields and an optional time in epoch ms; programming mistakes (an
 * empty function name, a negative version) throw a TypeError at once rather than reaching the oplog.
 */
export const Oplog = {
  create (f: { workerId: WorkerIdJson, componentVersion: number, args?: string[], env?: Record<string, string>, accountId: string,
    componentSize: number, initialTotalLinearMemorySize: number, initialActivePlugins?: PluginInstallation[] }, atMs?: number): CreateEntry {
    return {
      type: 'Create',
      timestamp: iso(atMs),
      workerId: { componentId: nonEmpty('componentId', f.workerId.componentId), workerName: nonEmpty('workerName', f.workerId.workerName) },
      componentVersion: nonNegativeInt('componentVersion', f.componentVersion),
      args: [...(f.args ?? [])],
      env: { ...(f.env ?? {}) },
      accountId: f.accountId,
      parent: null,
      componentSize: nonNegativeInt('componentSize', f.componentSize),
      initialTotalLinearMemorySize: nonNegativeInt('initialTotalLinearMemorySize', f.initialTotalLinearMemorySize),
      initialActivePlugins: [...(f.initialActivePlugins ?? [])],
    }
  },
  importedFunctionInvoked (functionName: string, request: ValueAndType, response: ValueAndType, wrapped: WrappedFunctionType, atMs?: number): ImportedFunctionInvokedEntry {
    return { type: 'ImportedFunctionInvoked', timestamp: iso(atMs), functionName: nonEmpty('functionName', functionName), request, response, wrappedFunctionType: { type: wrapped } }
  },
  exportedFunctionInvoked (functionName: string, request: ValueAndType[], idempotencyKey: string, traceId?: string, atMs?: number): ExportedFunctionInvokedEntry {
    const entry: ExportedFunctionInvokedEntry = {
      type: 'ExportedFunctionInvoked', timestamp: iso(atMs), functionName: nonEmpty('functionName', functionName), request, idempotencyKey: nonEmpty('idempotencyKey', idempotencyKey),
    }
    if (traceId !== undefined) entry.traceId = traceId
    return entry
  },
  exportedFunctionCompleted (response: ValueAndType | null, consumedFuel = 0, atMs?: number): ExportedFunctionCompletedEntry {
    return { type: 'ExportedFunctionCompleted', timestamp: iso(atMs), response, consumedFuel: nonNegativeInt('consumedFuel', consumedFuel) }
  },
  error (error: string, atMs?: number): ErrorEntry {
    return { type: 'Error', timestamp: iso(atMs), error }
  },
  interrupted (atMs?: number): InterruptedEntry { return { type: 'Interrupted', timestamp: iso(atMs) } },
  suspend (atMs?: number): SuspendEntry { return { type: 'Suspend', timestamp: iso(atMs) } },
  exited (atMs?: number): ExitedEntry { return { type: 'Exited', timestamp: iso(atMs) } },
  restart (atMs?: number): RestartEntry { return { type: 'Restart', timestamp: iso(atMs) } },
  pendingUpdate (targetVersion: number, description: UpdateDescription, atMs?: number): PendingUpdateEntry {
    return { type: 'PendingUpdate', timestamp: iso(atMs), targetVersion: nonNegativeInt('targetVersion', targetVersion), description }
  },
  successfulUpdate (targetVersion: number, newComponentSize: number, newActivePlugins: PluginInstallation[] = [], atMs?: number): SuccessfulUpdateEntry {
    return {
      type: 'SuccessfulUpdate', timestamp: iso(atMs), targetVersion: nonNegativeInt('targetVersion', targetVersion),
      newComponentSize: nonNegativeInt('newComponentSize', newComponentSize), newActivePlugins: [...newActivePlugins],
    }
  },
  failedUpdate (targetVersion: number, details?: string, atMs?: number): FailedUpdateEntry {
    const entry: FailedUpdateEntry = { type: 'FailedUpdate', timestamp: iso(atMs), targetVersion: nonNegativeInt('targetVersion', targetVersion) }
    if (details !== undefined) entry.details = details
    return entry
  },
  log (level: LogLevel, context: string, message: string, atMs?: number): LogEntry {
    return { type: 'Log', timestamp: iso(atMs), level, context, message }
  },
  activatePlugin (plugin: PluginInstallation, atMs?: number): ActivatePluginEntry {
    return { type: 'ActivatePlugin', timestamp: iso(atMs), plugin }
  },
  deactivatePlugin (plugin: PluginInstallation, atMs?: number): DeactivatePluginEntry {
    return { type: 'DeactivatePlugin', timestamp: iso(atMs), plugin }
  },
  revert (start: number, end: number, atMs?: number): RevertEntry {
    if (nonNegativeInt('start', start) > nonNegativeInt('end', end)) throw new TypeError(`revert region ${start}..${end} is empty`)
    return { type: 'Revert', timestamp: iso(atMs), droppedRegion: { start, end } }
  },
  cancelInvocation (idempotencyKey: string, atMs?: number): CancelInvocationEntry {
    return { type: 'CancelInvocation', timestamp: iso(atMs), idempotencyKey: nonEmpty('idempotencyKey', idempotencyKey) }
  },
  pendingWorkerInvocation (idempotencyKey: string, fullFunctionName: string, functionInput: ValueAndType[], atMs?: number): PendingWorkerInvocationEntry {
    return {
      type: 'PendingWorkerInvocation',
      timestamp: iso(atMs),
      invocation: { type: 'ExportedFunction', idempotencyKey: nonEmpty('idempotencyKey', idempotencyKey), fullFunctionName: nonEmpty('fullFunctionName', fullFunctionName), functionInput },
    }
  },
} as const

/** The component version each entry leaves in force: Create sets it, SuccessfulUpdate changes it. */
export function versionAfter (entry: OplogEntry, before: number): number {
  if (entry.type === 'Create') return entry.componentVersion
  if (entry.type === 'SuccessfulUpdate') return entry.targetVersion
  return before
}
