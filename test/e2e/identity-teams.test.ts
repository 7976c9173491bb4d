import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { get, post } from '../helpers/http.js'
import { as, signup, withKey } from '../helpers/identity.js'
import { createKey, roleMatrix, ROLES, type Matrix, type RoleName } from '../helpers/teams.js'

describe('identity: users and teams', () => {
  let colony: TestColony
  let base: string

  beforeEach(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
  })
  afterEach(async () => {
    const health = await get(`${base}/api/health`)
    assert.equal(health.status, 200, 'the runtime is still healthy')
    await colony?.close()
  })

  describe('GET /v1/users/search', () => {
    it('-> 200 [{user_id, email}] for an email prefix with "@", case-insensitive, at most 10', async () => {
      const tag = `srch${process.pid}`
      const people = []
      for (let i = 0; i < 11; i++) {
        people.push((await post(`${base}/v1/auth/signup`, { email: `${tag}@d${String(i).padStart(2, '0')}.test`, password: 'long-enough-1', name: 'S' })).body)
      }
      const searcher = await signup(base)
      const res = await as(searcher.token, 'GET', `${base}/v1/users/search?email=${tag.toUpperCase()}@`)
      assert.equal(res.status, 200)
      assert.equal(res.body.length, 10)
      for (const u of res.body) assert.deepEqual(Object.keys(u).sort(), ['email', 'user_id'])
      assert.deepEqual(res.body[0], { user_id: people[0].user_id, email: people[0].email })
      const narrow = await as(searcher.token, 'GET', `${base}/v1/users/search?email=${tag}@d07`)
      assert.deepEqual(narrow.body, [{ user_id: people[7].user_id, email: people[7].email }])
    })

    it('-> 400 without "@" or without the parameter; wildcards and SQL-looking prefixes match literally', async () => {
      const searcher = await signup(base)
      for (const query of ['?email=alice', '', '?email=', `?email=${'a'.repeat(300)}@`]) {
        const res = await as(searcher.token, 'GET', `${base}/v1/users/search${query}`)
        assert.equal(res.status, 400, query.slice(0, 40))
        assert.equal(res.body.error.code, 'invalid_body')
      }
      for (const prefix of ['%@', '_%@%', "' OR 1=1 --@", '"; DROP TABLE users; --@', '\\%@']) {
        const res = await as(searcher.token, 'GET', `${base}/v1/users/search?email=${encodeURIComponent(prefix)}`)
        assert.equal(res.status, 200, prefix)
        assert.deepEqual(res.body, [], prefix)
      }
      const self = await as(searcher.token, 'GET', `${base}/v1/users/search?email=${encodeURIComponent(searcher.email)}`)
      assert.deepEqual(self.body, [{ user_id: searcher.user_id, email: searcher.email }], 'the users table is intact')
      assert.equal((await as('garbage', 'GET', `${base}/v1/users/search?email=a@`)).status, 401)
    })
  })

  describe('GET/POST /v1/teams', () => {
    it('POST -> 201 TeamWithRole (caller is owner, 12-hex slug); GET lists it with the role', async () => {
      const account = await signup(base)
      const res = await as(account.token, 'POST', `${base}/v1/teams`, { name: 'Blue team_2' })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      assert.deepEqual(Object.keys(res.body).sort(), ['created_at', 'id', 'name', 'role', 'slug'])
      assert.equal(res.body.name, 'Blue team_2')
      assert.equal(res.body.role, 'owner')
      assert.match(res.body.slug, /^[0-9a-f]{12}$/)
      const list = await as(account.token, 'GET', `${base}/v1/teams`)
      assert.equal(list.status, 200)
      assert.deepEqual(list.body.map((t: any) => [t.id, t.role]), [[account.team_id, 'owner'], [res.body.id, 'owner']])
      assert.deepEqual(list.body[1], res.body)
    })

    it('invalid team names -> 400 invalid_body; 128 characters is the limit', async () => {
      const account = await signup(base)
      const names: unknown[] = ['', '   ', 'n'.repeat(129), 'Zoë team', '山田', 'team 🐝', "x'; DROP TABLE teams; --", 'a/b', 'tab\tname', 42, null, ['a']]
      for (const name of names) {
        const res = await as(account.token, 'POST', `${base}/v1/teams`, { name })
        assert.equal(res.status, 400, JSON.stringify(name).slice(0, 40))
        assert.equal(res.body.error.code, 'invalid_body')
        assert.equal(res.body.error.field, 'name')
      }
      assert.equal((await as(account.token, 'POST', `${base}/v1/teams`, 'not json')).status, 400)
      assert.equal((await as(account.token, 'POST', `${base}/v1/teams`, { name: 'n'.repeat(128) })).status, 201)
      assert.equal((await as(account.token, 'GET', `${base}/v1/teams`)).body.length, 2, 'only the valid one was created')
    })
  })

  describe('the role matrix (owner / admin / member / outsider)', () => {
    let m: Matrix
    beforeEach(async () => {
      m = await roleMatrix(base)
    })

    const call = (who: RoleName, method: string, path: string, body?: unknown): ReturnType<typeof as> =>
      as(m[who].teamToken, method, `${base}/v1/teams/${m.teamId}${path}`, body)

    async function expectEach (expected: Record<RoleName, number>, send: (who: RoleName) => ReturnType<typeof as>): Promise<void> {
      for (const who of ROLES) {
        const res = await send(who)
        assert.equal(res.status, expected[who], `${who}: ${JSON.stringify(res.body)}`)
        if (res.status === 403) assert.equal(res.body.error.code, 'forbidden', who)
      }
    }

    it('GET team and members: 200 for every member with the roles; 403 for the outsider', async () => {
      await expectEach({ owner: 200, admin: 200, member: 200, outsider: 403 }, (who) => call(who, 'GET', ''))
      await expectEach({ owner: 200, admin: 200, member: 200, outsider: 403 }, (who) => call(who, 'GET', '/members'))
      const detail = await call('member', 'GET', '')
      assert.equal(detail.body.team.id, m.teamId)
      assert.deepEqual(Object.keys(detail.body.team).sort(), ['created_at', 'id', 'name', 'slug'])
      const roles = Object.fromEntries(detail.body.members.map((x: any) => [x.user_id, x.role]))
      assert.deepEqual(roles, { [m.owner.user_id]: 'owner', [m.admin.user_id]: 'admin', [m.member.user_id]: 'member' })
      for (const x of detail.body.members) assert.equal('password_hash' in x || 'passwordHash' in x, false)
      const outsiderInOwnTeam = await as(m.outsider.token, 'GET', `${base}/v1/teams/${m.outsider.team_id}`)
      assert.equal(outsiderInOwnTeam.status, 200)
    })

    it('rename: owner and admin 204, member and outsider 403; a bad name 400', async () => {
      await expectEach({ owner: 204, admin: 204, member: 403, outsider: 403 }, (who) => call(who, 'PATCH', '', { name: `Renamed by ${who}` }))
      assert.equal((await call('owner', 'GET', '')).body.team.name, 'Renamed by admin')
      const bad = await call('owner', 'PATCH', '', { name: 'no/slashes' })
      assert.equal(bad.status, 400)
      assert.equal(bad.body.error.code, 'invalid_body')
    })

    it('add member: owner and admin 201 (as member), member and outsider 403; 404 unknown email; 400 already a member', async () => {
      const extra = await Promise.all(ROLES.map(() => signup(base)))
      await expectEach({ owner: 201, admin: 201, member: 403, outsider: 403 },
        (who) => call(who, 'POST', '/members', { email: extra[ROLES.indexOf(who)]?.email }))
      const added = await call('owner', 'POST', '/members', { email: (await signup(base)).email.toUpperCase() })
      assert.equal(added.status, 201)
      assert.deepEqual(Object.keys(added.body).sort(), ['email', 'joined_at', 'name', 'role', 'user_id'])
      assert.equal(added.body.role, 'member')
      const unknown = await call('owner', 'POST', '/members', { email: 'nobody-here@example.test' })
      assert.equal(unknown.status, 404)
      assert.equal(unknown.body.error.code, 'user_not_found')
      for (const email of [m.member.email, m.owner.email, extra[0]?.email]) {
        const dup = await call('admin', 'POST', '/members', { email })
        assert.equal(dup.status, 400)
        assert.equal(dup.body.error.code, 'already_member')
      }
      const bad = await call('owner', 'POST', '/members', { email: 'not-an-email' })
      assert.equal(bad.status, 400)
      assert.equal(bad.body.error.code, 'invalid_body')
      assert.equal((await call('owner', 'GET', '/members')).body.length, 6)
    })

    it('change role: owner and admin 204, member and outsider 403; the owner cannot be demoted (403)', async () => {
      const target = `/members/${m.member.user_id}`
      await expectEach({ owner: 204, admin: 204, member: 403, outsider: 403 }, (who) => call(who, 'PATCH', target, { role: who === 'owner' ? 'admin' : 'member' }))
      const roleOf = async (uid: string): Promise<string> => (await call('owner', 'GET', '/members')).body.find((x: any) => x.user_id === uid).role
      assert.equal(await roleOf(m.member.user_id), 'member', 'the admin demoted again after the owner promoted')
      for (const who of ['owner', 'admin'] as const) {
        for (const role of ['member', 'admin']) {
          const res = await call(who, 'PATCH', `/members/${m.owner.user_id}`, { role })
          assert.equal(res.status, 403, `${who} -> owner ${role}`)
          assert.equal(res.body.error.code, 'owner_immutable')
        }
      }
      const byPlatformAdmin = await withKey(colony.rt.identity.bootstrap?.apiKey ?? '', 'PATCH', `${base}/v1/teams/${m.teamId}/members/${m.owner.user_id}`, { role: 'member' })
      assert.equal(byPlatformAdmin.status, 403)
      assert.equal(await roleOf(m.owner.user_id), 'owner')
    })

    it('change role: only admin or member (400), 404 for someone not in the team', async () => {
      for (const role of ['owner', 'superuser', '', 1, null, undefined]) {
        const res = await call('owner', 'PATCH', `/members/${m.member.user_id}`, { role })
        assert.equal(res.status, 400, String(role))
        assert.equal(res.body.error.code, 'invalid_body')
      }
      const res = await call('owner', 'PATCH', `/members/${m.outsider.user_id}`, { role: 'admin' })
      assert.equal(res.status, 404)
      assert.equal(res.body.error.code, 'member_not_found')
      assert.equal((await call('owner', 'PATCH', '/members/usr-nobody', { role: 'admin' })).status, 404)
    })

    it('remove member: member and outsider 403, admin and owner 204; the owner cannot be removed; 404 when not a member', async () => {
      for (const [who, target] of [['member', m.admin.user_id], ['outsider', m.member.user_id]] as const) {
        const res = await call(who, 'DELETE', `/members/${target}`)
        assert.equal(res.status, 403, who)
        assert.equal(res.body.error.code, 'forbidden')
      }
      const platformAdmin = colony.rt.identity.bootstrap?.apiKey ?? ''
      for (const send of [() => call('owner', 'DELETE', `/members/${m.owner.user_id}`), () => call('admin', 'DELETE', `/members/${m.owner.user_id}`),
        () => withKey(platformAdmin, 'DELETE', `${base}/v1/teams/${m.teamId}/members/${m.owner.user_id}`)]) {
        const res = await send()
        assert.equal(res.status, 403)
        assert.equal(res.body.error.code, 'owner_immutable')
      }
      assert.equal((await call('member', 'GET', '')).status, 200, 'nothing was removed so far')
      assert.equal((await call('admin', 'DELETE', `/members/${m.member.user_id}`)).status, 204)
      assert.equal((await call('owner', 'DELETE', `/members/${m.admin.user_id}`)).status, 204)
      const gone = await call('owner', 'DELETE', `/members/${m.member.user_id}`)
      assert.equal(gone.status, 404)
      assert.equal(gone.body.error.code, 'member_not_found')
      assert.deepEqual((await call('owner', 'GET', '/members')).body.map((x: any) => x.user_id), [m.owner.user_id])
      const removed = await call('member', 'GET', '')
      assert.equal(removed.status, 403, 'a removed member\'s JWT no longer opens the team (roles come from the database)')
      const teams = await as(m.member.token, 'GET', `${base}/v1/teams`)
      assert.equal(teams.body.some((t: any) => t.id === m.teamId), false)
    })

    it('leave: member and admin 204; the owner cannot leave (403); the outsider 403', async () => {
      const owner = await call('owner', 'POST', '/leave')
      assert.equal(owner.status, 403)
      assert.equal(owner.body.error.code, 'owner_immutable')
      const outsider = await call('outsider', 'POST', '/leave')
      assert.equal(outsider.status, 403)
      for (const who of ['member', 'admin'] as const) {
        const res = await call(who, 'POST', '/leave')
        assert.equal(res.status, 204, who)
        assert.equal((await call(who, 'GET', '')).status, 403, `${who} has left`)
        const switchBack = await as(m[who].token, 'POST', `${base}/v1/auth/switch-team`, { team_id: m.teamId })
        assert.equal(switchBack.status, 403)
      }
      assert.deepEqual((await call('owner', 'GET', '/members')).body.map((x: any) => x.role), ['owner'])
    })

    it('a demoted admin\'s JWT (which still says admin) loses admin rights at once', async () => {
      assert.equal((await call('owner', 'PATCH', `/members/${m.admin.user_id}`, { role: 'member' })).status, 204)
      const rename = await call('admin', 'PATCH', '', { name: 'Not allowed' })
      assert.equal(rename.status, 403)
      const add = await call('admin', 'POST', '/members', { email: m.outsider.email })
      assert.equal(add.status, 403)
      assert.equal((await call('admin', 'GET', '')).status, 200, 'still a member')
    })

    it('delete team: owner only (204); then it is gone for everyone: 404, unlisted, keys revoked, no switching to it', async () => {
      const teamKey = await createKey(base, m.member.teamToken, 'team key')
      assert.equal((await withKey(teamKey.key, 'GET', `${base}/v1/teams`)).status, 200)
      for (const who of ['admin', 'member', 'outsider'] as const) {
        const res = await call(who, 'DELETE', '')
        assert.equal(res.status, 403, who)
        assert.equal(res.body.error.code, 'forbidden')
      }
      const del = await call('owner', 'DELETE', '')
      assert.equal(del.status, 204)
      for (const who of ['owner', 'admin', 'member'] as const) {
        const res = await call(who, 'GET', '')
        assert.equal(res.status, 404, who)
        assert.equal(res.body.error.code, 'team_not_found')
        const list = await as(m[who].token, 'GET', `${base}/v1/teams`)
        assert.equal(list.body.some((t: any) => t.id === m.teamId), false, who)
        const sw = await as(m[who].token, 'POST', `${base}/v1/auth/switch-team`, { team_id: m.teamId })
        assert.equal(sw.status, 404, who)
      }
      const revoked = await withKey(teamKey.key, 'GET', `${base}/v1/teams`)
      assert.equal(revoked.status, 401, "the team's API keys stop working")
      assert.equal((await call('owner', 'DELETE', '')).status, 404)
    })

    it('a platform admin (the bootstrap key) may read any team; an unknown team -> 404', async () => {
      const key = colony.rt.identity.bootstrap?.apiKey ?? ''
      const res = await withKey(key, 'GET', `${base}/v1/teams/${m.teamId}`)
      assert.equal(res.status, 200)
      assert.equal(res.body.members.length, 3)
      const unknown = await withKey(key, 'GET', `${base}/v1/teams/team-doesnotexist00`)
      assert.equal(unknown.status, 404)
      assert.equal(unknown.body.error.code, 'team_not_found')
      for (const id of ["' OR 1=1 --", 'x'.repeat(3000), '%00']) {
        assert.equal((await withKey(key, 'GET', `${base}/v1/teams/${encodeURIComponent(id)}`)).status, 404)
      }
    })

    it('team routes with a team id other than the JWT\'s -> 403 even for members (switch-team first)', async () => {
      const res = await as(m.member.token, 'GET', `${base}/v1/teams/${m.teamId}`)
      assert.equal(res.status, 403)
      assert.equal(res.body.error.code, 'forbidden')
    })
  })

  it('deleting your personal team does not lock you out: login still answers 200', async () => {
    const account = await signup(base)
    const del = await as(account.token, 'DELETE', `${base}/v1/teams/${account.team_id}`)
    assert.equal(del.status, 204, JSON.stringify(del.body))
    const login = await post(`${base}/v1/auth/login`, { email: account.email, password: account.password })
    assert.equal(login.status, 200, JSON.stringify(login.body))
    const teams = await as(login.body.token, 'GET', `${base}/v1/teams`)
    assert.notEqual(login.body.team_id, account.team_id)
    assert.deepEqual(teams.body.map((t: any) => [t.id, t.role]), [[login.body.team_id, 'owner']], 'a new personal team, owned')
  })
})
