import type { Db } from './db.js'

export type Role = 'owner' | 'admin' | 'member'

export interface Team { id: string, name: string, slug: string, isDefault: boolean, createdAtMs: number, deletedAtMs: number | null }
export interface Member { userId: string, email: string, name: string, role: Role, joinedAtMs: number }

interface TeamRow { id: string, name: string, slug: string, is_default: number, created_at: number, deleted_at: number | null }
interface MemberRow { user_id: string, email: string, name: string, role: Role, joined_at: number }

const toTeam = (r: TeamRow): Team => ({
  id: r.id, name: r.name, slug: r.slug, isDefault: r.is_default === 1, createdAtMs: r.created_at, deletedAtMs: r.deleted_at,
})
const toMember = (r: MemberRow): Member => ({ userId: r.user_id, email: r.email, name: r.name, role: r.role, joinedAtMs: r.joined_at })

/** Teams and memberships. A deleted team keeps its row (soft delete) so its slug is never handed out again. */
export class Teams {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      get: db.prepare<[string], TeamRow>('SELECT * FROM teams WHERE id = ? AND deleted_at IS NULL'),
      slugTaken: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM teams WHERE slug = ?'),
      insert: db.prepare('INSERT INTO teams (id, name, slug, is_default, created_at) VALUES (?, ?, ?, ?, ?)'),
      rename: db.prepare('UPDATE teams SET name = ? WHERE id = ? AND deleted_at IS NULL'),
      softDelete: db.prepare('UPDATE teams SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      forUser: db.prepare<[string], TeamRow & { role: Role }>(
        'SELECT t.*, m.role FROM teams t JOIN memberships m ON m.team_id = t.id WHERE m.user_id = ? AND t.deleted_at IS NULL ORDER BY t.created_at, t.id'),
      role: db.prepare<[string, string], { role: Role }>(
        'SELECT m.role FROM memberships m JOIN teams t ON t.id = m.team_id WHERE m.team_id = ? AND m.user_id = ? AND t.deleted_at IS NULL'),
      members: db.prepare<[string], MemberRow>(
        'SELECT m.user_id, u.email, u.name, m.role, m.joined_at FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.team_id = ? ORDER BY m.joined_at, u.email'),
      member: db.prepare<[string, string], MemberRow>(
        'SELECT m.user_id, u.email, u.name, m.role, m.joined_at FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.team_id = ? AND m.user_id = ?'),
      addMember: db.prepare('INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)'),
      setRole: db.prepare("UPDATE memberships SET role = ? WHERE team_id = ? AND user_id = ? AND role != 'owner'"),
      removeMember: db.prepare("DELETE FROM memberships WHERE team_id = ? AND user_id = ? AND role != 'owner'"),
    }
  }

  get (id: string): Team | undefined {
    const r = this.stmts.get.get(id)
    return r === undefined ? undefined : toTeam(r)
  }

  slugTaken (slug: string): boolean {
    return (this.stmts.slugTaken.get(slug)?.n ?? 0) > 0
  }

  insert (t: { id: string, name: string, slug: string, isDefault: boolean, createdAtMs: number }): void {
    this.stmts.insert.run(t.id, t.name, t.slug, t.isDefault ? 1 : 0, t.createdAtMs)
  }

  rename (id: string, name: string): boolean {
    return this.stmts.rename.run(name, id).changes > 0
  }

  softDelete (id: string, nowMs: number): boolean {
    return this.stmts.softDelete.run(nowMs, id).changes > 0
  }

  /** The live teams a user belongs to, with the user's role in each. */
  forUser (userId: string): Array<Team & { role: Role }> {
    return this.stmts.forUser.all(userId).map((r) => ({ ...toTeam(r), role: r.role }))
  }

  /** The user's role in a live team, or undefined when not a member. */
  role (teamId: string, userId: string): Role | undefined {
    return this.stmts.role.get(teamId, userId)?.role
  }

  members (teamId: string): Member[] {
    return this.stmts.members.all(teamId).map(toMember)
  }

  member (teamId: string, userId: string): Member | undefined {
    const r = this.stmts.member.get(teamId, userId)
    return r === undefined ? undefined : toMember(r)
  }

  addMember (teamId: string, userId: string, role: Role, nowMs: number): void {
    this.stmts.addMember.run(teamId, userId, role, nowMs)
  }

  /** Never changes the owner (the statement itself refuses). */
  setRole (teamId: string, userId: string, role: Exclude<Role, 'owner'>): boolean {
    return this.stmts.setRole.run(role, teamId, userId).changes > 0
  }

  /** Never removes the owner (the statement itself refuses). */
  removeMember (teamId: string, userId: string): boolean {
    return this.stmts.removeMember.run(teamId, userId).changes > 0
  }
}
