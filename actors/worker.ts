import { randomUUID } from 'node:crypto'
import { ALERT_CODES, ColonyError, toColonyError, topics, type ActorKind, type Services, type TimerHandle } from '../src/index.js'
import { WasmInstance } from '../src/wasm.js'
import { providerMessages, refuseMessage, type LoadedComponent } from '../src/components.js'
import { DurableWorker, readWorkerMessage, workerEvents, type InvocationResult, type LiveWorker, type WorkerInbound } from '../src/workers.js'

export interface WorkerOptions {
  componentId: string
  workerName: string
}

const HELP = [
  'help — this text and the worker\'s state',
  'invoke <function> <JSON array of params> — e.g. invoke increment []',
].join('\n')

/**
 * A Golem durable worker in memory: one component instance whose invocations run one at a time and are recorded
 * in its oplog (see src/workers/durable-worker.ts). It comes into memory on first use, recovering its state by
 * replay, and leaves it after a while without calls; what a client sees does not change either way. Guest output
 * goes to `agents/{id}/logs` and the worker's connect stream; a failed worker raises an error alert.
 */
export const workerKind: ActorKind<WorkerOptions, Pick<Services, 'workers' | 'components' | 'links' | 'wasmLimits'>> = {
  kind: 'worker',
  agentType: 'worker',
  help: HELP,
  deps: ({ services }) => ({ workers: services.workers, components: services.components, links: services.links, wasmLimits: services.wasmLimits }),
  create (ctx, options) {
    const { workers, components, links, wasmLimits: limits } = ctx.deps
    const ref = { componentId: options.componentId, workerName: options.workerName }
    let worker: DurableWorker | undefined
    let lastActivity = ctx.clock.now()
    let idleTimer: TimerHandle
    const emit = workers.events.emit.bind(workers.events, ctx.id)

    const instantiate = async (component: LoadedComponent): Promise<WasmInstance> => {
      const row = workers.row(ref)
      const plan = links.plan(component.record, component.metadata.imports)
      if (plan.missing.length > 0) {
        throw new ColonyError('link_missing', `${component.record.name} imports ${plan.missing.join(', ')} but no link serves ` +
          `${plan.missing.length === 1 ? 'it' : 'them'}; link a provider first (PUT /v1/links)`, { details: { missing: plan.missing } })
      }
      const instance = await WasmInstance.start(component.compiled, {
        env: row?.env ?? {},
        args: row === undefined || row.args.length === 0 ? [options.workerName] : row.args,
        linked: [...plan.linked.keys()],
        hostCall: async (req) => {
          const link = plan.linked.get(req.iface)
          if (link === undefined) throw new Error(`no link serves ${req.iface}`)
          if (req.iface.startsWith('wasi:logging/logging') && req.method === 'log') logEvent(req.args)
          return await ctx.system.ask(link.target, providerMessages.hostCall(options.componentId, req.iface, req.method, req.args),
            { timeoutMs: limits.hostCallTimeoutMs })
        },
        memoryLimitBytes: limits.memoryLimitBytes,
        startTimeoutMs: limits.startTimeoutMs,
        hostCallTimeoutMs: limits.hostCallTimeoutMs,
      })
      instance.on('log', (stream, text) => {
        emit(workerEvents.output(stream, text, new Date(ctx.clock.now())))
        ctx.publish(topics.logs(ctx.id), { agentId: ctx.id, stream, text, timestampMs: ctx.clock.now() })
      })
      return instance
    }

    /** wasi:logging's `log(level, context, message)`, shown on the connect stream as Golem's Log event. */
    const logEvent = (args: unknown[]): void => {
      const [level, context, message] = args as [string, string, string]
      const levels = { trace: 'Trace', debug: 'Debug', info: 'Info', warn: 'Warn', error: 'Error', critical: 'Critical' } as const
      emit(workerEvents.log(levels[level as keyof typeof levels] ?? 'Info', String(context), String(message), new Date(ctx.clock.now())))
    }

    const describe = (): LiveWorker => ({
      status: worker?.status ?? 'Idle',
      pendingInvocationCount: worker?.pendingInvocationCount ?? 0,
      componentVersion: worker?.componentVersion ?? 0,
      memoryBytes: 0,
      ...(worker?.lastError !== undefined && { lastError: worker.lastError }),
    })

    const failed = (err: unknown): void => {
      const e = toColonyError(err)
      if (worker !== undefined) {
        worker.status = 'Failed'
        worker.lastError = e.message
      }
      workers.persist(ref, { status: 'Failed', lastError: e.message })
      ctx.alert('error', `worker ${options.workerName} failed: ${e.message}`, { code: ALERT_CODES.workerFailed, componentId: options.componentId })
    }

    const answer = (m: { respond: (error: unknown, value?: unknown) => void }, work: Promise<unknown>): void => {
      work.then((value) => m.respond(undefined, value), (err: unknown) => m.respond(err))
    }

    const invoke = async (m: WorkerInbound & { type: 'worker-invoke' }): Promise<unknown> => {
      const w = worker as DurableWorker
      lastActivity = ctx.clock.now()
      await w.resumeIfInterrupted()
      // No await from here to the call being queued: a duplicate arriving meanwhile finds it and joins it.
      const stored = workers.oplogFor(ref).completed(m.idempotencyKey)
      if (stored !== undefined) return m.await ? stored : undefined
      const joined = w.joinPending(m.idempotencyKey)
      if (joined !== undefined) return m.await ? await joined : undefined
      const wasFailed = w.status
      try {
        return await w.invoke(w.prepare(m.function, m.params, m.idempotencyKey), m.await)
      } finally {
        lastActivity = ctx.clock.now()
        if (w.status !== wasFailed && (w.status === 'Failed' || w.status === 'Exited')) {
          ctx.alert(w.status === 'Failed' ? 'error' : 'warning', `worker ${options.workerName} is ${w.status}${w.lastError === undefined ? '' : `: ${w.lastError}`}`,
            { code: w.status === 'Failed' ? ALERT_CODES.workerFailed : ALERT_CODES.workerExited, componentId: options.componentId })
        }
      }
    }

    const scheduleIdleCheck = (): void => {
      idleTimer = ctx.schedule(Math.max(50, Math.floor(workers.settings.idleMs / 2)), { type: 'worker-idle-check' })
    }

    return {
      async start () {
        const row = workers.row(ref)
        if (row === undefined) throw new ColonyError('worker_not_found', `component ${options.componentId} has no worker "${options.workerName}"`)
        worker = new DurableWorker({
          ref,
          componentVersion: row.componentVersion,
          status: row.status === 'Running' ? 'Idle' : row.status,
          updates: row.updates,
          oplog: workers.oplogFor(ref),
          load: async (version) => await components.load(options.componentId, version),
          instantiate,
          callTimeoutMs: limits.callTimeoutMs,
          snapshotEvery: workers.settings.snapshotEvery,
          clock: ctx.clock,
          emit,
          persist: (patch) => workers.persist(ref, patch),
        })
        // A worker that cannot be rebuilt stays in memory as Failed, saying why, instead of crash-looping.
        if (row.status !== 'Interrupted') await worker.recover().catch(failed)
        scheduleIdleCheck()
      },
      receive (raw) {
        const m = readWorkerMessage(raw)
        if (m === undefined || worker === undefined) {
          refuseMessage(ctx.log, raw, 'worker')
          return
        }
        const w = worker
        switch (m.type) {
          case 'worker-invoke': answer(m, invoke(m)); break
          case 'worker-interrupt': answer(m, w.interrupt(m.recoverImmediately).catch((err: unknown) => { failed(err) })); break
          case 'worker-resume': answer(m, w.resume().catch((err: unknown) => {
            if (toColonyError(err).code === 'worker_not_resumable') throw err
            failed(err)
          })); break
          case 'worker-update': answer(m, (async () => {
            const target = await components.load(options.componentId, m.targetVersion)
            await w.update(m.mode, m.targetVersion, target.metadata)
          })()); break
          case 'worker-plugin': answer(m, w.recordPlugin(m.activate, m.plugin)); break
          case 'worker-describe': m.respond(undefined, describe()); break
          case 'worker-idle-check':
            if (!w.busy && ctx.clock.now() - lastActivity >= workers.settings.idleMs && w.status !== 'Running') {
              void w.snapshotNow().catch(() => undefined).finally(() => workers.evict(ref))
            } else scheduleIdleCheck()
            break
        }
      },
      async chat (message) {
        const text = message.content.trim()
        const m = /^invoke\s+(\S+)\s*([\s\S]*)$/.exec(text)
        if (m === null) return `worker ${options.workerName} of component ${options.componentId} (${worker?.status ?? 'loading'}) understands:\n${HELP}`
        let params: unknown
        try {
          params = m[2] === '' ? [] : JSON.parse(m[2] as string)
        } catch {
          return 'the params must be a JSON array, e.g. invoke increment []'
        }
        try {
          // Run here, not through the service: an ask to this very actor would wait behind this chat line.
          const out = await invoke({ type: 'worker-invoke', function: m[1] as string, params, idempotencyKey: randomUUID(), await: true, respond: () => undefined }) as InvocationResult
          return `${m[1] as string} -> ${JSON.stringify(out.ok ? out.result.value : null)}`
        } catch (err) {
          return `invoke failed: ${toColonyError(err).message}`
        }
      },
      heartbeat: () => ({
        componentId: options.componentId,
        workerName: options.workerName,
        status: worker?.status ?? 'Idle',
        componentVersion: worker?.componentVersion ?? null,
        pendingInvocationCount: worker?.pendingInvocationCount ?? 0,
        invocations: worker?.invocations ?? 0,
      }),
      async stop () {
        ctx.cancel(idleTimer)
        await worker?.close()
      },
    }
  },
}
