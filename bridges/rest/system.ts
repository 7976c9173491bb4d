import { Type } from '@sinclair/typebox'
import { topics, type Bus, type Metrics, type RuntimeStatus } from '../../src/index.js'
import type { Routes } from './route.js'

export const name = 'System'

export interface SystemDeps {
  bus: Bus
  metrics: Metrics
  status: () => RuntimeStatus
  /** Called with the function that stops what `register` started (the ha-map subscription). */
  onStop: (stop: () => void) => void
}

const Health = Type.Object({
  status: Type.String({ description: '"ok" while running, else the runtime state' }),
  state: Type.String(),
  version: Type.String(),
  startedAtMs: Type.Number(),
  uptimeMs: Type.Number(),
  actors: Type.Integer(),
  mqttClients: Type.Integer(),
})

/** Health, Prometheus metrics and the Home Assistant map (kept from `system/ha-map`). */
export function register (routes: Routes, { bus, metrics, status, onStop }: SystemDeps): void {
  let haMap: Buffer | undefined
  onStop(bus.subscribe(topics.systemHaMap, (m) => {
    haMap = m.payload.length === 0 ? undefined : m.payload
  }, { retained: true }))

  routes.route({
    method: 'GET',
    path: '/api/health',
    public: true,
    summary: 'Liveness and a few counters; 503 while starting or stopping',
    responses: { 200: { description: 'Running', schema: Health }, 503: { description: 'Starting or stopping', schema: Health } },
    errors: [],
    handle (ctx) {
      const now = status()
      ctx.status = now.state === 'running' ? 200 : 503
      ctx.body = { status: now.state === 'running' ? 'ok' : now.state, ...now }
    },
  })

  routes.route({
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'The text exposition format', type: 'text/plain; version=0.0.4' } },
    errors: [],
    handle (ctx) {
      ctx.type = 'text/plain; version=0.0.4; charset=utf-8'
      ctx.body = metrics.render()
    },
  })

  routes.route({
    method: 'GET',
    path: '/ha-map',
    summary: 'The Home Assistant device map ha-map-agent last published',
    responses: {
      200: { description: 'The map', schema: Type.Object({}) },
      404: { description: 'No map yet (the seed\'s body: `error` is a string here)', schema: Type.Object({ error: Type.String() }) },
    },
    errors: [],
    handle (ctx) {
      if (haMap === undefined) {
        ctx.status = 404
        // The seed's exact body for this case (a string, unlike every other error).
        ctx.body = { error: 'Home Assistant map snapshot not available' }
        return
      }
      ctx.type = 'application/json'
      ctx.body = haMap
    },
  })
}
