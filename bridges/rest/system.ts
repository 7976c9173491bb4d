import type { Router } from '@koa/router'
import type { RestContext } from './deps.js'
import { topics } from '../../src/index.js'

/** Health, Prometheus metrics and the Home Assistant map (kept from `system/ha-map`). */
export function systemRoutes (router: Router, ctx: Pick<RestContext, 'bus' | 'metrics' | 'status'>): () => void {
  let haMap: Buffer | undefined
  const stop = ctx.bus.subscribe(topics.systemHaMap, (m) => {
    haMap = m.payload.length === 0 ? undefined : m.payload
  }, { retained: true })

  router.get('/api/health', (c) => {
    const status = ctx.status()
    c.status = status.state === 'running' ? 200 : 503
    c.body = { status: status.state === 'running' ? 'ok' : status.state, ...status }
  })

  router.get('/metrics', (c) => {
    c.type = 'text/plain; version=0.0.4; charset=utf-8'
    c.body = ctx.metrics.render()
  })

  router.get('/ha-map', (c) => {
    if (haMap === undefined) {
      c.status = 404
      // The seed's exact body for this case (a string, unlike every other error).
      c.body = { error: 'Home Assistant map snapshot not available' }
      return
    }
    c.type = 'application/json'
    c.body = haMap
  })

  return stop
}
