import { ALERT_CODES, ColonyError, toColonyError, topics, type ActorKind, type ChatMessage, type Services } from '../src/index.js'
import { InstancePool, witFunction } from '../src/wasm.js'
import {
  componentMessages, finishCall, prepareCall, providerMessages, qualifiedName, readComponentMessage, refuseMessage,
  type InvokeOutcome, type LoadedComponent, type Respond,
} from '../src/components.js'

export interface ComponentOptions {
  componentId: string
  /** Desired instances; a `scale` request changes it (and a restart keeps the latest value). */
  instances: number
  env?: Record<string, string>
  args?: string[]
  /** A private directory under the data dir, mounted at `/`; without it the guest has no filesystem. */
  filesystem?: boolean
  /** A pinned revision; without it the actor follows the latest one. */
  version?: number | undefined
}

const HELP = [
  'help — this text and the exported functions',
  'invoke <function> <JSON array of params> — e.g. invoke add [2, 3]',
  'scale through main-actor: @main-actor scale <component> <n>',
].join('\n')

/**
 * A WebAssembly component on this host: N instances, each in its own worker thread, at most N calls at once.
 * Invocations come as `invoke` requests (REST, MQTT `agents/{id}/invoke`, chat); guest output goes to
 * `agents/{id}/logs`; a call that times out or breaks the memory budget costs that instance (replaced), raises a
 * warning and never the actor. Imports other than WASI are served by linked providers.
 */
