/**
 * `npm run bench [-- NAME... --rounds N --window S]`: runs the kernel benchmarks one after the other and
 * prints, for each, its table and its RATIO against a baseline measured in the same run (the machine is
 * noisy: only same-run ratios mean anything). Not part of `npm test`. Every server listens on a free
 * port, every child process is closed, and the process ends by itself.
 */
import { mkdirSync, readdirSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { brokerBench } from './broker.js'
import { heartbeatBench } from './heartbeat.js'
import { httpBench } from './http.js'
import { journalBench } from './journal.js'
import { natsBench } from './nats.js'
import { nginxBench } from './nginx.js'
import { oplogBench } from './oplog.js'
import { retainedBench } from './retained.js'
import { wasmBench } from './wasm.js'
import { workersBench } from './durable.js'
import { capsulesBench } from './capsules.js'
import { channelsBench } from './channels.js'
import { cpuShares, machineCpu, type MachineCpu } from './lib/proc.js'
import { readProfile, renderProfile, summarizeProfile } from './lib/profile.js'
import { DEFAULT_ROUNDS, missedTargets, renderTable, renderVerdict, type Bench, type BenchReport, type Verdict } from './lib/report.js'

const BENCHES: Bench[] = [heartbeatBench, brokerBench, httpBench, wasmBench, journalBench, natsBench, nginxBench, retainedBench, oplogBench, workersBench, capsulesBench, channelsBench]

const USAGE = `Usage: node dist/test/bench/run.js [${BENCHES.map((b) => b.name).join('|')}]... [--rounds N] [--window S]

${BENCHES.map((b) => `  ${b.name.padEnd(10)} ${b.description}`).join('\n')}

  --rounds N   repetitions of each measurement, contenders in an order rotated per round; median (min..max) reported
               (default ${DEFAULT_ROUNDS}; ${BENCHES.filter((b) => b.defaultRounds !== undefined).map((b) => `${b.name} ${String(b.defaultRounds)}`).join(', ')})
  --window S   seconds per measurement window (default: heartbeat 6, broker 3, http 4, nginx 5, retained 4, oplog 2; wasm and nats count calls instead)
  --check      exit 1 when any ratio misses its target (or could not be measured); needs at least 3 rounds
  --profile D  every process a bench starts writes a V8 CPU profile into directory D (open one in Chrome DevTools
               or speedscope for the flame graph); the top frames of each are printed after the bench

Mosquitto and wrk are used when installed (scripts/bench-deps.sh); nats and nginx need nats-server and nginx (scripts/setup.sh).`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string' },
    window: { type: 'string' },
    check: { type: 'boolean', default: false },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
const roundsGiven = values.rounds === undefined ? undefined : Number(values.rounds)
const windowS = values.window === undefined ? undefined : Number(values.window)
const unknown = positionals.filter((p) => !BENCHES.some((b) => b.name === p))
const check = values.check === true
const tooFew = roundsGiven !== undefined && roundsGiven < 3
if (values.help === true || unknown.length > 0 || (roundsGiven !== undefined && !(roundsGiven >= 1)) || (check && tooFew) || (windowS !== undefined && !(windowS >= 1))) {
  if (unknown.length > 0) process.stderr.write(`unknown benchmark: ${unknown.join(', ')}\n\n`)
  if (check && tooFew) process.stderr.write('--check needs at least 3 rounds: one round says nothing about noise\n\n')
  process.stdout.write(`${USAGE}\n`)
  process.exitCode = values.help === true ? 0 : 2
} else {
  const selected = positionals.length === 0 ? BENCHES : BENCHES.filter((b) => positionals.includes(b.name))
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile)
  if (profileDir !== undefined) {
    mkdirSync(profileDir, { recursive: true })
    // Read by startWorker: each worker it forks runs with --cpu-prof into this directory.
    process.env.BENCH_CPU_PROF = profileDir
  }
  const allVerdicts: Verdict[] = []
  const cpuAtRunStart = machineCpu()
  const profiled = new Set<string>()
  for (const bench of selected) {
    process.stdout.write(`\n=== ${bench.name}: ${bench.description}\n`)
    // The machine is shared: a busy one slows every contender, and the load says how busy it was.
    process.stdout.write(`load average at start: ${loadLine()}\n`)
    if ((loadavg()[0] ?? 0) > availableParallelism()) {
      process.stdout.write('warning: the machine is busy (more runnable processes than cores): expect wide min..max and unsteady ratios\n')
    }
    process.stdout.write('\n')
    const started = performance.now()
    const cpuAtStart = machineCpu()
    const rounds = roundsGiven ?? bench.defaultRounds ?? DEFAULT_ROUNDS
    let report: BenchReport
    try {
      report = await bench.run({ rounds, windowS })
    } catch (err) {
      process.stdout.write(`FAILED: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
      process.exitCode = 1
      continue
    }
    for (const table of report.tables) process.stdout.write(`${renderTable(table)}\n\n`)
    for (const v of report.verdicts) process.stdout.write(`${renderVerdict(v)}\n`)
    for (const note of report.notes) process.stdout.write(`note: ${note}\n`)
    if (profileDir !== undefined) printProfiles(profileDir, profiled)
    process.stdout.write(`load average at end: ${loadLine()}; ${sharesLine(cpuAtStart)}\n`)
    process.stdout.write(`(${bench.name} took ${((performance.now() - started) / 1000).toFixed(0)} s, ${rounds} rounds)\n`)
    allVerdicts.push(...report.verdicts)
  }
  if (allVerdicts.length > 0) {
    process.stdout.write(`\n=== summary (load average now ${loadLine()}; over the whole run ${sharesLine(cpuAtRunStart)})\n${allVerdicts.map(renderVerdict).join('\n')}\n`)
  }
  const missed = missedTargets(allVerdicts)
  if (check) {
    process.stdout.write(missed.length === 0
      ? '\ncheck: every ratio meets its target\n'
      : `\ncheck: ${missed.length} of ${allVerdicts.filter((v) => v.target !== undefined || v.targetMax !== undefined).length} targets missed:\n${missed.map((v) => `  ${v.name}`).join('\n')}\n`)
    if (missed.length > 0) process.exitCode = 1
  }
}

/** Prints the top frames of every profile in `dir` not printed before (a bench's workers write one each as they exit). */
function printProfiles (dir: string, done: Set<string>): void {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && !done.has(f)).sort()) {
    done.add(file)
    process.stdout.write(`\n${renderProfile(file, summarizeProfile(readProfile(join(dir, file))))}\n`)
  }
}

/** Steal and iowait since `since`, as shares of the machine's CPU time. */
function sharesLine (since: MachineCpu | undefined): string {
  const shares = cpuShares(since, machineCpu())
  if (shares === undefined) return 'CPU steal not readable'
  return `CPU stolen by the hypervisor ${(shares.steal * 100).toFixed(1)} %, waiting on the disk ${(shares.iowait * 100).toFixed(1)} %`
}

function loadLine (): string {
  return `${loadavg().map((x) => x.toFixed(2)).join(' ')} (1/5/15 min) on ${availableParallelism()} cores`
}
