import assert from 'node:assert/strict'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import { Router } from '@koa/router'
import { Type } from '@sinclair/typebox'
import { RouteTable } from '../../../bridges/rest/route-table.js'
import type { Routes } from '../../../bridges/rest/route.js'

/**
 * The table's dispatch: parameterless routes are found by exact path without the router's regex walk. It must
 * answer exactly as the router alone would: the first declared route that matches wins, HEAD is served by GET,
 * another method still gets the router's 405, and a path the Map does not hold (a trailing slash) still routes.
 */
const family = {
  name: 'Test',
  register (routes: Routes): void {
    routes.route({
      method: 'GET', path: '/t/{id}', summary: 'declared first', params: Type.Object({ id: Type.String() }), responses: {}, errors: [],
      handle: (_ctx, { params }) => ({ by: 'param', id: params.id }),
    })
    routes.route({ method: 'GET', path: '/t/fixed', summary: 'shadowed', responses: {}, errors: [], handle: () => ({ by: 'fixed' }) })
    routes.route({ method: 'GET', path: '/s', summary: 'static', responses: {}, errors: [], handle: (ctx) => ({ by: 'static', params: ctx.params as unknown }) })
  },
}

async function listen (): Promise<{ server: Server, port: number }> {
  const table = new RouteTable()
  table.register(family, {})
  const app = new Koa()
  app.silent = true
  const router = new Router()
  app.use(table.mount(router, 1024))
  app.use(router.allowedMethods())
  const handle = app.callback()
  const server = createServer((req, res) => { void handle(req, res) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

function send (port: number, method: string, path: string): Promise<{ status: number, body: string, allow?: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, allow: res.headers.allow }))
    }).on('error', reject).end()
  })
}

describe('RouteTable dispatch', () => {
  let server: Server
  let port: number
  before(async () => ({ server, port } = await listen()))
  after(async () => { await new Promise<void>((resolve) => server.close(() => resolve())) })

  it('serves a parameterless route by its exact path, with empty params, and HEAD with its GET', async () => {
    assert.deepEqual(await send(port, 'GET', '/s'), { status: 200, body: '{"by":"static","params":{}}', allow: undefined })
    const head = await send(port, 'HEAD', '/s')
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
  })

  it('leaves a path an earlier declared route matches to that route, as the router does', async () => {
    assert.equal((await send(port, 'GET', '/t/fixed')).body, '{"by":"param","id":"fixed"}')
  })

  it('routes what the exact lookup does not hold: a trailing slash, another method (405 with Allow), an unknown path', async () => {
    assert.equal((await send(port, 'GET', '/s/')).body, '{"by":"static","params":{}}')
    const post = await send(port, 'POST', '/s')
    assert.equal(post.status, 405)
    assert.equal(post.allow, 'HEAD, GET')
    assert.equal((await send(port, 'GET', '/nothing')).status, 404)
  })
})
