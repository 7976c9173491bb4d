/**
 * The durable-workers domain's public surface (Golem workers: their rows, filters and the durable oplog), for the
 * worker actor and the REST family. It sits above the components domain.
 */
export {
  Oplog, OPLOG_ENTRY_TYPES, versionAfter,
  type OplogEntry, type OplogEntryType, type ValueAndType, type WorkerIdJson, type PluginInstallation, type WrappedFunctionType,
  type LogLevel, type UpdateDescription, type CreateEntry, type ImportedFunctionInvokedEntry, type ExportedFunctionInvokedEntry,
  type ExportedFunctionCompletedEntry, type ErrorEntry, type PendingUpdateEntry, type SuccessfulUpdateEntry, type FailedUpdateEntry,
  type LogEntry, type RevertEntry,
} from './workers/oplog-entries.js'
export { OplogWriter, type AppendOptions, type AppendResult, type InvocationMark, type OplogWriterStats } from './workers/oplog-writer.js'
export {
  OplogReader, MAX_OPLOG_PAGE, OPLOG_STREAM_CHUNK, formatOplogCursor, parseOplogCursor,
  type IndexedEntry, type OplogCursor, type OplogPage, type OplogPageQuery,
} from './workers/oplog-reader.js'
export { parseFilterJson, parseFilterString, parseFilterStrings, MAX_FILTER_DEPTH, MAX_FILTER_NODES } from './workers/filter.js'
export {
  WorkerStore, OplogStore, WORKER_STATUSES, DEFAULT_WORKER_PAGE, MAX_WORKER_PAGE, checkWorkerCount, parseWorkerCursor,
  type WorkerRecord, type NewWorker, type WorkerPatch, type WorkerListQuery, type WorkerPage, type UpdateRecord, type WorkerFilter,
  type WorkerStatus, type InvocationRecord, type InvocationState, type SnapshotRecord,
} from './store/index.js'
export { workerFindQuery, workerListQuery, type WorkerFindBody, type WorkerListParams } from './workers/list-query.js'
/** The durable-worker domain's public entry point, for the worker actor kind and the bridges. */
export { WorkerService, checkIdempotencyKey, checkWorkerName, type WorkerMetadata, type WorkerSettings, type LiveWorker } from './workers/service.js'
export { DurableWorker, type WorkerRef } from './workers/durable-worker.js'
export { readWorkerMessage, workerMessages, type WorkerInbound } from './workers/messages.js'
export { workerEvents, WorkerEventHub, EVENT_HISTORY, type WorkerEvent } from './workers/events.js'
export type { InvocationResult } from './workers/oplog-port.js'
