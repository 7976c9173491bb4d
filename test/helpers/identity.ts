import assert from 'node:assert/strict'
import { request, type JsonResponse } from './http.js'

export interface Account { token: string, user_id: string, team_id: string, email: string, name: string, password: string }

let seq = 0

/** Signs up a fresh account through the REST API (which logs it in) and returns its JWT and ids. */
export async function signup (base: string, name = `user${++seq}`): Promise<Account> {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]/g, '')}-${process.pid}-${seq}@example.test`
  const password = `pw-${name}-correct-horse`
  const res = await request('POST', `${base}/v1/auth/signup`, { email, password, name })
  assert.equal(res.status, 201, JSON.stringify(res.body))
  return { ...res.body, password }
}

/** A request with a bearer token (JWT or API key). */
export function as (token: string, method: string, url: string, body?: unknown): Promise<JsonResponse> {
  return request(method, url, body, { authorization: `Bearer ${token}` })
}

/** A request with an `X-API-Key` header. */
export function withKey (key: string, method: string, url: string, body?: unknown): Promise<JsonResponse> {
  return request(method, url, body, { 'x-api-key': key })
}
