import assert from 'node:assert/strict'
import { ColonyError, ERROR_CODES, errorBody, isColonyError, toColonyError, type ErrorCode } from '../../src/errors.js'

describe('errors', () => {
  describe('the code table', () => {
    it('has snake_case codes, HTTP error statuses and a default message for each', () => {
      const codes = Object.keys(ERROR_CODES) as ErrorCode[]
      assert.ok(codes.length >= 20)
      for (const code of codes) {
        const entry = ERROR_CODES[code]
        assert.match(code, /^[a-z]+(_[a-z]+)*$/, code)
        assert.ok(entry.status >= 400 && entry.status <= 599, `${code}: ${entry.status}`)
        assert.ok(entry.message.length > 0, code)
      }
    })

    it('only internal_error is hidden from callers', () => {
      const hidden = Object.entries(ERROR_CODES).filter(([, e]) => !e.expose).map(([c]) => c)
      assert.deepEqual(hidden, ['internal_error'])
    })

    const statuses: Array<[ErrorCode, number]> = [
      ['config_invalid', 500], ['actor_not_found', 404], ['actor_protected', 403], ['actor_invalid_state', 409],
      ['actor_name_taken', 409], ['actor_name_invalid', 400], ['mailbox_full', 503], ['wire_invalid_json', 400],
      ['wire_invalid_payload', 400], ['wire_unknown_command', 400], ['wire_payload_too_large', 413],
      ['publish_refused', 403], ['invalid_topic_filter', 400], ['body_too_large', 413], ['unsupported_media_type', 415],
      ['route_not_found', 404], ['method_not_allowed', 405], ['shutting_down', 503], ['internal_error', 500],
    ]
    for (const [code, status] of statuses) {
      it(`${code} -> ${status}`, () => {
        const err = new ColonyError(code)
        assert.equal(err.status, status)
        assert.equal(err.code, code)
      })
    }
  })

  describe('ColonyError', () => {
    it('is an Error named ColonyError with the default message of its code', () => {
      const err = new ColonyError('actor_not_found')
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'ColonyError')
      assert.equal(err.message, 'Actor not found')
      assert.equal(err.expose, true)
      assert.equal(err.details, undefined)
      assert.equal(err.cause, undefined)
      assert.ok(err.stack?.includes('ColonyError'))
    })

    it('takes a message, a status override, details and a cause', () => {
      const cause = new Error('disk full')
      const err = new ColonyError('data_dir_unusable', 'cannot write ./data', { status: 507, details: { dir: './data' }, cause })
      assert.equal(err.message, 'cannot write ./data')
      assert.equal(err.status, 507)
      assert.deepEqual(err.details, { dir: './data' })
      assert.equal(err.cause, cause)
    })

    it('isColonyError tells ColonyErrors from other values', () => {
      assert.equal(isColonyError(new ColonyError('not_ready')), true)
      assert.equal(isColonyError(new Error('x')), false)
      assert.equal(isColonyError({ code: 'not_ready', status: 503 }), false)
      assert.equal(isColonyError(undefined), false)
    })
  })

  describe('toColonyError', () => {
    it('returns a ColonyError unchanged', () => {
      const err = new ColonyError('mailbox_full')
      assert.equal(toColonyError(err), err)
    })

    it('wraps a foreign Error as internal_error, keeping it as the cause', () => {
      const foreign = new TypeError('x is not a function')
      const err = toColonyError(foreign)
      assert.ok(err instanceof ColonyError)
      assert.equal(err.code, 'internal_error')
      assert.equal(err.status, 500)
      assert.equal(err.expose, false)
      assert.equal(err.cause, foreign)
      assert.equal(err.message, 'Internal server error')
    })

    for (const value of ['a string', 42, null, undefined, { message: 'plain object' }]) {
      it(`wraps a thrown ${value === null ? 'null' : typeof value}`, () => {
        const err = toColonyError(value)
        assert.equal(err.code, 'internal_error')
        assert.equal(err.cause, value)
      })
    }
  })

  describe('errorBody', () => {
    it('shows the message and details of an exposed error', () => {
      const err = new ColonyError('invalid_body', 'kind is required', { details: { field: 'kind' } })
      assert.deepEqual(errorBody(err), { error: { code: 'invalid_body', message: 'kind is required', field: 'kind' } })
    })

    it('an exposed error without details has just code and message', () => {
      assert.deepEqual(errorBody(new ColonyError('route_not_found')), { error: { code: 'route_not_found', message: 'No such route' } })
    })

    it('hides the message and details of internal_error', () => {
      const err = new ColonyError('internal_error', 'SELECT * FROM api_keys failed: secret=abc', {
        details: { query: 'SELECT * FROM api_keys', secret: 'abc' },
      })
      const body = errorBody(err)
      assert.deepEqual(body, { error: { code: 'internal_error', message: 'Internal server error' } })
      assert.ok(!JSON.stringify(body).includes('abc'))
    })

    it('hides the message of a wrapped foreign error', () => {
      const body = errorBody(toColonyError(new Error('ECONNREFUSED 10.0.0.5:5432')))
      assert.deepEqual(body, { error: { code: 'internal_error', message: 'Internal server error' } })
    })

    it('is JSON-serializable', () => {
      const err = new ColonyError('config_invalid', 'bad', { details: { problems: ['a', 'b'] } })
      assert.deepEqual(JSON.parse(JSON.stringify(errorBody(err))), { error: { code: 'config_invalid', message: 'bad', problems: ['a', 'b'] } })
    })
  })
})
