/**
 * `npm run bench:compare -- A.log B.log [--tolerance 0.15] [--markdown]`: do two saved `npm run bench` outputs agree? Prints every
 * figure of both runs side by side and exits 1 when a ratio is more than the tolerance apart or missing in one run
 * (absolute figures are listed, not judged: see lib/compare.ts). Exit 2 on a usage error or an unreadable file.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { compareRuns, disagreeing, parseRun, renderComparison, renderMarkdown } from './lib/compare.js'

const USAGE = 'Usage: node dist/test/bench/compare.js A.log B.log [--tolerance 0.15] [--markdown]\n' +
  '  A.log, B.log  the saved output of two full runs (npm run bench | tee A.log)\n' +
  '  --markdown    print the comparison as a Markdown table (the README\'s)\n'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { tolerance: { type: 'string' }, markdown: { type: 'boolean', default: false } } })
const tolerance = values.tolerance === undefined ? 0.15 : Number(values.tolerance)
if (positionals.length !== 2 || !(tolerance >= 0)) {
  process.stderr.write(USAGE)
  process.exitCode = 2
} else {
  try {
    const [a, b] = positionals.map((file) => parseRun(readFileSync(file, 'utf8'))) as [ReturnType<typeof parseRun>, ReturnType<typeof parseRun>]
    if (a.size === 0 || b.size === 0) throw new Error(`no RATIO lines in ${a.size === 0 ? positionals[0] : positionals[1]}: not the output of npm run bench`)
    const comparison = compareRuns(a, b, tolerance)
    // Columns named after the files: runF.log -> runF.
    const labels = positionals.map((file) => basename(file).replace(/\.[^.]*$/, '')) as [string, string]
    process.stdout.write(`${values.markdown === true ? renderMarkdown(comparison, labels) : renderComparison(comparison)}\n`)
    process.exitCode = disagreeing(comparison).length === 0 ? 0 : 1
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 2
  }
}
