/**
 * A child process for the oplog kill -9 test: opens the store at argv[2] (synchronous=FULL), and has every worker
 * already in it append without end through one OplogWriter, several appends in flight per worker. Each append
 * carries entries whose messages name it (`<seq>:<n>:<k>`) and, every third one, completes an idempotency key
 * `<seq>:<n>`. After an append is acknowledged (its promise resolved) it prints `ack <seq> <first> <last> <n>`.
 * The parent SIGKILLs it at some moment and checks every acknowledged append is stored, whole.
 */
import { Store } from '../../src/store/index.js'
import { Oplog } from '../../src/workers/oplog-entries.js'
import { OplogWriter } from '../../src/workers/oplog-writer.js'

const store = Store.open({ file: process.argv[2] ?? '', synchronous: 'full' })
const writer = new OplogWriter(store.oplog)
const IN_FLIGHT = 4

async function appendLoop (seq: number, lane: number): Promise<never> {
  for (let n = lane; ; n += IN_FLIGHT) {
    const tag = `${Date.now()}-${process.pid}-${n}`
    const size = 1 + (n % 3)
    const entries = Array.from({ length: size }, (_, k) => Oplog.log('Info', 'kill-test', `${seq}:${tag}:${k}`))
    const completes = n % 3 === 0
    const r = await writer.append(seq, entries, completes ? { invocation: { idempotencyKey: `${seq}:${tag}`, state: 'completed', result: { ok: n } } } : {})
    process.stdout.write(`ack ${seq} ${r.firstIndex} ${r.lastIndex} ${tag} ${completes ? 1 : 0}\n`)
  }
}

for (const w of store.workers.listAll()) {
  for (let lane = 0; lane < IN_FLIGHT; lane++) void appendLoop(w.seq, lane)
}
process.stdout.write('ready\n')
