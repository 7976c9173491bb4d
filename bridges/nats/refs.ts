import { open } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { ColonyError } from '../../src/index.js'
import { isOciReference } from '../../src/components.js'
import { LATTICE_ENV, type Lattice } from './lattice.js'

/** A component reference resolved to this host's registry. */
export interface ResolvedComponent { componentId: string, version?: number }

const OCI_HINT = 'OCI pulls are not configured on this host; use component:<id or name>[@<version>] (a component in this ' +
  'host\'s registry, see POST /v1/envs/default/components) or file:///path/to/component.wasm'


/**
 * Resolves a wasmCloud `component_ref` on this host:
 * - `component:<id or name>[@<version>]` names a component in the registry (and optionally pins a revision);
 * - `file:///abs/path.wasm` imports that file as the component called `latticeId` (a new revision when it changed);
 * - an OCI reference fails: this host pulls from no registry.
 */
export async function resolveComponentRef (l: Lattice, ref: string, latticeId: string): Promise<ResolvedComponent> {
  const registry = l.ctx.services.components
  if (ref.startsWith('component:')) {
    const m = /^component:([^@]+)(?:@(\d+))?$/.exec(ref)
    if (m === null) throw new ColonyError('invalid_body', `component_ref "${ref.slice(0, 80)}" must look like component:<id or name>[@<version>]`)
    const record = registry.find(l.who(), m[1] as string)
    if (m[2] === undefined) return { componentId: record.id }
    const version = Number(m[2])
    if (registry.revisionInfo(record.id, version) === undefined) {
      throw new ColonyError('revision_not_found', `component ${record.name} has no revision ${version}`)
    }
    return { componentId: record.id, version }
  }
  if (ref.startsWith('file:')) {
    const bytes = await readComponentFile(ref, l.ctx.config.wasm.maxComponentBytes)
    const who = l.who()
    const { view } = await registry.upsert(who, who.teamId, LATTICE_ENV, latticeId, bytes)
    return { componentId: view.componentId }
  }
  if (isOciReference(ref)) throw new ColonyError('invalid_body', OCI_HINT)
  throw new ColonyError('invalid_body', `component_ref "${ref.slice(0, 80)}" is not supported: ${OCI_HINT}`)
}

async function readComponentFile (ref: string, maxBytes: number): Promise<Buffer> {
  let path: string
  try {
    path = fileURLToPath(ref)
  } catch (err) {
    throw new ColonyError('invalid_body', `component_ref "${ref.slice(0, 80)}" is not a file URL with an absolute path (${(err as Error).message})`)
  }
  let file
  try {
    file = await open(path, 'r')
  } catch (err) {
    throw new ColonyError('invalid_body', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    const { size } = await file.stat()
    if (size > maxBytes) throw new ColonyError('component_too_large', `${path} is ${size} bytes; the limit is ${maxBytes}`)
    return await file.readFile()
  } finally {
    await file.close()
  }
}
