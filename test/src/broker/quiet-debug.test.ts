import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { installQuietDebug } from '../../../src/broker/quiet-debug.js'

type Logger = ((...args: unknown[]) => void) & { enabled: boolean, namespace: string, log: (...args: unknown[]) => void, extend(ns: string): Logger }
interface Debug { (namespace: string): Logger, enable(namespaces: string): void, disable(): string, enabled(namespace: string): boolean }

describe('quiet debug loggers', () => {
  const require = createRequire(import.meta.url)
  let debug: Debug
  let enabledBefore: string
  before(() => {
    installQuietDebug() // already installed by the runtime's import; a second call changes nothing
    debug = require('debug') as Debug
    enabledBefore = debug.disable()
  })
  after(() => { debug.enable(enabledBefore) })

  it('a logger made after the install is the quiet one: off, it passes nothing on; on, it logs what it was given', () => {
    const logger = debug('colony-test:quiet')
    assert.equal(logger.name, 'quietDebug')
    assert.equal(logger.namespace, 'colony-test:quiet')
    const lines: unknown[][] = []
    logger.log = (...args: unknown[]) => { lines.push(args) }
    assert.equal(logger.enabled, false)
    logger('not shown %s', 'at all')
    assert.equal(lines.length, 0)

    debug.enable('colony-test:*')
    assert.equal(logger.enabled, true)
    logger('shown %s and %d', 'this', 7)
    assert.equal(lines.length, 1)
    // debug prefixes the format string and hands the arguments to its log function as they were given.
    assert.match(String(lines[0]?.[0]), /colony-test:quiet shown %s and %d/)
    assert.deepEqual(lines[0]?.slice(1), ['this', 7], 'the trailing arguments it was not given are not passed on')

    debug.disable()
    assert.equal(logger.enabled, false)
    logger('off again')
    assert.equal(lines.length, 1)
  })

  it('setting enabled on a logger reaches the real one, and extend makes a working child', () => {
    debug.disable()
    const logger = debug('colony-test:forced')
    const lines: unknown[][] = []
    logger.log = (...args: unknown[]) => { lines.push(args) }
    logger.enabled = true
    logger('forced on')
    assert.equal(lines.length, 1)
    // Forced off, it stays off when the namespaces say on; set back to null, the namespaces decide again.
    logger.enabled = false
    debug.enable('colony-test:*')
    logger('forced off')
    assert.equal(lines.length, 1)
    ;(logger as { enabled: boolean | null }).enabled = null
    logger('on by namespace')
    assert.equal(lines.length, 2)
    debug.disable()
    logger('off by namespace')
    assert.equal(lines.length, 2)
    const child = logger.extend('child')
    assert.equal(child.namespace, 'colony-test:forced:child')
    assert.equal(child.enabled, false)
  })
})
