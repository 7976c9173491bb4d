import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConfigInput } from '../../src/config.js'
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js'
import { BOOT, BRIDGES, KINDS, loadConfig } from '../../src/assembly.js'
import type { ActorKind } from '../../src/actor/types.js'

export interface TestColony {
  rt: Runtime
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown>>
  dataDir: string
  close(): Promise<void>
}

export interface TestColonyOptions extends Omit<RuntimeOptions, 'kinds'> {
  config?: ConfigInput
  /** Extra actor kinds on top of the real ones. */
  kinds?: ActorKind<never>[]
}

/** A real Colony (all system actors and bridges) on free ports with a throwaway data dir. */
export async function startColony (options: TestColonyOptions = {}): Promise<TestColony> {
  const dataDir = mkdtempSync(join(tmpdir(), 'colony-test-'))
  const base: ConfigInput = {
    http: { port: 0 },
    mqtt: { port: 0 },
    data: { dir: dataDir },
    log: { level: 'info' },
    actors: { heartbeatIntervalMs: 200 },
    // Real scrypt at a lower cost so tests that create many accounts stay quick (the default is 32768).
    auth: { scryptN: 4096 },
  }
  const overrides: ConfigInput = { ...base }
  for (const [section, values] of Object.entries(options.config ?? {})) overrides[section] = { ...(overrides[section] ?? {}), ...values }
  const config = loadConfig({ env: {}, overrides })
  const logs: Array<Record<string, unknown>> = []
  const rt = await createRuntime(config, {
    kinds: [...KINDS, ...(options.kinds ?? [])],
    boot: options.boot ?? BOOT,
    bridges: options.bridges ?? BRIDGES,
    ...(options.clock !== undefined && { clock: options.clock }),
    logDestination: { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>) } },
  })
  let closed = false
  return {
    rt,
    logs,
    dataDir,
    async close () {
      if (closed) return
      closed = true
      await rt.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export const SYSTEM_ACTORS = [
  'main-actor', 'io-agent', 'monitor-agent', 'qa-agent', 'ha-map-agent', 'keyvalue-provider', 'messaging-provider', 'logging-provider',
]
export const BRIDGE_ACTORS = ['rest-bridge', 'ws-bridge', 'nats-bridge']
