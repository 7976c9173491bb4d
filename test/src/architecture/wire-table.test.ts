import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { ALERT_CODES } from '../../../src/wire/alert-codes.js'
import { ERROR_CODES } from '../../../src/errors.js'
import type { AlertExtra } from '../../../src/actor/types.js'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const SCANNED = ['src', 'actors', 'bridges']
const WIRE = join('src', 'wire')

/**
 * A topic written out by hand: `agents/…` or `system/…` opening a string or a regex alternative, or following a space
 * when more of a topic follows (prose such as "agents/ topics" is not one); `io/chat`; `$colony/…`.
 */
const TOPIC_LITERAL = /(?:^|[\s|(^])(?:agents|system)\/(?![\s,)])|io\/chat|\$colony\//

/** Codes only the alert table has (codes shared with the error table are written as error codes elsewhere). */
const ALERT_ONLY = new Set<string>(Object.values(ALERT_CODES).filter((code) => !(code in ERROR_CODES)))

function sourceFiles (dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return path === WIRE ? [] : sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

interface Literal { file: string, line: number, text: string }

/** Every string literal and template chunk of the kernel, actors and bridges outside `src/wire/` (import paths aside). */
function literals (): Literal[] {
  const out: Literal[] = []
  for (const file of SCANNED.flatMap(sourceFiles)) {
    const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return
      const line = (): number => source.getLineAndCharacterOfPosition(node.getStart()).line + 1
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) ||
          ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
        out.push({ file, line: line(), text: node.text })
      } else if (ts.isRegularExpressionLiteral(node)) {
        out.push({ file, line: line(), text: node.text.replaceAll('\\/', '/') })
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return out
}

const where = (l: Literal): string => `${l.file}:${l.line} ${JSON.stringify(l.text)}`

describe('architecture: one wire table (src/wire/)', () => {
  const all = literals()

  it('scans the kernel, the actors and the bridges (a scan that reads nothing proves nothing)', () => {
    const files = new Set(all.map((l) => l.file.split('/')[0]))
    assert.deepEqual([...files].sort(), ['actors', 'bridges', 'src'])
    assert.ok(all.length > 1000, `only ${all.length} literals found`)
  })

  it('no MQTT topic is written out outside src/wire/: every one comes from its builders and parsers', () => {
    const found = all.filter((l) => TOPIC_LITERAL.test(l.text))
    assert.deepEqual(found.map(where), [], 'build these topics with src/wire/topics.ts')
  })

  it('the topic pattern catches the forms a topic is written in (so the scan above can fail)', () => {
    const caught = [
      'agents/+/chat', 'system/lattice/ctl', 'system/', 'replyTo must be below agents/', 'lines appear on agents/{component}/logs.',
      'io/chat', '$colony/ws/dropped', '/^(\\$|system/|agents/|[+#])/',
    ]
    for (const text of caught) assert.ok(TOPIC_LITERAL.test(text), text)
    for (const text of ['/api/actors', '../actor/system.js', 'subagents/x', 'system', 'on $, system/ or agents/ topics']) {
      assert.ok(!TOPIC_LITERAL.test(text), text)
    }
  })

  it('no alert code is written out outside src/wire/: alerts take theirs from ALERT_CODES', () => {
    const found = all.filter((l) => ALERT_ONLY.has(l.text))
    assert.deepEqual(found.map(where), [], 'use ALERT_CODES from src/wire/alert-codes.ts')
  })

  it('alert codes are unique snake_case, and every one is listed in the README', () => {
    const codes = Object.values(ALERT_CODES)
    assert.equal(new Set(codes).size, codes.length)
    for (const code of codes) assert.match(code, /^[a-z]+(?:_[a-z]+)*$/)
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const start = readme.indexOf('Alert codes on `agents/{id}/alert`')
    assert.ok(start > 0, 'the README has its alert code list')
    const paragraph = readme.slice(start, readme.indexOf('\n\n', start))
    const listed = [...paragraph.matchAll(/`([a-z_]+)`/g)].map((m) => m[1])
    assert.deepEqual(listed.sort(), [...codes].sort(), 'the README lists exactly the ALERT_CODES table')
  })

  it('an alert code is typed: a free string does not compile', () => {
    // @ts-expect-error -- not in ALERT_CODES nor in the error table; the build fails if this ever compiles
    const free: AlertExtra = { code: 'made_up_code' }
    const fromTable: AlertExtra = { code: ALERT_CODES.heartbeatMissing }
    const fromErrors: AlertExtra = { code: 'mailbox_full' }
    assert.deepEqual([free.code, fromTable.code, fromErrors.code], ['made_up_code', 'heartbeat_missing', 'mailbox_full'])
  })
})
