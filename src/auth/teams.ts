import type { Clock } from '../clock.js'
import { ColonyError } from '../errors.js'
import type { Member, Role, Store, Team } from '../store/index.js'
import type { AuthEvents } from './events.js'
import type { Identity } from './identity.js'
import type { AuthService } from './service.js'
import { validEmail, validTeamName } from './validate.js'

export interface TeamView { id: string, name: string, slug: string, created_at: string }
export interface MemberView { user_id: string, email: string, name: string, role: Role, joined_at: string }

export const teamView = (t: Team): TeamView => ({ id: t.id, name: t.name, slug: t.slug, created_at: new Date(t.createdAtMs).toISOString() })
export const memberView = (m: Member): MemberView => ({
  user_id: m.userId, email: m.email, name: m.name, role: m.role, joined_at: new Date(m.joinedAtMs).toISOString(),
})

/**
 * Team operations with Wrenn's rules. The caller's role is read from the database on every call (never from the
 * token), and a team route acts on the caller's active team only (switch-team first), platform admins aside.
 */
export class TeamService {
  constructor (
    private readonly store: Store,
    private readonly auth: AuthService,
    private readonly events: AuthEvents,
    private readonly clock: Clock,
  ) {}

  list (who: Identity): Array<TeamView & { role: Role }> {
    const teams = this.store.teams.forUser(who.userId).filter((t) => who.kind !== 'api_key' || t.id === who.teamId)
    return teams.map((t) => ({ ...teamView(t), role: t.role }))
  }

  create (who: Identity, rawName: string): TeamView & { role: Role } {
    const name = validTeamName(rawName)
    const id = this.store.transaction(() => this.auth.createTeamFor(who.userId, name))
    return { ...teamView(this.store.teams.get(id) as Team), role: 'owner' }
  }

  get (who: Identity, teamId: string): { team: TeamView, members: MemberView[] } {
    const team = this.scoped(who, teamId, 'member')
    return { team: teamView(team), members: this.store.teams.members(team.id).map(memberView) }
  }

  rename (who: Identity, teamId: string, rawName: string): void {
    const name = validTeamName(rawName)
    this.scoped(who, teamId, 'admin')
    this.store.teams.rename(teamId, name)
  }

  remove (who: Identity, teamId: string): void {
    this.scoped(who, teamId, 'owner')
    const members = this.store.teams.members(teamId)
    const revoked = this.store.transaction(() => {
      this.store.teams.softDelete(teamId, this.clock.now())
      return this.store.apiKeys.removeForTeam(teamId)
    })
    if (revoked.length > 0) this.events.emit('keysRevoked', revoked)
    for (const m of members) this.events.emit('membershipChanged', m.userId)
    this.events.emit('teamDeleted', teamId)
  }

  members (who: Identity, teamId: string): MemberView[] {
    this.scoped(who, teamId, 'member')
    return this.store.teams.members(teamId).map(memberView)
  }

  addMember (who: Identity, teamId: string, rawEmail: string): MemberView {
    this.scoped(who, teamId, 'admin')
    const user = this.store.users.findByEmail(validEmail(rawEmail))
    if (user === undefined || user.status !== 'active') throw new ColonyError('user_not_found', 'no account with that email')
    if (this.store.teams.member(teamId, user.id) !== undefined) throw new ColonyError('already_member')
    this.store.teams.addMember(teamId, user.id, 'member', this.clock.now())
    this.events.emit('membershipChanged', user.id)
    return memberView(this.store.teams.member(teamId, user.id) as Member)
  }

  setRole (who: Identity, teamId: string, userId: string, role: unknown): void {
    if (role !== 'admin' && role !== 'member') {
      throw new ColonyError('invalid_body', 'role must be "admin" or "member"', { details: { field: 'role' } })
    }
    this.scoped(who, teamId, 'admin')
    const target = this.store.teams.member(teamId, userId)
    if (target === undefined) throw new ColonyError('member_not_found')
    if (target.role === 'owner') throw new ColonyError('owner_immutable', "the owner's role cannot be changed")
    this.store.teams.setRole(teamId, userId, role)
    this.events.emit('membershipChanged', userId)
  }

  removeMember (who: Identity, teamId: string, userId: string): void {
    this.scoped(who, teamId, 'admin')
    const target = this.store.teams.member(teamId, userId)
    if (target === undefined) throw new ColonyError('member_not_found')
    if (target.role === 'owner') throw new ColonyError('owner_immutable', 'the owner cannot be removed; delete the team instead')
    this.store.teams.removeMember(teamId, userId)
    this.events.emit('membershipChanged', userId)
  }

  leave (who: Identity, teamId: string): void {
    this.scoped(who, teamId, 'member')
    const role = this.store.teams.role(teamId, who.userId)
    if (role === 'owner') throw new ColonyError('owner_immutable', 'the owner cannot leave; delete the team instead')
    if (role === undefined) throw new ColonyError('member_not_found')
    this.store.teams.removeMember(teamId, who.userId)
    this.events.emit('membershipChanged', who.userId)
  }

  /**
   * The team, if `who` may act on it with at least `least`: it must be the caller's active team (Wrenn: the
   * JWT's team_id), and the caller's role is read from the database. Platform admins may act on any team.
   */
  private scoped (who: Identity, teamId: string, least: Role): Team {
    const team = this.store.teams.get(teamId)
    if (who.isAdmin) {
      if (team === undefined) throw new ColonyError('team_not_found')
      return team
    }
    if (teamId !== who.teamId) throw new ColonyError('forbidden', 'this token is scoped to another team; switch team first')
    if (team === undefined) throw new ColonyError('team_not_found')
    const role = this.store.teams.role(teamId, who.userId)
    if (role === undefined) throw new ColonyError('forbidden', 'not a member of this team')
    const rank: Record<Role, number> = { member: 0, admin: 1, owner: 2 }
    if (rank[role] < rank[least]) throw new ColonyError('forbidden', `this needs the ${least} role; you are ${role}`)
    return team
  }
}
