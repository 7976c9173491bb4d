import assert from 'node:assert/strict'
import { as, signup, type Account } from './identity.js'

/** An account plus a JWT scoped to the team under test (for an outsider: its own personal team). */
export interface Seat extends Account { teamToken: string }

/** One team with a member of every role, and someone who is not in it. */
export interface Matrix {
  base: string
  teamId: string
  owner: Seat
  admin: Seat
  member: Seat
  outsider: Seat
}

/** The claims of a JWT, decoded without checking the signature. */
export function claims (token: string): Record<string, unknown> {
  const body = token.split('.')[1] ?? ''
  return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>
}

/** Re-issues `token` for `teamId` through POST /v1/auth/switch-team and returns the new JWT. */
export async function switchTeam (base: string, token: string, teamId: string): Promise<string> {
  const res = await as(token, 'POST', `${base}/v1/auth/switch-team`, { team_id: teamId })
  assert.equal(res.status, 200, JSON.stringify(res.body))
  assert.equal(res.body.team_id, teamId)
  return res.body.token as string
}

export async function createTeam (base: string, token: string, name: string): Promise<string> {
  const res = await as(token, 'POST', `${base}/v1/teams`, { name })
  assert.equal(res.status, 201, JSON.stringify(res.body))
  return res.body.id as string
}

export async function addMember (base: string, token: string, teamId: string, email: string): Promise<void> {
  const res = await as(token, 'POST', `${base}/v1/teams/${teamId}/members`, { email })
  assert.equal(res.status, 201, JSON.stringify(res.body))
}

/** Creates an API key with `token` (a JWT or a key) and returns the creation response (with the plaintext). */
export async function createKey (base: string, token: string, name?: string): Promise<Record<string, any>> {
  const res = await as(token, 'POST', `${base}/v1/api-keys`, name === undefined ? undefined : { name })
  assert.equal(res.status, 201, JSON.stringify(res.body))
  return res.body
}

/**
 * Signs up four people; the owner creates a team, adds two of them (one promoted to admin) and everyone in it
 * switches to it. The outsider keeps the JWT of its own personal team.
 */
export async function roleMatrix (base: string, name = 'Matrix team'): Promise<Matrix> {
  const [owner, admin, member, outsider] = await Promise.all(['Owner', 'Admin', 'Member', 'Outsider'].map((n) => signup(base, n))) as [Account, Account, Account, Account]
  const teamId = await createTeam(base, owner.token, name)
  const ownerToken = await switchTeam(base, owner.token, teamId)
  await addMember(base, ownerToken, teamId, admin.email)
  await addMember(base, ownerToken, teamId, member.email)
  const promoted = await as(ownerToken, 'PATCH', `${base}/v1/teams/${teamId}/members/${admin.user_id}`, { role: 'admin' })
  assert.equal(promoted.status, 204, JSON.stringify(promoted.body))
  return {
    base,
    teamId,
    owner: { ...owner, teamToken: ownerToken },
    admin: { ...admin, teamToken: await switchTeam(base, admin.token, teamId) },
    member: { ...member, teamToken: await switchTeam(base, member.token, teamId) },
    outsider: { ...outsider, teamToken: outsider.token },
  }
}

export const ROLES = ['owner', 'admin', 'member', 'outsider'] as const
export type RoleName = typeof ROLES[number]
