import assert from 'node:assert/strict'
import { bySpecificity, matchPath, parsePath, PathError, splitPath } from '../../../src/gateway/paths.js'

describe('gateway: route path patterns', () => {
  it('parses literal segments, {var}, {+rest} and ?{query} variables, with a method-less shape', () => {
    const p = parsePath('/users/{user-id}/files/{+rest}')
    assert.deepEqual(p.segments, [{ kind: 'literal', text: 'users' }, { kind: 'var', name: 'user-id' }, { kind: 'literal', text: 'files' }, { kind: 'rest', name: 'rest' }])
    assert.equal(p.shape, '/users/{}/files/{+}')
    const q = parsePath('/search?{q}&{limit}')
    assert.deepEqual(q.query, ['q', 'limit'])
    assert.equal(q.shape, '/search')
    assert.equal(parsePath('/').shape, '/')
  })

  it('refuses what it cannot serve, naming the column', () => {
    const column = (source: string): number => {
      try {
        parsePath(source)
      } catch (err) {
        assert.ok(err instanceof PathError)
        return err.column
      }
      assert.fail(source)
    }
    assert.equal(column('users'), 1)
    assert.equal(column('/a//b'), 4)
    assert.equal(column('/a/'), 4)
    assert.equal(column('/a/{b c}'), 4)
    assert.equal(column('/a?q'), 4)
    assert.equal(column('/a?{q}&{q}'), 8)
    assert.equal(column('/a/{x}?{x}'), 8)
  })

  it('matches decoded segments; {+rest} takes the rest (possibly nothing); a segment that does not decode matches nothing', () => {
    const p = parsePath('/counters/{name}')
    assert.deepEqual(matchPath(p, splitPath('/counters/a%20b')!), { name: 'a b' })
    assert.equal(matchPath(p, splitPath('/counters')!), undefined)
    assert.equal(matchPath(p, splitPath('/counters/a/b')!), undefined)
    assert.equal(matchPath(p, splitPath('/other/a')!), undefined)
    const r = parsePath('/files/{+path}')
    assert.deepEqual(matchPath(r, splitPath('/files/a/b/c.txt')!), { path: 'a/b/c.txt' })
    assert.deepEqual(matchPath(r, splitPath('/files')!), { path: '' })
    assert.equal(splitPath('/files/%ZZ'), undefined)
    assert.deepEqual(matchPath(parsePath('/'), splitPath('/')!), {})
  })

  it('orders the most specific first: literal, then variable, then catch-all', () => {
    const patterns = ['/c/{+rest}', '/c/{id}', '/c/new', '/c/{id}/x'].map(parsePath)
    assert.deepEqual([...patterns].sort(bySpecificity).map((p) => p.source), ['/c/new', '/c/{id}/x', '/c/{id}', '/c/{+rest}'])
  })
})
