/**
 * The `namespace` capsule driver: bubblewrap + overlayfs + cgroups (see init.ts for the process tree, rootfs.ts for
 * what the capsule sees, process.ts for how commands enter it, cgroup.ts for limits and the freezer).
 *
 * Network: off by default (the capsule has its own network namespace with only `lo`). With `spec.network` the capsule
 * shares the host's network namespace: it can reach everything the host can, including services on the host's
 * loopback. A per-capsule veth/netns is future work.
 */
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { access } from 'node:fs/promises'
import { ColonyError } from '../../errors.js'
import type { CapsuleDriver, CapsuleSandbox, CapsuleSpec } from '../driver.js'
import { COMPONENT_RUNNER_PATH } from '../wasi-runner.js'
import { checkPrerequisites, SEARCH_PATH, type Prerequisites } from './prereqs.js'
import { enterBinary, execServer } from './enter.js'
import type { PtyModule } from './process.js'
import { checkHostPath, rootfsPaths, unreadableUnder } from './rootfs.js'
import { NamespaceSandbox, type SandboxContext } from './sandbox.js'

export interface NamespaceDriverOptions {
  /** The cgroup (in each hierarchy) under which capsules get theirs. Default `colony-capsules`. */
  cgroupParent?: string
  /** Host paths the capsules must not see beyond the built-in list (Colony's data dirs, when under /usr or /etc). */
  hiddenPaths?: string[]
  /** How long an init may take to come up. Default 10 s. */
  startTimeoutMs?: number
  /** How often a running capsule's OOM counter is read (also read after every process exit). Default 1 s. */
  oomPollMs?: number
  /** Where bwrap, nsenter and the others are looked for (default the system's bin directories). */
  searchPath?: readonly string[]
  /** Processes enter through `capsule-enter` when the build compiled it (default); false: the chain of tools. */
  enterBinary?: boolean
}

/**
 * What a session's component needs inside the capsule (see ../component-runner.ts): the runner, and Colony's
 * node_modules for jco and preview2-shim, read-only. Nothing else of Colony's tree (its config, its data) is bound.
 * Left out when this is not an installed tree (no built runner beside this file).
 */
function componentRunnerBinds (): Array<[string, string]> {
  const runner = fileURLToPath(new URL('../component-runner.js', import.meta.url))
  const modules = fileURLToPath(new URL('../../../../node_modules', import.meta.url))
  if (!existsSync(runner) || !existsSync(modules)) return []
  return [[modules, posix.join(posix.dirname(COMPONENT_RUNNER_PATH), 'node_modules')], [runner, COMPONENT_RUNNER_PATH]]
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/

function validateSpec (spec: CapsuleSpec): void {
  const bad = (what: string): never => { throw new ColonyError('invalid_body', `capsule spec: ${what}`) }
  if (typeof spec.id !== 'string' || !ID.test(spec.id)) bad('id is invalid')
  checkHostPath('dir', spec.dir)
  if (spec.dir === '/' || spec.dir.split('/').length < 3) bad('dir must be a directory of its own')
  if (!Array.isArray(spec.layers)) bad('layers must be a list')
  for (const l of spec.layers) checkHostPath('layer', l)
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 16) bad('memoryMb must be an integer >= 16')
  if (typeof spec.vcpus !== 'number' || !(spec.vcpus > 0)) bad('vcpus must be > 0')
  if (!Number.isInteger(spec.pidsMax) || spec.pidsMax < 8) bad('pidsMax must be an integer >= 8')
  if (typeof spec.network !== 'boolean') bad('network must be a boolean')
}

export class NamespaceDriver implements CapsuleDriver {
  readonly name = 'namespace' as const
  readonly events = new EventEmitter<{ oom: [id: string], vanished: [id: string] }>()
  private readonly options: Required<NamespaceDriverOptions>
  private prereqs: Promise<Prerequisites> | undefined
  private etc: Promise<string[]> | undefined
  /** Masks built by this driver (see SandboxContext.sharedMask). */
  private readonly masks = new Map<string, Promise<void>>()
  private ptyModule: PtyModule | undefined
  private ptyError: string | undefined

  constructor (options: NamespaceDriverOptions = {}) {
    this.options = {
      cgroupParent: options.cgroupParent ?? 'colony-capsules',
      hiddenPaths: (options.hiddenPaths ?? []).map((p) => checkHostPath('hidden path', p)),
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
      oomPollMs: options.oomPollMs ?? 1000,
      searchPath: options.searchPath ?? SEARCH_PATH,
      enterBinary: options.enterBinary ?? true,
    }
    if (!ID.test(this.options.cgroupParent)) throw new ColonyError('config_invalid', 'cgroupParent is invalid')
  }

  async check (): Promise<void> {
    await this.ready()
  }

  private async ready (): Promise<Prerequisites> {
    this.prereqs ??= (async () => {
      const found = await checkPrerequisites(this.options.searchPath)
      // Started now, so that the first exec does not wait for it.
      if (this.options.enterBinary) await execServer()
      try {
        const mod = await import('@lydell/node-pty') as unknown as { default?: PtyModule } & PtyModule
        this.ptyModule = mod.default ?? mod
      } catch (err) {
        this.ptyError = (err as Error).message
      }
      return found
    })()
    try {
      return await this.prereqs
    } catch (err) {
      this.prereqs = undefined
      throw err
    }
  }

  private async context (): Promise<SandboxContext> {
    const { tools, cgroups } = await this.ready()
    return {
      tools,
      cgroups,
      cgroupParent: this.options.cgroupParent,
      base: '/',
      hidden: this.options.hiddenPaths,
      etcUnreadable: () => (this.etc ??= unreadableUnder('/etc')),
      sharedMask: (dir, build) => {
        let built = this.masks.get(dir)
        if (built === undefined) {
          built = build()
          // A failed build is tried again by the next capsule.
          built.catch(() => { if (this.masks.get(dir) === built) this.masks.delete(dir) })
          this.masks.set(dir, built)
        }
        return built
      },
      pty: () => {
        if (this.ptyModule === undefined) throw new ColonyError('capsule_unavailable', `no pseudo-terminals: @lydell/node-pty did not load (${this.ptyError ?? 'unknown'})`)
        return this.ptyModule
      },
      enterBinary: this.options.enterBinary ? enterBinary() : undefined,
      execServer: async () => this.options.enterBinary ? await execServer() : undefined,
      events: this.events,
      startTimeoutMs: this.options.startTimeoutMs,
      oomPollMs: this.options.oomPollMs,
      readOnly: componentRunnerBinds(),
    }
  }

  async create (spec: CapsuleSpec): Promise<CapsuleSandbox> {
    validateSpec(spec)
    const sandbox = new NamespaceSandbox(await this.context(), spec)
    await sandbox.start()
    return sandbox
  }

  async reopen (spec: CapsuleSpec): Promise<CapsuleSandbox> {
    validateSpec(spec)
    const ctx = await this.context()
    try {
      await access(rootfsPaths(spec.dir).upper)
    } catch {
      throw new ColonyError('capsule_not_found', `capsule ${spec.id} has no files in ${spec.dir}`)
    }
    return new NamespaceSandbox(ctx, spec)
  }
}
