import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Clock } from '../clock.js'
import { ColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import { canAccess, type Identity } from '../auth/identity.js'
import type { ComponentRecord, Revision, Store } from '../store/index.js'
import { ComponentCompiler, type Compiled } from '../wasm/compiler.js'
import { inspectComponent } from '../wasm/inspect.js'
import type { ComponentMetadata } from '../wasm/types.js'
import type { ComponentScaled, ComponentScaleFailed } from './types.js'
import { qualifiedName } from './invoke.js'
import { witFunction } from '../wasm/wit-text.js'
import { ScaleMemory } from './scales.js'

/** A component as the Golem API returns it, plus the metadata (exported functions with WIT types). */
export interface ComponentView {
  componentId: string
  componentName: string
  componentVersion: number
  componentSize: number
  createdAt: string
  environmentId: string
  metadata: ComponentMetadata
}

export interface LoadedComponent {
  record: ComponentRecord
  revision: Revision
  metadata: ComponentMetadata
  compiled: Compiled
}

interface RegistryEvents {
  deleted: [componentId: string]
  /** Emitted by `scaleComponent`, whichever door asked. */
  scaled: [event: ComponentScaled]
  scaleFailed: [event: ComponentScaleFailed]
}

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/
const ENV = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The component registry (Golem's API): each upload is inspected (it must be a component, its exports are read
 * with their WIT types), stored as a numbered revision (bytes in `<data>/components/<id>/<version>.wasm`, the row
 * in SQLite after the file is written), and compiled on first use. Components belong to the uploader's team.
 */
export class ComponentRegistry extends EventEmitter<RegistryEvents> {
  readonly compiler: ComponentCompiler
  /** The scale each component was last given, restored at start-up. */
  readonly scales: ScaleMemory
  /** Records and latest versions by id: this registry is the only writer, and every invocation reads them. */
  private readonly records = new Map<string, ComponentRecord | null>()
  private readonly latest = new Map<string, number>()

  constructor (private readonly o: { store: Store, dir: string, maxBytes: number, clock: Clock, log: Logger }) {
    super()
    this.compiler = new ComponentCompiler(join(o.dir, '..', 'wasm-cache'), o.log)
    this.scales = new ScaleMemory(o.store, o.clock)
  }

  async create (who: Identity, teamId: string, envId: string, name: string, bytes: Uint8Array): Promise<ComponentView> {
    if (!ENV.test(envId)) throw new ColonyError('invalid_body', 'environment_id must be 1 to 64 characters of A-Z a-z 0-9 _ -', { details: { field: 'environment_id' } })
    if (!NAME.test(name)) throw new ColonyError('invalid_body', 'name must be 1 to 128 characters of A-Z a-z 0-9 _ . : -', { details: { field: 'name' } })
    const metadata = await this.check(bytes)
    if (this.o.store.components.byName(teamId, envId, name) !== undefined) {
      throw new ColonyError('component_name_taken', `a component named "${name}" already exists in environment ${envId}`)
    }
    const record: ComponentRecord = { id: randomUUID(), teamId, envId, name, createdAtMs: this.o.clock.now() }
    await this.writeBytes(record.id, 0, bytes)
    this.o.store.transaction(() => {
      this.o.store.components.insert(record)
      this.o.store.components.addRevision(this.revision(record.id, 0, bytes, metadata))
    })
    this.records.delete(record.id)
    this.latest.delete(record.id)
    this.o.log.info({ componentId: record.id, name, team: teamId, by: who.userId }, 'component created')
    return this.view(record.id)
  }

  async update (who: Identity, id: string, bytes: Uint8Array): Promise<ComponentView> {
    const record = this.visible(who, id)
    const metadata = await this.check(bytes)
    const next = (this.o.store.components.latest(id)?.version ?? -1) + 1
    await this.writeBytes(id, next, bytes)
    this.o.store.components.addRevision(this.revision(id, next, bytes, metadata))
    this.latest.set(id, next)
    this.o.log.info({ componentId: id, version: next, name: record.name }, 'component updated')
    return this.view(id)
  }

  /**
   * Creates the component `name`, or adds a revision when its latest bytes differ; same bytes change nothing (a
   * `file://` scale over NATS, repeated). Resolves with the component and whether a revision was written.
   */
  async upsert (who: Identity, teamId: string, envId: string, name: string, bytes: Uint8Array): Promise<{ view: ComponentView, changed: boolean }> {
    const existing = this.o.store.components.byName(teamId, envId, name)
    if (existing === undefined) return { view: await this.create(who, teamId, envId, name, bytes), changed: true }
    if (this.o.store.components.latest(existing.id)?.sha256 === ComponentCompiler.hash(bytes)) return { view: this.view(existing.id), changed: false }
    return { view: await this.update(who, existing.id, bytes), changed: true }
  }

  /** A revision's record (the latest when `version` is omitted), without its bytes. */
  revisionInfo (id: string, version?: number): Revision | undefined {
    return version === undefined ? this.o.store.components.latest(id) : this.o.store.components.revision(id, version)
  }

  get (who: Identity, id: string): ComponentView {
    this.visible(who, id)
    return this.view(id)
  }

  byName (who: Identity, teamId: string, envId: string, name: string): ComponentView {
    const record = this.o.store.components.byName(teamId, envId, name)
    if (record === undefined || !canAccess(who, record.teamId)) throw notFound(name)
    return this.view(record.id)
  }

  /** A component by id, or by name among those `who` may see (the caller's active team first). */
  find (who: Identity | undefined, ref: string): ComponentRecord {
    const byId = this.o.store.components.get(ref)
    if (byId !== undefined && canAccess(who, byId.teamId)) return byId
    const named = this.o.store.components.named(ref).filter((r) => canAccess(who, r.teamId))
    const record = named.find((r) => r.teamId === who?.teamId) ?? named[0]
    if (record === undefined) throw notFound(ref)
    return record
  }

  list (who: Identity, teamId: string, envId: string): ComponentView[] {
    return this.o.store.components.inEnv(envId, who.isAdmin ? undefined : teamId).map((r) => this.view(r.id))
  }

  async remove (who: Identity, id: string): Promise<void> {
    this.visible(who, id)
    this.o.store.transaction(() => {
      this.o.store.components.remove(id)
      this.o.store.links.removeForSource(id)
    })
    this.scales.forget(id)
    this.records.delete(id)
    this.latest.delete(id)
    await rm(join(this.o.dir, id), { recursive: true, force: true })
    this.emit('deleted', id)
  }

  async download (who: Identity, id: string, version: number): Promise<Buffer> {
    this.visible(who, id)
    if (this.o.store.components.revision(id, version) === undefined) {
      throw new ColonyError('revision_not_found', `component ${id} has no revision ${version}`)
    }
    return await readFile(this.file(id, version))
  }

  /** The record for `who`, or 404 (another team's component does not exist for them). */
  visible (who: Identity | undefined, id: string): ComponentRecord {
    let record = this.records.get(id)
    if (record === undefined) {
      record = this.o.store.components.get(id) ?? null
      if (this.records.size > 10_000) this.records.clear()
      this.records.set(id, record)
    }
    if (record === null || !canAccess(who, record.teamId)) throw notFound(id)
    return record
  }

  /** The latest (or a given) revision, ready to instantiate: used by component actors. */
  async load (id: string, version?: number): Promise<LoadedComponent> {
    const record = this.visible(undefined, id)
    const revision = version === undefined ? this.o.store.components.latest(id) : this.o.store.components.revision(id, version)
    if (revision === undefined) throw new ColonyError('revision_not_found', `component ${id} has no revision ${version ?? 'at all'}`)
    const bytes = await readFile(this.file(id, revision.version))
    return { record, revision, metadata: JSON.parse(revision.metadata) as ComponentMetadata, compiled: await this.compiler.prepare(bytes) }
  }

  /** The component's private directory (created on demand), for instances started with a filesystem. */
  async filesDir (id: string): Promise<string> {
    const dir = join(this.o.dir, '..', 'files', id)
    await mkdir(dir, { recursive: true })
    return dir
  }

  latestVersion (id: string): number | undefined {
    let version = this.latest.get(id)
    if (version === undefined) {
      version = this.o.store.components.latest(id)?.version
      if (version !== undefined) this.latest.set(id, version)
    }
    return version
  }

  private async check (bytes: Uint8Array): Promise<ComponentMetadata> {
    if (bytes.length > this.o.maxBytes) {
      throw new ColonyError('component_too_large', `the component is ${bytes.length} bytes; the limit is ${this.o.maxBytes}`)
    }
    const metadata = await inspectComponent(bytes)
    // Transpile now: a component jco cannot handle is refused at upload, not at its first invocation.
    await this.compiler.prepare(bytes)
    return metadata
  }

  private revision (componentId: string, version: number, bytes: Uint8Array, metadata: ComponentMetadata): Revision {
    return {
      componentId,
      version,
      sha256: ComponentCompiler.hash(bytes),
      size: bytes.length,
      metadata: JSON.stringify(metadata),
      createdAtMs: this.o.clock.now(),
    }
  }

  private view (id: string): ComponentView {
    const record = this.o.store.components.get(id) as ComponentRecord
    const revision = this.o.store.components.latest(id) as Revision
    return {
      componentId: record.id,
      componentName: record.name,
      componentVersion: revision.version,
      componentSize: revision.size,
      createdAt: new Date(revision.createdAtMs).toISOString(),
      environmentId: record.envId,
      metadata: describe(JSON.parse(revision.metadata) as ComponentMetadata),
    }
  }

  private file (id: string, version: number): string {
    return join(this.o.dir, id, `${version}.wasm`)
  }

  /** The bytes are written (and synced) before the row that points at them is committed. */
  private async writeBytes (id: string, version: number, bytes: Uint8Array): Promise<void> {
    await mkdir(join(this.o.dir, id), { recursive: true })
    await writeFile(this.file(id, version), bytes, { flush: true })
  }
}

/** The stored metadata plus, for each export, the name to invoke it by and its WIT signature. */
function describe (metadata: ComponentMetadata): ComponentMetadata {
  return {
    ...metadata,
    exports: metadata.exports.map((fn) => ({ ...fn, function: qualifiedName(fn), signature: witFunction(fn) })),
  }
}

function notFound (ref: string): ColonyError {
  return new ColonyError('component_not_found', `no component ${ref.slice(0, 80)}`)
}
