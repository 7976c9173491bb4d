import assert from 'node:assert/strict'
import { ColonyError } from '../../../src/errors.js'
import { workerFindQuery, workerListQuery } from '../../../src/workers/list-query.js'

const fails = (fn: () => unknown, code: string): void => {
  assert.throws(fn, (err: unknown) => err instanceof ColonyError && err.code === code && err.status === 400)
}

describe('worker list queries (GET .../workers parameters, POST .../workers/find body)', () => {
  it('query strings: count defaults to 50, filters AND, the cursor is kept as given', () => {
    assert.deepEqual(workerListQuery({}), { count: 50 })
    assert.deepEqual(workerListQuery({ count: '10', cursor: '0/7', filter: ['name like a', 'status = Idle'] }), {
      count: 10,
      cursor: '0/7',
      filter: { type: 'And', filters: [{ type: 'Name', comparator: 'Like', value: 'a' }, { type: 'Status', comparator: 'Equal', value: 'Idle' }] },
    })
    assert.deepEqual(workerListQuery({ filter: 'version >= 2' }).filter, { type: 'Version', comparator: 'GreaterEqual', value: 2 })
  })

  it('bad query strings: 400 with the right code', () => {
    for (const count of ['0', '1001', 'x', '', '1.5', '-1']) fails(() => workerListQuery({ count }), 'invalid_count')
    for (const cursor of ['x', '1/2', '0/']) fails(() => workerListQuery({ cursor }), 'invalid_cursor')
    fails(() => workerListQuery({ filter: 'colour = red' }), 'invalid_filter')
  })

  it('find body: tagged filter, object or string cursor, nulls are absent', () => {
    assert.deepEqual(workerFindQuery({ filter: { type: 'Name', comparator: 'Equal', value: 'a' }, cursor: { layer: 0, cursor: 4 }, count: 5 }), {
      count: 5, cursor: { layer: 0, cursor: 4 }, filter: { type: 'Name', comparator: 'Equal', value: 'a' },
    })
    assert.deepEqual(workerFindQuery({ filter: null, cursor: null, count: null }), { count: 50 })
    assert.deepEqual(workerFindQuery({ cursor: '0/3' }), { count: 50, cursor: '0/3' })
  })

  it('bad find bodies: 400 with the right code', () => {
    fails(() => workerFindQuery({ count: '5' }), 'invalid_count')
    fails(() => workerFindQuery({ count: 0 }), 'invalid_count')
    fails(() => workerFindQuery({ cursor: 5 }), 'invalid_cursor')
    fails(() => workerFindQuery({ cursor: [0, 5] }), 'invalid_cursor')
    fails(() => workerFindQuery({ cursor: { layer: 2, cursor: 5 } }), 'invalid_cursor')
    fails(() => workerFindQuery({ filter: 'name = a' }), 'invalid_filter')
  })
})
