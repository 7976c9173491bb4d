import { arch, platform } from 'node:os'
import type { ComponentScaled, ScaleOrigin } from '../../src/components.js'
import type { NatsContext } from './deps.js'
import { humanDuration } from './wire.js'

/** What wasmCloud calls a component on a host (`ComponentDescription`). */
export interface ComponentDescription {
  id: string
  image_ref: string
  name: string
  annotations: Record<string, string>
  revision: number
  max_instances: number
}

export interface ProviderDescription {
  id: string
  image_ref: string
  name: string
  annotations: Record<string, string>
  revision: number
}

export interface HostInventory {
  components: ComponentDescription[]
  providers: ProviderDescription[]
  host_id: string
  friendly_name: string
  labels: Record<string, string>
  version: string
  uptime_human: string
  uptime_seconds: number
}

interface Scaled { name: string, instances: number, version: number | undefined, origin: ScaleOrigin }
export interface StartedProvider { imageRef: string, annotations: Record<string, string> }

/** Rust's names for the architecture, as wasmCloud's `hostcore.arch` label has them. */
const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'x86', arm: 'arm' }

/**
 * This Colony as a wasmCloud host: id, name, labels, uptime, and the inventory read from the actor registry.
 * Components are tracked from the registry's scale events (so scales from REST and chat count too).
 */
export class LatticeHost {
  readonly labels: Record<string, string>
  private readonly components = new Map<string, Scaled>()
  /** Where components scaled to zero came from, for when they come back without a new origin. */
  private readonly forgotten = new Map<string, ScaleOrigin>()
  private readonly startedAtMs: number

  constructor (private readonly ctx: NatsContext, readonly id: string, readonly lattice: string, readonly friendlyName: string,
    configured: Record<string, string>) {
    this.startedAtMs = ctx.clock.now()
    this.labels = {
      ...configured,
      'hostcore.arch': ARCH[arch()] ?? arch(),
      'hostcore.os': platform() === 'darwin' ? 'macos' : platform(),
      'hostcore.osfamily': platform() === 'win32' ? 'windows' : 'unix',
    }
  }

  get version (): string {
    return this.ctx.status().version
  }

  uptimeSeconds (): number {
    return Math.floor((this.ctx.clock.now() - this.startedAtMs) / 1000)
  }

  /**
   * Records a scale and returns where the component came from: a scale without an origin (REST, chat) keeps the
   * lattice id and reference it was last scaled under here.
   */
  scaled (event: ComponentScaled): ScaleOrigin {
    const prior = this.components.get(event.componentId)?.origin ?? this.forgotten.get(event.componentId) ?? {}
    const origin: ScaleOrigin = {
      ...prior,
      ...(event.origin.imageRef !== undefined && { imageRef: event.origin.imageRef }),
      ...(event.origin.latticeId !== undefined && { latticeId: event.origin.latticeId }),
      ...(event.origin.annotations !== undefined && { annotations: event.origin.annotations }),
    }
    if (event.instances === 0) {
      this.components.delete(event.componentId)
      this.forgotten.set(event.componentId, origin)
    } else this.components.set(event.componentId, { name: event.name, instances: event.instances, version: event.version, origin })
    return origin
  }

  /** A component actor went away without a scale (deleted over REST, or failed for good). */
  forget (componentId: string): void {
    const c = this.components.get(componentId)
    if (c !== undefined) this.forgotten.set(componentId, c.origin)
    this.components.delete(componentId)
  }

  /** The wasmCloud view of a component scaled here, if it runs. */
  component (componentId: string): ComponentDescription | undefined {
    const c = this.components.get(componentId)
    const actor = this.ctx.system.get(componentId)
    if (c === undefined || actor === undefined || actor.state === 'stopped' || actor.state === 'failed') return undefined
    return {
      id: c.origin.latticeId ?? componentId,
      image_ref: c.origin.imageRef ?? `component:${componentId}`,
      name: c.name,
      annotations: c.origin.annotations ?? {},
      revision: c.version ?? 0,
      max_instances: c.instances,
    }
  }

  /** The registry id of the component running here under a lattice id (or its registry id or name). */
  findComponent (latticeId: string): string | undefined {
    for (const [id, c] of this.components) {
      if ((c.origin.latticeId ?? id) === latticeId && this.component(id) !== undefined) return id
    }
    for (const [id, c] of this.components) {
      if ((id === latticeId || c.name === latticeId) && this.component(id) !== undefined) return id
    }
    return undefined
  }

  /** How a provider actor was started: at run time (over NATS or REST: its ref and annotations), or built in (`builtin:<kind>`). */
  providerOf (name: string, kind: string): StartedProvider {
    const started = this.ctx.services.providers.describe(name)
    if (started !== undefined) return { imageRef: started.ref, annotations: started.annotations }
    return { imageRef: `builtin:${kind.replace(/^provider:/, '')}`, annotations: {} }
  }

  inventory (): HostInventory {
    const components: ComponentDescription[] = []
    for (const id of this.components.keys()) {
      const d = this.component(id)
      if (d !== undefined) components.push(d)
    }
    const providers: ProviderDescription[] = this.ctx.system.list()
      .filter((a) => a.agentType === 'provider' && (a.state === 'running' || a.state === 'paused'))
      .map((a) => {
        const p = this.providerOf(a.name, a.kind)
        return { id: a.name, image_ref: p.imageRef, name: a.name, annotations: p.annotations, revision: 0 }
      })
    const uptime = this.uptimeSeconds()
    return {
      components,
      providers,
      host_id: this.id,
      friendly_name: this.friendlyName,
      labels: { ...this.labels },
      version: this.version,
      uptime_human: humanDuration(uptime),
      uptime_seconds: uptime,
    }
  }

  /** `host.ping`'s `Host` (a superset of the seed's `HostSummary`). */
  summary (urls: { ctl: string }): Record<string, unknown> {
    const uptime = this.uptimeSeconds()
    return {
      id: this.id,
      friendly_name: this.friendlyName,
      labels: { ...this.labels },
      lattice: this.lattice,
      uptime_seconds: uptime,
      uptime_human: humanDuration(uptime),
      version: this.version,
      rpc_host: urls.ctl,
      ctl_host: urls.ctl,
      js_domain: null,
    }
  }

  /** Do the host's labels satisfy every auction constraint? */
  satisfies (constraints: Record<string, string>): boolean {
    return Object.entries(constraints).every(([k, v]) => this.labels[k] === v)
  }
}
