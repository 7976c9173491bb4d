/**
 * The workers' SQLite persistence as the worker service and each durable worker see it: rows by component and
 * name, and one oplog per worker (the store keys both by the row's `seq`), written through the one group-committing
 * writer.
 */
import type { Clock } from '../clock.js'
import type { OplogStore, Store, WorkerListQuery, WorkerRecord } from '../store/index.js'
import { Oplog, type OplogEntry } from './oplog-entries.js'
import type { OplogWriter } from './oplog-writer.js'
import type { IndexedEntry, OplogReader } from './oplog-reader.js'
import type { InvocationMark, InvocationResult, PendingInvocation, WorkerOplog, WorkerSnapshot } from './oplog-port.js'
import type { NewWorker, OplogPage, OplogPageQuery, WorkerPage, WorkerRow, WorkerRows } from './rows-port.js'
import type { WorkerRef, WorkerRowPatch } from './durable-worker.js'

export class WorkerPersistence implements WorkerRows {
  constructor (private readonly o: {
    store: Store
    writer: OplogWriter
    reader: OplogReader
    clock: Clock
    /** The size of a component revision (WorkerMetadata.componentSize). */
    componentSize (componentId: string, version: number): number
    /** Told of every append once it is durable (oplog-processor plugins get the entries). */
    onDurable?: (ref: WorkerRef, entries: IndexedEntry[]) => void
  }) {}

  private row (r: WorkerRecord): WorkerRow {
    return {
      componentId: r.componentId,
      workerName: r.name,
      teamId: r.teamId,
      componentVersion: r.componentVersion,
      args: r.args,
      env: r.env,
      status: r.status,
      createdAt: r.createdAtMs,
      retryCount: r.retryCount,
      lastError: r.lastError,
      updates: r.updates,
      activePlugins: r.activePlugins,
      componentSize: this.o.componentSize(r.componentId, r.componentVersion),
    }
  }

  private seq (ref: WorkerRef): number | undefined {
    return this.o.store.workers.get(ref.componentId, ref.workerName)?.seq
  }

  /** The row and its Create entry in one transaction: a worker never exists without the start of its oplog. */
  insert (w: NewWorker): WorkerRow {
    const record = this.o.store.transaction(() => {
      const r = this.o.store.workers.insert({
        componentId: w.componentId, name: w.workerName, teamId: w.teamId, componentVersion: w.componentVersion, args: w.args, env: w.env, createdAtMs: w.createdAt,
        activePlugins: w.plugins.map((p) => p.installationId),
      })
      this.o.writer.appendNow(r.seq, [Oplog.create({
        workerId: { componentId: w.componentId, workerName: w.workerName },
        componentVersion: w.componentVersion,
        args: w.args,
        env: w.env,
        accountId: w.teamId ?? 'host',
        componentSize: w.componentSize,
        initialTotalLinearMemorySize: 0,
        initialActivePlugins: w.plugins,
      }, w.createdAt)])
      return r
    })
    return this.row(record)
  }

  get (componentId: string, workerName: string): WorkerRow | undefined {
    const r = this.o.store.workers.get(componentId, workerName)
    return r === undefined ? undefined : this.row(r)
  }

  update (componentId: string, workerName: string, patch: WorkerRowPatch & { activePlugins?: string[] }): void {
    this.o.store.workers.update(componentId, workerName, patch)
  }

  delete (componentId: string, workerName: string): void {
    const seq = this.seq({ componentId, workerName })
    this.o.store.workers.delete(componentId, workerName)
    if (seq !== undefined) this.o.writer.forget(seq)
  }

  list (componentId: string, query: WorkerListQuery): WorkerPage {
    const page = this.o.store.workers.list(componentId, query)
    const cursor = page.cursor === undefined ? undefined : { layer: 0, cursor: Number(page.cursor.split('/')[1]) }
    return { rows: page.rows.map((r) => this.row(r)), ...(cursor !== undefined && { cursor }) }
  }

  ofComponent (componentId: string): WorkerRow[] {
    return this.o.store.workers.listAll().filter((r) => r.componentId === componentId).map((r) => this.row(r))
  }

  all (): WorkerRow[] {
    return this.o.store.workers.listAll().map((r) => this.row(r))
  }

