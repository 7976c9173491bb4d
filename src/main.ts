#!/usr/bin/env node
/**
 * The `colony` command: parses the command line, starts the runtime assembled in `assembly.ts`, and is the only
 * place allowed to end the process.
 */
// First: it must run before the packages whose `debug` loggers it quiets load.
import './broker/quiet-debug.js'
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ruleFor, coerce, type ConfigInput } from './config.js'
import { isColonyError } from './errors.js'
import { createRuntime, VERSION, type Runtime } from './runtime.js'
import { BOOT, BRIDGES, KINDS, SETTINGS, latticeHostId, loadConfig } from './assembly.js'

const USAGE = `Usage: colony [start] [options]

Starts the Colony runtime: the embedded MQTT broker, the system actors and the REST/WS (and NATS) bridges.

Options:
  --config FILE        JSON config file (see config/default.json for every setting)
  --host ADDR          bind address for MQTT and HTTP (default 127.0.0.1)
  --http-port N        HTTP port for REST, /ws and /mqtt (default 8080; 0 picks a free port)
  --mqtt-port N        MQTT TCP port (default 1883; 0 picks a free port)
  --data-dir DIR       data directory (default ./data)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent
  --nats-url URL       join a wasmCloud-style lattice through this NATS server (default: off)
  --lattice NAME       the lattice name (default "default")
  --join URL           register as a host of the Colony at URL and beat (hosts.join)
  --token T            its one-time registration token (hosts.joinToken; later starts reuse the saved credentials)
  -h, --help           this text
  -v, --version        print the version

Every setting can also be set as COLONY_<SECTION>_<KEY>, e.g. COLONY_ACTORS_HEARTBEAT_INTERVAL_MS=1000.`

const FLAGS: Record<string, [string, string][]> = {
  host: [['http', 'host'], ['mqtt', 'host']],
  'http-port': [['http', 'port']],
  'mqtt-port': [['mqtt', 'port']],
  'data-dir': [['data', 'dir']],
  'log-level': [['log', 'level']],
  'nats-url': [['nats', 'url']],
  lattice: [['nats', 'lattice']],
  join: [['hosts', 'join']],
  token: [['hosts', 'joinToken']],
}

async function main (argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        host: { type: 'string' },
        'http-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        'nats-url': { type: 'string' },
        lattice: { type: 'string' },
        join: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    })
  } catch (err) {
    process.stderr.write(`colony: ${(err as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (parsed.values.version === true) {
    process.stdout.write(`${VERSION}\n`)
    return 0
  }
  const command = parsed.positionals[0] ?? 'start'
  if (command !== 'start' || parsed.positionals.length > 1) {
    process.stderr.write(`colony: unknown command "${parsed.positionals.join(' ')}"\n\n${USAGE}\n`)
    return 2
  }

  const overrides: ConfigInput = {}
  for (const [flag, targets] of Object.entries(FLAGS)) {
    const raw = (parsed.values as Record<string, string | undefined>)[flag]
    if (raw === undefined) continue
    for (const [section, key] of targets) {
      const rule = ruleFor(SETTINGS, section, key)
      ;(overrides[section] ??= {})[key] = rule === undefined ? raw : coerce(raw, rule)
    }
  }

  let runtime: Runtime
  try {
    const config = loadConfig({ ...(parsed.values.config !== undefined && { file: parsed.values.config }), overrides })
    runtime = await createRuntime(config, { kinds: KINDS, boot: BOOT, bridges: BRIDGES, latticeHostId: () => latticeHostId(config) })
  } catch (err) {
    if (isColonyError(err)) {
      process.stderr.write(`colony: ${err.message} [${err.code}]\n`)
      return err.code === 'config_invalid' ? 2 : 1
    }
    throw err
  }
  const bootstrap = runtime.identity.bootstrap
  if (bootstrap !== undefined) {
    // Printed once, on the first start with an empty database, and never logged: only its hash is stored.
    process.stdout.write(`\nFirst start: created the admin account ${bootstrap.email}.\n` +
      `Admin API key (shown once, keep it safe): ${bootstrap.apiKey}\n` +
      'Use it as X-API-Key or "Authorization: Bearer", or as the MQTT password.\n\n')
  }
  process.stdout.write(`colony ${VERSION} ready — REST ${runtime.urls.http}/api  MQTT ${runtime.urls.mqtt}  ` +
    `MQTT/WS ${runtime.urls.mqttWs}  stream ${runtime.urls.ws}  dashboard ${runtime.urls.http}/  auth: ` +
    `${runtime.identity.gate.anonymousAllowed ? 'anonymous on loopback (development mode)' : 'credentials required'}\n`)

  return await new Promise<number>((resolve) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        runtime.log.warn({ signal }, 'second signal: exiting now')
        resolve(130)
        return
      }
      stopping = true
      runtime.log.info({ signal }, 'shutting down')
      runtime.close().then(() => resolve(0), (err: unknown) => {
        runtime.log.error({ err }, 'shutdown failed')
        resolve(1)
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    runtime.events.once('shutdownRequested', () => onSignal('SIGTERM'))
  })
}

/** True when this file is the process entry point (also through the npm `bin` symlink), not an import. */
function isEntryPoint (): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url
  } catch {
    return false
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`colony: unexpected failure: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  })
}
