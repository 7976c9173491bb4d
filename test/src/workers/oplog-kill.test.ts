import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../../src/store/index.js'
import { Oplog } from '../../../src/workers/oplog-entries.js'
import { OplogWriter } from '../../../src/workers/oplog-writer.js'

const APPENDER = new URL('../../helpers/oplog-appender.js', import.meta.url).pathname

interface Ack { seq: number, first: number, last: number, tag: string, completes: boolean }

describe('oplog appends acknowledged before a kill -9 are all there, whole', () => {
  let dir: string
  let child: ChildProcess | undefined

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'colony-oplog-kill-')) })
  afterEach(() => {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  /** Runs the appender until it acknowledged `acks` appends, then SIGKILLs it and returns what it acknowledged. */
  async function runAndKill (file: string, acks: number): Promise<Ack[]> {
    const proc = spawn(process.execPath, [APPENDER, file], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    const seen: Ack[] = []
    let stderr = ''
    proc.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('close', (_code, signal) => resolve(signal)))
    await new Promise<void>((resolve, reject) => {
      let rest = ''
      proc.stdout.on('data', (chunk: Buffer) => {
        rest += chunk.toString()
        const lines = rest.split('\n')
        rest = lines.pop() ?? ''
        for (const line of lines) {
          const m = /^ack (\d+) (\d+) (\d+) (\S+) ([01])$/.exec(line)
          if (m === null) continue
          seen.push({ seq: Number(m[1]), first: Number(m[2]), last: Number(m[3]), tag: m[4]!, completes: m[5] === '1' })
          // The kill lands in the middle of whatever the child does next: a batch being built, committed or answered.
          if (seen.length === acks) {
            proc.kill('SIGKILL')
            resolve()
          }
        }
      })
      void exited.then(() => reject(new Error(`the appender exited early: ${stderr}`)))
    })
    assert.equal(await exited, 'SIGKILL')
    child = undefined
    return seen
  }

  it('three random kills: every acknowledged entry and key is stored, every oplog is contiguous from 1, nothing half-written', async function () {
    this.timeout(60_000)
    const file = join(dir, 'colony.db')
    const setup = Store.open({ file, synchronous: 'full' })
    const writer = new OplogWriter(setup.oplog)
    for (let i = 0; i < 6; i++) {
      const w = setup.workers.insert({ componentId: 'comp', name: `w${i}`, teamId: null, componentVersion: 0, args: [], env: {}, createdAtMs: 1 })
      writer.appendNow(w.seq, [Oplog.create({ workerId: { componentId: 'comp', workerName: w.name }, componentVersion: 0, accountId: 'a', componentSize: 1, initialTotalLinearMemorySize: 1 })])
    }
    setup.close()

    const acknowledged: Ack[] = []
    for (let round = 0; round < 3; round++) {
      const acks = 200 + Math.floor(Math.random() * 1500)
      acknowledged.push(...await runAndKill(file, acks))

      const store = Store.open({ file, synchronous: 'full' })
      try {
        assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok')
        for (const w of store.workers.listAll()) {
          const rows = store.oplog.read(w.seq, 1, 1_000_000)
          assert.deepEqual(rows.map((r) => r.idx), Array.from({ length: rows.length }, (_, i) => i + 1), `worker ${w.seq}: contiguous from 1`)
          const byIdx = new Map(rows.map((r) => [r.idx, JSON.parse(r.entry)]))
          assert.equal(byIdx.get(1)?.type, 'Create')
          // Whole appends only: every entry of an append is there with its siblings, in order.
          const appends = new Map<string, number[]>()
          for (const [idx, e] of byIdx) {
            if (e.type !== 'Log') continue
            const [, tag, k] = String(e.message).split(':')
            appends.set(tag!, [...(appends.get(tag!) ?? []), Number(k), idx])
          }
          for (const [tag, parts] of appends) {
            const ks = parts.filter((_, i) => i % 2 === 0)
            const size = 1 + (Number(tag.split('-').at(-1)) % 3)
            assert.deepEqual(ks, Array.from({ length: size }, (_, i) => i), `append ${tag} of worker ${w.seq} is whole`)
          }
        }
        for (const a of acknowledged) {
          const rows = store.oplog.read(a.seq, a.first, a.last - a.first + 1)
          assert.deepEqual(rows.map((r) => [r.idx, JSON.parse(r.entry).message]),
            Array.from({ length: a.last - a.first + 1 }, (_, k) => [a.first + k, `${a.seq}:${a.tag}:${k}`]), `acknowledged append ${a.tag} is stored`)
          if (a.completes) {
            const key = store.oplog.invocation(a.seq, `${a.seq}:${a.tag}`)
            assert.equal(key?.state, 'completed')
            assert.equal(key.completedIndex, a.last)
          }
        }
      } finally {
        store.close()
      }
    }
    assert.ok(acknowledged.length >= 600)
  })
})