  withPendingInvocations (): WorkerRow[] {
    return this.o.store.workers.listAll().filter((r) => this.o.store.oplog.pendingInvocations(r.seq).length > 0).map((r) => this.row(r))
  }

  oplogPage (ref: WorkerRef, query: OplogPageQuery): OplogPage {
    const seq = this.seq(ref)
    if (seq === undefined) return { entries: [], firstIndexInChunk: 1, lastIndex: 0 }
    return this.o.reader.page(seq, query)
  }

  /** One worker's oplog (its seq looked up once: a worker's seq never changes while it exists). */
  oplogFor (ref: WorkerRef): WorkerOplog {
    const seq = this.seq(ref)
    if (seq === undefined) return missingOplog
    return new SeqOplog(ref, seq, this.o.store.oplog, this.o.writer, this.o.reader, this.o.clock, this.o.onDurable)
  }
}

class SeqOplog implements WorkerOplog {
  constructor (private readonly ref: WorkerRef, private readonly seq: number, private readonly store: OplogStore, private readonly writer: OplogWriter,
    private readonly reader: OplogReader, private readonly clock: Clock, private readonly onDurable: ((ref: WorkerRef, entries: IndexedEntry[]) => void) | undefined) {}

  append (entries: OplogEntry[], mark?: InvocationMark): Promise<{ firstIndex: number, lastIndex: number }> {
    const durable = this.write(entries, mark)
    const tell = this.onDurable
    if (tell !== undefined) {
      void durable.then(({ firstIndex }) => tell(this.ref, entries.map((entry, i) => ({ oplogIndex: firstIndex + i, entry }))), () => undefined)
    }
    return durable
  }

  private write (entries: OplogEntry[], mark: InvocationMark | undefined): Promise<{ firstIndex: number, lastIndex: number }> {
    if (mark === undefined) return this.writer.append(this.seq, entries)
    // A pending key's call is read back from its PendingWorkerInvocation entry (the key row points at it).
    const invocation = mark.state === 'completed' ? { idempotencyKey: mark.idempotencyKey, state: mark.state, result: mark.result } : { idempotencyKey: mark.idempotencyKey, state: mark.state }
    return this.writer.append(this.seq, entries, { invocation })
  }

  async flushed (): Promise<void> {
    this.writer.flush()
  }

  lastIndex (): number {
    return this.writer.lastIndex(this.seq)
  }

  read (from: number): Iterable<IndexedEntry> {
    return this.reader.entries(this.seq, from)
  }

  pending (): PendingInvocation[] {
    const calls: PendingInvocation[] = []
    for (const i of this.store.pendingInvocations(this.seq)) {
      const row = i.invokedIndex === null ? undefined : this.store.read(this.seq, i.invokedIndex, 1)[0]
      const entry = row === undefined ? undefined : JSON.parse(row.entry) as OplogEntry
      if (entry?.type !== 'PendingWorkerInvocation') continue
      calls.push({ idempotencyKey: i.idempotencyKey, functionName: entry.invocation.fullFunctionName, params: entry.invocation.functionInput.map((v) => v.value) })
    }
    return calls
  }

  completed (idempotencyKey: string): InvocationResult | undefined {
    const i = this.store.invocation(this.seq, idempotencyKey)
    return i?.state === 'completed' && i.result !== null ? JSON.parse(i.result) as InvocationResult : undefined
  }

  latestSnapshot (componentVersion: number): WorkerSnapshot | undefined {
    const s = this.store.latestSnapshot(this.seq)
    // A snapshot belongs to the version in force at the entry it covers (Create or the last SuccessfulUpdate).
    if (s === undefined || this.reader.versionAt(this.seq, s.coversIndex) !== componentVersion) return undefined
    return { oplogIndex: s.coversIndex, componentVersion, bytes: s.bytes }
  }

  putSnapshot (oplogIndex: number, bytes: Uint8Array): void {
    this.store.putSnapshot(this.seq, oplogIndex, bytes, this.clock.now())
  }
}

/** A deleted worker's oplog: reads are empty, writes fail as the writer would. */
const missingOplog: WorkerOplog = {
  append: async () => { throw new Error('the worker no longer exists') },
  flushed: async () => undefined,
  lastIndex: () => 0,
  read: () => [],
  pending: () => [],
  completed: () => undefined,
  latestSnapshot: () => undefined,
  putSnapshot: () => undefined,
}
