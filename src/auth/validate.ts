import { ColonyError } from '../errors.js'

function field (body: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(body, name) ? body[name] : undefined
}

export function requireString (body: Record<string, unknown>, name: string): string {
  const value = field(body, name)
  if (typeof value !== 'string') throw new ColonyError('invalid_body', `${name} is required and must be a string`, { details: { field: name } })
  return value
}

/** Wrenn's rule: contains "@", at least 3 characters; plus no spaces and at most 254 (the SMTP limit). */
export function validEmail (raw: string): string {
  const email = raw.trim().toLowerCase()
  if (email.length < 3 || email.length > 254 || !email.includes('@') || /\s/.test(email) || email.startsWith('@') || email.endsWith('@')) {
    throw new ColonyError('invalid_body', 'email must be an address like name@example.com', { details: { field: 'email' } })
  }
  return email
}

export function validPassword (password: string): string {
  if (password.length < 8) throw new ColonyError('invalid_body', 'password must be at least 8 characters', { details: { field: 'password' } })
  if (password.length > 1024) throw new ColonyError('invalid_body', 'password must be at most 1024 characters', { details: { field: 'password' } })
  return password
}

export function validName (raw: string): string {
  const name = raw.trim()
  if (name.length === 0 || name.length > 100 || /\p{Cc}/u.test(name)) {
    throw new ColonyError('invalid_body', 'name must be 1 to 100 characters, without control characters', { details: { field: 'name' } })
  }
  return name
}

const TEAM_NAME = /^[A-Za-z0-9 _]{1,128}$/

/** Wrenn's rule: 1-128 characters of A-Z a-z 0-9 space _. */
export function validTeamName (raw: string): string {
  const name = raw.trim()
  if (!TEAM_NAME.test(name)) {
    throw new ColonyError('invalid_body', 'team name must be 1 to 128 characters of A-Z, a-z, 0-9, space and _', { details: { field: 'name' } })
  }
  return name
}

/** A personal team's name derived from a person's name, kept within the team-name rule. */
export function personalTeamName (name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9 _]/g, '').trim().slice(0, 100)
  return cleaned === '' ? 'Personal team' : `${cleaned} team`
}