export const componentKind: ActorKind<ComponentOptions, Pick<Services, 'components' | 'links' | 'wasmLimits'>> = {
  kind: 'component',
  agentType: 'component',
  help: HELP,
  deps: ({ services }) => ({ components: services.components, links: services.links, wasmLimits: services.wasmLimits }),
  create (ctx, options) {
    const limits = ctx.deps.wasmLimits
    let loaded: LoadedComponent | undefined
    let pool: InstancePool | undefined
    let reloading: Promise<void> | undefined
    /** Links changed since the instances started: they serve the imports through the old plan. */
    let linksChanged = false
    /** Why no instance can start (imports nobody links yet): calls get it, a link change retries. */
    let waiting: ColonyError | undefined
    let invocations = 0
    let errors = 0
    const onLinks = (sourceId: string): void => {
      let record
      try {
        record = loaded?.record ?? ctx.deps.components.visible(undefined, options.componentId)
      } catch {
        return // deleted from the registry: the actor is being removed
      }
      if (!ctx.deps.links.sourcesOf(record).has(sourceId)) return
      linksChanged = true
      // A component waiting for its links starts as soon as they are there, not on the next call.
      if (waiting !== undefined) ctx.schedule(0, componentMessages.linksChanged())
    }

    const load = async (): Promise<void> => {
      const next = await ctx.deps.components.load(options.componentId, options.version)
      linksChanged = false
      const plan = ctx.deps.links.plan(next.record, next.metadata.imports)
      if (plan.missing.length > 0) {
        throw new ColonyError('link_missing', `${next.record.name} imports ${plan.missing.join(', ')} but no link serves ` +
          `${plan.missing.length === 1 ? 'it' : 'them'}; link a provider first (PUT /v1/links)`, { details: { missing: plan.missing } })
      }
      const hostCall = async (req: { iface: string, method: string, args: unknown[] }): Promise<unknown> => {
        const link = plan.linked.get(req.iface)
        if (link === undefined) throw new Error(`no link serves ${req.iface}`)
        return await ctx.system.ask(link.target, providerMessages.hostCall(options.componentId, req.iface, req.method, req.args),
          { timeoutMs: limits.hostCallTimeoutMs })
      }
      // A new version or a new link plan: a new pool at the same size, then the old one goes.
      const fresh = new InstancePool(next.compiled, {
        env: options.env ?? {},
        args: options.args ?? [next.record.name],
        preopens: options.filesystem === true ? { '/': await ctx.deps.components.filesDir(options.componentId) } : {},
        linked: [...plan.linked.keys()],
        hostCall,
        memoryLimitBytes: limits.memoryLimitBytes,
        startTimeoutMs: limits.startTimeoutMs,
        hostCallTimeoutMs: limits.hostCallTimeoutMs,
      }, limits.maxQueuedCalls)
      fresh.on('log', (stream, text, instance) => {
        ctx.publish(topics.logs(ctx.id), { agentId: ctx.id, stream, text, instance, timestampMs: ctx.clock.now() })
      })
      fresh.on('lost', (reason, instance) => {
        ctx.alert('warning', `instance ${instance} of ${ctx.name} was stopped (${reason}); a fresh one replaces it`, { code: ALERT_CODES.instanceReplaced })
      })
      const old = pool
      await fresh.scaleTo(options.instances)
      pool = fresh
      loaded = next
      await old?.close()
    }

    /** Loads, or when links are missing keeps running without instances (and says so once per episode). */
    const tryLoad = async (): Promise<void> => {
      try {
        await load()
        if (waiting !== undefined) ctx.log.info({ component: options.componentId }, 'links are in place: instances started')
        waiting = undefined
      } catch (err) {
        const e = toColonyError(err)
        if (e.code !== 'link_missing') throw e
        if (waiting === undefined) ctx.alert('warning', e.message, { code: ALERT_CODES.linkMissing, missing: e.details?.missing })
        waiting = e
        await pool?.close()
        pool = undefined
        loaded = undefined
      }
    }

    /** A new version was uploaded, or links changed, since the instances started: switch before this call. */
    const current = async (): Promise<LoadedComponent> => {
      const latest = options.version ?? ctx.deps.components.latestVersion(options.componentId)
      if ((loaded !== undefined && latest !== undefined && latest !== loaded.revision.version) || linksChanged) {
        reloading ??= tryLoad().finally(() => { reloading = undefined })
      }
      if (reloading !== undefined) await reloading
      if (loaded === undefined) throw waiting ?? new ColonyError('invoke_failed', `${ctx.name} has no instances`)
      return loaded
    }

    const invoke = async (name: string, params: unknown, timeoutMs?: number): Promise<InvokeOutcome> => {
      const component = await current()
      const call = prepareCall(component.metadata, name, params)
      const timeout = Math.min(timeoutMs ?? limits.callTimeoutMs, limits.callTimeoutMs)
      invocations++
      try {
        return finishCall(call, await (pool as InstancePool).call(call.path, call.args, timeout, call.returnsResult))
      } catch (err) {
        errors++
        const e = toColonyError(err)
        if (e.code === 'invoke_timeout' || e.code === 'wasm_memory_exceeded') ctx.alert('warning', `${call.qualified}: ${e.message}`, { code: e.code })
        throw e
      }
    }

    const respond = (request: { respond: Respond }, work: Promise<unknown>): void => {
      work.then((value) => request.respond(undefined, value), (err: unknown) => request.respond(err))
    }

    return {
      async start () {
        ctx.deps.links.on('changed', onLinks)
        await tryLoad()
      },
      receive (raw) {
        const message = readComponentMessage(raw)
        if (message === undefined) {
          refuseMessage(ctx.log, raw, 'component')
          return
        }
        if (message.type === 'links-changed') {
          if (waiting !== undefined) reloading ??= tryLoad().finally(() => { reloading = undefined })
        } else if (message.type === 'invoke') {
          // Not awaited: the mailbox moves on and up to N calls run at once in the pool.
          respond(message, invoke(message.function, message.params, message.timeoutMs))
        } else if (message.type === 'scale') {
          const n = message.instances
          options.instances = n
          // A number pins that revision, null follows the latest again, absent leaves it as it is.
          const pin = message.version === undefined ? options.version : message.version ?? undefined
          const repin = pin !== options.version
          options.version = pin
          respond(message, (async () => {
            if (repin || pool === undefined) {
              reloading ??= tryLoad().finally(() => { reloading = undefined })
              await reloading
            } else await pool.scaleTo(n)
            return { instances: pool?.size ?? 0 }
          })())
        } else { // describe
          message.respond(undefined, loaded?.metadata)
        }
      },
      async chat (message: ChatMessage) {
        const text = message.content.trim()
        const m = /^invoke\s+(\S+)\s*([\s\S]*)$/.exec(text)
        if (m === null) {
          const fns = loaded?.metadata.exports.map((f) => `  ${qualifiedName(f)}  ${witFunction(f)}`).join('\n') ?? ''
          return `${ctx.name} (component ${options.componentId}, version ${loaded?.revision.version ?? '?'}, ${pool?.size ?? 0} instances) understands:\n${HELP}\nexports:\n${fns}`
        }
        let params: unknown
        try {
          params = m[2] === '' ? [] : JSON.parse(m[2] as string)
        } catch {
          return `the params must be a JSON array, e.g. invoke ${m[1] ?? 'add'} [2, 3]`
        }
        try {
          const out = await invoke(m[1] as string, params)
          return `${out.function} -> ${JSON.stringify(out.value)}${out.stdout === '' ? '' : `\nstdout: ${out.stdout.trimEnd()}`}`
        } catch (err) {
          return `invoke failed: ${toColonyError(err).message}`
        }
      },
      heartbeat: () => ({
        componentId: options.componentId,
        version: loaded?.revision.version ?? null,
        instances: pool?.size ?? 0,
        desiredInstances: options.instances,
        ...(waiting !== undefined && { missingLinks: waiting.details?.missing }),
        busy: pool?.busy ?? 0,
        queued: pool?.queued ?? 0,
        invocations,
        errors,
      }),
      async stop () {
        ctx.deps.links.off('changed', onLinks)
        await pool?.close()
        pool = undefined
      },
    }
  },
}
