// First: it must run before the packages whose `debug` loggers it quiets load.
import './broker/quiet-debug.js'
import { EventEmitter } from 'node:events'
import { mkdirSync, accessSync, constants, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { DestinationStream } from 'pino'
import { systemClock, type Clock } from './clock.js'
import { isLoopback, type ColonyConfig } from './config.js'
import { ColonyError } from './errors.js'
import { createLogger, type Logger } from './log.js'
import { Metrics } from './metrics.js'
import { createAcl, type Acl } from './acl.js'
import { createIdentity, type IdentityParts } from './auth/index.js'
import { Broker } from './broker/broker.js'
import { RetainedJournal } from './broker/retained-journal.js'
import { HttpHost } from './http/host.js'
import { ProxyTrust } from './http/proxy.js'
import { ActorSystem } from './actor/system.js'
import { routeClientMessages } from './actor/router.js'
import { SpawnMemory } from './actor/spawn-memory.js'
import { restoreSpawned } from './actor/restore.js'
import type { ActorKind, SystemApi } from './actor/types.js'
import { bridgeKind, type BridgeDef, type BridgeRuntime, type RuntimeStatus } from './bridge.js'
import { registerKernelMetrics } from './kernel-metrics.js'
import { join, resolve } from 'node:path'
import type { Services } from './services.js'
import { ComponentRegistry } from './components/registry.js'
import { LinkService } from './components/links.js'
import { routeInvocations } from './components/mqtt-invoke.js'
import { restoreScales } from './components/control.js'
import { ProviderMemory } from './components/provider-memory.js'
import { restoreProviders } from './components/provider-control.js'
import { createWorkerService } from './workers/create.js'
import { CapsuleService } from './capsules/service.js'
import { SessionService } from './capsules/sessions.js'
import { NamespaceDriver } from './capsules/namespace/driver.js'
import { WasiDriver } from './capsules/wasi/driver.js'
import { Gateway } from './gateway/service.js'
import { PluginService } from './plugins/service.js'
import type { Bus } from './broker/bus.js'
import { ChannelService } from './channels/service.js'
import { channelKey } from './channels/crypto.js'
import { topics } from './wire/topics.js'
import { eventPayload } from './wire/events.js'
import { jwtSecret } from './auth/gate.js'
import { HostService } from './hosts/service.js'
import { RemoteCapsules } from './hosts/remote.js'
import { hostKeys } from './hosts/tokens.js'
import { JoinAgent } from './hosts/join.js'

export interface BootActor {
  kind: string
  /** Name and id: system actors have fixed, well-known names. */
  name: string
  options?: Record<string, unknown>
}

export interface RuntimeOptions {
  kinds?: ActorKind<never>[]
  /** Spawned at start, in order, under the `system` supervisor. */
  boot?: BootActor[]
  /** Started after the boot actors, in order; stopped in reverse. */
  bridges?: BridgeDef[]
  clock?: Clock
  /** Where logs go (default stdout); tests capture them here. */
  logDestination?: DestinationStream
  /** This Colony's wasmCloud host id, sent when it joins another Colony as a host (`hosts.join`). */
  latticeHostId?: () => string | undefined
}

export interface Runtime {
  readonly config: Readonly<ColonyConfig>
  readonly log: Logger
  readonly clock: Clock
  readonly system: SystemApi
  readonly actors: ActorSystem
  readonly broker: Broker
  readonly http: HttpHost
  readonly metrics: Metrics
  readonly identity: IdentityParts
  readonly services: Services
  readonly addresses: { http: AddressInfo, mqtt: AddressInfo }
  readonly urls: { http: string, mqtt: string, mqttWs: string, ws: string }
  status(): RuntimeStatus
  /** `shutdownRequested`: something inside (a NATS `host.stop`) asked the process to stop; the CLI then closes and exits. */
  readonly events: EventEmitter<RuntimeEvents>
  /** Graceful shutdown in the documented order; safe to call twice. */
  close(): Promise<void>
}

export interface RuntimeEvents { shutdownRequested: [reason: string] }

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

/**
 * Starts Colony: checks the bind policy and data dir, opens the store, starts the broker, the actor system and
 * the boot actors, then the bridges, and only then opens the MQTT and HTTP listeners, so the first client sees a
 * whole system.
 */
export async function createRuntime (config: Readonly<ColonyConfig>, options: RuntimeOptions = {}): Promise<Runtime> {
  checkBindPolicy(config)
  prepareDataDir(config.data.dir)
  const clock = options.clock ?? systemClock
  const log = createLogger({ level: config.log.level, ...(options.logDestination !== undefined && { destination: options.logDestination }) })
  const startedAtMs = Date.now()
  let state: RuntimeStatus['state'] = 'starting'

  const identity = createIdentity(config, clock, log)
  // The ACL reads owners from the registry, and the registry needs the broker's bus: bound once both exist.
  const owners: { teamOf(id: string): string | null | undefined } = { teamOf: () => undefined }
  const acl: Acl = createAcl({ teamOf: (id) => owners.teamOf(id) }, config.haMap.discoveryPrefix,
    { teamOf: (id) => identity.store.plugins.get(id)?.teamId })
  const broker = await Broker.create({
    log: log.child({ component: 'broker' }),
    clock,
    maxPacketBytes: config.mqtt.maxPacketBytes,
    maxInflightPublishes: config.mqtt.maxInflightPublishes,
    gate: identity.gate,
    acl,
    proxyTrust: new ProxyTrust(config.http.trustProxy, config.http.proxyAddresses),
    ...(config.mqtt.persistRetained && { retained: new RetainedJournal(identity.store, clock, log.child({ component: 'broker' })) }),
  })
  const http = new HttpHost(log.child({ component: 'http' }), config.http)
  const unmountMqttWs = http.route(config.mqtt.wsPath, (req, socket, head) => broker.handleUpgrade(req, socket, head))
  const services = createServices(config, identity, broker.bus, clock, log)
  const spawned = new SpawnMemory(identity.store, clock)
  const actors = new ActorSystem({ bus: broker.bus, clock, log, config, services, memory: spawned })
  // An actor deleted by any door (REST, chat, MQTT command, a team's deletion) is not brought back at the next start.
  actors.events.on('removed', (id) => {
    services.components.scales.forget(id)
    services.providers.forget(id)
  })
  services.workers.bind(actors.api)
  services.capsules.bind(actors.api)
  // Channels hear Wrenn's events and the team-owned actors' alerts and states from here on; what the outbox kept
  // from before a crash is sent now.
  services.channels.start(broker.bus, (id) => {
    const cell = actors.resolve(id)
    return cell === undefined || cell.id !== id ? undefined : { team: cell.team, name: cell.name, agentType: cell.kind.agentType }
  })
  services.hosts.bind(actors.api)
  services.components.on('deleted', (id) => {
    services.workers.removeComponent(id).catch((err: unknown) => log.warn({ err, componentId: id }, 'could not remove the workers of a deleted component'))
    if (actors.resolve(id) !== undefined) {
      actors.api.remove(id).catch((err: unknown) => log.warn({ err, componentId: id }, 'could not stop a deleted component'))
    }
  })
  owners.teamOf = (id) => actors.teamOf(id)
  wireIdentityEvents(identity, broker, actors, services.gateway, services.channels, log)
  const metrics = new Metrics()
  registerKernelMetrics(metrics, actors, broker)
  metrics.register('colony_capsules', 'Capsules by status', 'gauge', () => Object.entries(services.capsules.countByStatus()).map(([status, n]) => [{ status }, n]))
  metrics.register('colony_capsule_cpu_percent', 'Each capsule\'s CPU use at its latest sample, percent of its vCPUs', 'gauge',
    () => services.capsules.latestSamples().map((x) => [{ capsule: x.id }, x.cpuPct]))
  metrics.register('colony_capsule_memory_bytes', 'Each capsule\'s memory at its latest sample', 'gauge', () => services.capsules.latestSamples().map((x) => [{ capsule: x.id }, x.memoryBytes]))
  metrics.register('colony_capsule_disk_bytes', 'Bytes in each capsule\'s writable layer at its latest sample', 'gauge', () => services.capsules.latestSamples().map((x) => [{ capsule: x.id }, x.diskBytes]))
  const status = (): RuntimeStatus => ({
    state,
    version: VERSION,
    startedAtMs,
    uptimeMs: Date.now() - startedAtMs,
    actors: actors.api.count(),
    mqttClients: broker.stats().clients,
  })

  const events = new EventEmitter<RuntimeEvents>()
  const requestShutdown = (reason: string): void => {
    log.warn({ reason }, 'shutdown requested')
    events.emit('shutdownRequested', reason)
  }
  const stopRouting = routeClientMessages(actors)
  const stopInvocations = routeInvocations(actors, services.components, services.wasmLimits.callTimeoutMs, services.workers.mqttTarget)
  const bridgeNames: string[] = []
  let join: JoinAgent | undefined
  const closeAll = async (): Promise<void> => {
    state = 'stopping'
    // 1. stop accepting: new HTTP requests get 503, new MQTT connections are refused
    http.beginClose()
    broker.stopAccepting()
    // 2. bridges, newest first (the WS bridge closes its clients with 1001)
    for (const name of [...bridgeNames].reverse()) {
      await actors.resolve(name)?.stop().catch((err: unknown) => log.warn({ err, bridge: name }, 'bridge stop failed'))
    }
    // 3. actors: each publishes its final `stopped` status
    stopRouting()
    stopInvocations()
    // Capsules' processes stop (their files stay: running ones start again at the next start).
    join?.stop()
    services.hosts.close()
    await services.capsules.close()
    await actors.shutdown()
    services.workers.flush()
    // After the actors' last statuses: pending deliveries are written down for the next start.
    services.channels.close()
    // 4. the broker (clients get the last messages, then are disconnected), 5. the listeners, 6. the store
    unmountMqttWs()
    await broker.close()
    await http.close()
    identity.store.close()
    state = 'stopped'
    log.info('colony stopped')
  }

  try {
    for (const kind of options.kinds ?? []) actors.registerKind(kind)
    for (const boot of options.boot ?? []) {
      const info = await actors.spawn(boot.kind, { id: boot.name, name: boot.name, supervisor: 'system', ...(boot.options !== undefined && { options: boot.options }) })
      if (info.state !== 'running') throw new Error(`system actor ${boot.name} failed to start`)
    }
    // Providers started at run time, back before the bridges announce the host and before the component scales that link to them.
    await restoreProviders(actors.api, services.providers, (teamId) => identity.store.teams.get(teamId) !== undefined, log.child({ component: 'providers' }))
    // Each bridge's deps pick their slice from this; the bridge itself sees only what was picked.
    const bridgeRuntime: BridgeRuntime = {
      config,
      services: { ...services, bus: broker.bus, http, metrics, status, gate: identity.gate, auth: identity.auth, teams: identity.teams, oauth: identity.oauth, acl, requestShutdown },
    }
    for (const def of options.bridges ?? []) {
      actors.registerKind(bridgeKind(def, bridgeRuntime))
      const info = await actors.spawn(`bridge:${def.name}`, { id: def.name, name: def.name, supervisor: 'system' })
      if (info.state !== 'running') throw new Error(`bridge ${def.name} failed to start`)
      bridgeNames.push(def.name)
    }
    // Users' run-time spawns come back as part of start-up (no `system/spawn`), before the components' actors.
    await restoreSpawned(actors, spawned, (teamId) => identity.store.teams.get(teamId) !== undefined, log.child({ component: 'actors' }))
    actors.booted = true
    await restoreScales(actors.api, services.components, services.links, log.child({ component: 'wasm' }))
    // Workers with acknowledged fire-and-forget calls not run yet come back now and run them.
    await services.workers.restore()
    // Capsules' files survived; running ones start their processes again (each capsule is an actor again).
    await services.capsules.restore()
    // Registered hosts are actors again; the heartbeat monitor starts.
    await services.hosts.restore()
    const mqttAddress = await broker.listenTcp(config.mqtt.host, config.mqtt.port)
    const httpAddress = await http.listen(config.http.host, config.http.port)
    state = 'running'
    const httpBase = `http://${hostForUrl(httpAddress)}:${httpAddress.port}`
    const urls = {
      http: httpBase,
      mqtt: `mqtt://${hostForUrl(mqttAddress)}:${mqttAddress.port}`,
      mqttWs: `${httpBase.replace('http', 'ws')}${config.mqtt.wsPath}`,
      ws: `${httpBase.replace('http', 'ws')}${config.ws.path}`,
    }
    if (config.hosts.join !== '') join = startJoin(config, identity, urls.http, clock, log, options.latticeHostId?.())
    log.info({ ...urls, version: VERSION, auth: identity.gate.anonymousAllowed ? 'anonymous on loopback' : 'credentials required' }, 'colony ready')
    let closing: Promise<void> | undefined
    return {
      config, log, clock, system: actors.api, actors, broker, http, metrics, identity, services, status, urls, events,
      addresses: { http: httpAddress, mqtt: mqttAddress },
      close: () => (closing ??= closeAll()),
    }
  } catch (err) {
    await closeAll().catch(() => undefined)
    throw err
  }
}

function createServices (config: Readonly<ColonyConfig>, identity: IdentityParts, bus: Bus, clock: Clock, log: Logger): Services {
  const w = config.wasm
  const components = new ComponentRegistry({
    store: identity.store,
    dir: join(config.data.dir, 'components'),
    maxBytes: w.maxComponentBytes,
    clock,
    log: log.child({ component: 'wasm' }),
  })
  const plugins = new PluginService({ store: identity.store, clock, log: log.child({ component: 'plugins' }), bus })
  const capsuleDir = join(config.data.dir, 'capsules')
  const capsules = new CapsuleService({
    store: identity.store,
    driver: config.capsules.driver === 'wasi'
      ? new WasiDriver({ components: { compiler: components.compiler, startTimeoutMs: w.startTimeoutMs, hostCallTimeoutMs: w.hostCallTimeoutMs } })
      // Colony's own data never shows inside a capsule (wherever the data dir is).
      : new NamespaceDriver({ hiddenPaths: [resolve(config.data.dir)] }),
    dir: capsuleDir,
    clock,
    log: log.child({ component: 'capsules' }),
    // Wrenn's capsule and template events, for the team's notification channels (the host's own capsules have none).
    notify: (event, teamId, actor, resource) => {
      if (teamId !== null) bus.publish(topics.systemEvent(event), eventPayload(event, teamId, actor, resource, clock.now()))
    },
  })
  const hosts = new HostService({
    store: identity.store, clock, log: log.child({ component: 'hosts' }), bus, keys: hostKeys(jwtSecret(config)), settings: config.hosts,
  })
  return {
    hosts,
    hostDirectory: hosts.directory(),
    remoteCapsules: new RemoteCapsules({ store: identity.store, hosts, log: log.child({ component: 'hosts' }) }),
    components,
    wasmLimits: {
      callTimeoutMs: w.callTimeoutMs,
      startTimeoutMs: w.startTimeoutMs,
      memoryLimitBytes: w.memoryLimitMb * 1024 * 1024,
      hostCallTimeoutMs: w.hostCallTimeoutMs,
      maxQueuedCalls: w.maxQueuedCalls,
    },
    links: new LinkService(identity.store, clock),
    store: identity.store,
    providers: new ProviderMemory(identity.store, clock, log.child({ component: 'providers' })),
    workers: createWorkerService({
      store: identity.store,
      components,
      clock,
      log: log.child({ component: 'workers' }),
      settings: { ...config.workers, callTimeoutMs: w.callTimeoutMs },
      // Active oplog-processor plugins get each durable batch on plugins/{pluginId}/oplog.
      forward: (ref, installations, entries) => {
        const active = installations.flatMap((id) => {
          try {
            return [plugins.resolveInstallation(undefined, ref.componentId, id)]
          } catch {
            return [] // uninstalled since: nothing to deliver to
          }
        })
        plugins.forwarder.forward(ref, active, entries)
      },
      // Golem activates a component's installed plugins on each new worker (Create.initialActivePlugins).
      installedPlugins: (componentId) => plugins.initialActivations(undefined, componentId).map((a) => ({
        installationId: a.installationId, pluginName: a.name, pluginVersion: a.version, parameters: a.parameters,
      })),
    }),
    gateway: new Gateway({ store: identity.store, clock, log: log.child({ component: 'gateway' }) }),
    plugins,
    capsules,
    sessions: new SessionService({ capsules, clock, maxSessions: config.capsules.maxSessions, idleTimeoutSec: config.capsules.sessionIdleSec }),
    channels: new ChannelService({
      store: identity.store,
      key: channelKey(config.channels.encryptionKey, config.data.dir),
      clock,
      log: log.child({ component: 'channels' }),
      timeoutMs: config.channels.deliveryTimeoutMs,
    }),
  }
}

/** A revoked key ends its MQTT sessions at once; a deleted team takes its actors and its gateway sites with it. */
function wireIdentityEvents (identity: IdentityParts, broker: Broker, actors: ActorSystem, gateway: Gateway, channels: ChannelService, log: Logger): void {
  identity.auth.events.on('keysRevoked', (ids) => {
    const closed = broker.sessions.revoke(ids)
    if (closed > 0) log.info({ keys: ids.length, closed }, 'revoked API keys: MQTT sessions closed')
  })
  identity.auth.events.on('teamDeleted', (teamId) => {
    // Forgotten at once (the actors stop asynchronously): a crash now must not bring them back without their team.
    actors.memory?.forgetTeam(teamId)
    // Its Worker Gateway sites stop answering (their hosts may be deployed again by others).
    gateway.forgetTeam(teamId)
    // Its notification channels and their pending deliveries go.
    channels.forgetTeam(teamId)
    actors.removeTeam(teamId).catch((err: unknown) => log.error({ err, teamId }, 'could not remove the actors of a deleted team'))
  })
}

/** `hosts.join`: this Colony becomes a host of another (see src/hosts/join.ts); its key is for that Colony only. */
function startJoin (config: Readonly<ColonyConfig>, identity: IdentityParts, httpUrl: string, clock: Clock, log: Logger, latticeHostId: string | undefined): JoinAgent {
  const admin = (): ReturnType<IdentityParts['auth']['localIdentity']> => identity.auth.localIdentity()
  const agent = new JoinAgent({
    url: config.hosts.join,
    token: config.hosts.joinToken,
    address: config.hosts.joinAddress === '' ? httpUrl : config.hosts.joinAddress,
    heartbeatMs: config.hosts.joinHeartbeatMs,
    dataDir: config.data.dir,
    clock,
    log: log.child({ component: 'join' }),
    issueKey: () => {
      const { record, key } = identity.auth.createApiKey(admin(), `host of ${new URL(config.hosts.join).host}`.slice(0, 100))
      return { id: record.id, key }
    },
    dropKey: (id) => { identity.auth.deleteApiKey(admin(), id) },
    ...(latticeHostId !== undefined && { latticeHostId }),
  })
  agent.start()
  return agent
}

function checkBindPolicy (config: Readonly<ColonyConfig>): void {
  const exposed = [...new Set([config.mqtt.host, config.http.host].filter((h) => !isLoopback(h)))]
  if (exposed.length > 0 && config.auth.mode === 'off') {
    throw new ColonyError('insecure_bind',
      `refusing to listen on ${exposed.join(' and ')} with auth.mode "off": like Mosquitto 2, Colony accepts clients ` +
      'without credentials only on loopback. Use auth.mode "loopback" or "required", or bind to 127.0.0.1.')
  }
}

function prepareDataDir (dir: string): void {
  try {
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK | constants.R_OK)
  } catch (err) {
    throw new ColonyError('data_dir_unusable', `data directory ${dir} cannot be used: ${(err as Error).message}`, { cause: err })
  }
}

function hostForUrl (address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address
}
