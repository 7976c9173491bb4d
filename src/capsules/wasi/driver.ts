/**
 * The `wasi` capsule driver, for hosts where the namespace driver cannot run (no bubblewrap, no user namespaces, no
 * cgroups): a capsule is a directory, its processes are WebAssembly modules (WASI preview1) that see only that
 * directory. What it cannot do it refuses with `capsule_unsupported` (501): terminals, and the network (a module has
 * no sockets). A template's layers are copied into the new capsule's directory (there is no overlay). Nothing in a
 * capsule's directory is a symbolic link: modules cannot make them and layers are copied without them, because Node's
 * WASI would follow one out of the directory.
 */
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { access, cp, lstat, mkdir, realpath } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { ColonyError } from '../../errors.js'
import type { ComponentRunOptions } from '../component-run.js'
import type { CapsuleDriver, CapsuleSandbox, CapsuleSpec } from '../driver.js'
import { prepareRoot, WasiSandbox, type WasiContext } from './sandbox.js'

export interface WasiDriverOptions {
  /** How often memory is checked while a capsule's processes run. Default 250 ms. */
  watchMs?: number
  /** How a session's component runs; without it a component is refused (exit 126). */
  components?: ComponentRunOptions
}

const NO_NETWORK = 'the wasi driver has no network: its modules have no sockets'
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/

function validateSpec (spec: CapsuleSpec): void {
  const bad = (what: string): never => { throw new ColonyError('invalid_body', `capsule spec: ${what}`) }
  if (typeof spec.id !== 'string' || !ID.test(spec.id)) bad('id is invalid')
  if (typeof spec.dir !== 'string' || !isAbsolute(spec.dir) || spec.dir.split('/').length < 3) bad('dir must be an absolute directory of its own')
  if (!Array.isArray(spec.layers) || spec.layers.some((l) => typeof l !== 'string' || !isAbsolute(l))) bad('layers must be absolute paths')
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 16) bad('memoryMb must be an integer >= 16')
  if (!Number.isInteger(spec.pidsMax) || spec.pidsMax < 8) bad('pidsMax must be an integer >= 8')
  if (spec.network) throw new ColonyError('capsule_unsupported', NO_NETWORK)
}

export class WasiDriver implements CapsuleDriver {
  readonly name = 'wasi' as const
  readonly events = new EventEmitter<{ oom: [id: string], vanished: [id: string] }>()
  private readonly ctx: WasiContext

  constructor (options: WasiDriverOptions = {}) {
    this.ctx = { events: this.events, watchMs: options.watchMs ?? 250, setpriv: findSetpriv(), components: options.components }
  }

  async check (spec?: Pick<CapsuleSpec, 'network'>): Promise<void> {
    if (typeof WebAssembly !== 'object') throw new ColonyError('capsule_unavailable', 'this node has no WebAssembly')
    if (spec?.network === true) throw new ColonyError('capsule_unsupported', NO_NETWORK)
  }

  async create (spec: CapsuleSpec): Promise<CapsuleSandbox> {
    validateSpec(spec)
    const root = join(spec.dir, 'root')
    await mkdir(root, { recursive: true, mode: 0o755 })
    // Layers come topmost first: the base of the stack is copied first, each one above over it. Only directories
    // and regular files are copied: overlay whiteouts (devices) are not files, and a symlink (from a namespace
    // capsule's snapshot) could lead Node's WASI out of the capsule (see ../wasi-runner.ts).
    for (const layer of [...spec.layers].reverse()) {
      await cp(layer, root, { recursive: true, force: true, preserveTimestamps: true, filter: async (src) => await isPlain(src) })
    }
    await prepareRoot(root)
    return new WasiSandbox(this.ctx, spec, await realpath(root), 'running')
  }

  async reopen (spec: CapsuleSpec): Promise<CapsuleSandbox> {
    validateSpec(spec)
    const root = join(spec.dir, 'root')
    try {
      await access(root)
    } catch {
      throw new ColonyError('capsule_not_found', `capsule ${spec.id} has no files in ${spec.dir}`)
    }
    return new WasiSandbox(this.ctx, spec, await realpath(root), 'hibernated')
  }
}

/** util-linux's setpriv, if this host has it (it gives the runners a parent-death signal). */
function findSetpriv (): string | undefined {
  return ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p))
}

async function isPlain (path: string): Promise<boolean> {
  const st = await lstat(path)
  return st.isDirectory() || st.isFile()
}
