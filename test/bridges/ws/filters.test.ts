import assert from 'node:assert/strict'
import { topicFilters } from '../../../bridges/ws/filters.js'
import { isColonyError } from '../../../src/errors.js'

function refusal (url: string): string {
  try {
    topicFilters(url)
  } catch (err) {
    assert.ok(isColonyError(err))
    assert.equal(err.code, 'invalid_topic_filter')
    assert.equal(err.status, 400)
    return err.message
  }
  assert.fail(`${url} was accepted`)
}

describe('/ws ?topics= parsing', () => {
  it('keeps + literal (no form decoding) and reads %23 as #', () => {
    assert.deepEqual(topicFilters('/ws?topics=agents/+/heartbeat'), ['agents/+/heartbeat'])
    assert.deepEqual(topicFilters('/ws?topics=agents/+/heartbeat,system/%23'), ['agents/+/heartbeat', 'system/#'])
    assert.deepEqual(topicFilters('/ws?topics=a/%2B/b'), ['a/+/b'])
    assert.deepEqual(topicFilters('/ws?topics=room%201/temp'), ['room 1/temp'])
  })

  it('no parameter is everything; several parameters add up; other parameters are ignored', () => {
    assert.deepEqual(topicFilters('/ws'), ['#'])
    assert.deepEqual(topicFilters('/ws?token=a+b'), ['#'])
    assert.deepEqual(topicFilters('/ws?topics=a/+&token=x&topics=b/%23'), ['a/+', 'b/#'])
    assert.deepEqual(topicFilters('/ws?topics=a/+, b/c ,'), ['a/+', 'b/c'])
  })

  it('a fragment is never part of the filter', () => {
    assert.deepEqual(topicFilters('/ws?topics=a/b#ignored'), ['a/b'])
  })

  it('refuses what MQTT refuses, naming the filter', () => {
    assert.match(refusal('/ws?topics=a/%23/b'), /"a\/#\/b" is not a valid MQTT topic filter/)
    assert.match(refusal('/ws?topics=a+/b'), /"a\+\/b"/)
    assert.match(refusal('/ws?topics=a/b%23'), /"a\/b#"/)
    assert.match(refusal('/ws?topics=a/%00'), /"a\/\\u0000"/)
    assert.match(refusal('/ws?topics='), /topics is empty.*%23/)
    assert.match(refusal('/ws?topics=,,'), /topics is empty/)
    assert.match(refusal('/ws?topics'), /topics is empty/)
    assert.match(refusal('/ws?topics=%E0%A4%A'), /not valid percent-encoding/)
    assert.match(refusal(`/ws?topics=${Array.from({ length: 65 }, (_, i) => `t${i}`).join(',')}`), /65 filters/)
  })

  it('empty levels are legal MQTT and accepted', () => {
    assert.deepEqual(topicFilters('/ws?topics=/a//b/'), ['/a//b/'])
    assert.deepEqual(topicFilters('/ws?topics=+/+'), ['+/+'])
  })
})
