/**
 * The synchronous host-call channel between a component's worker and the main thread (src/wasm/rpc.ts), driven
 * by hand from a real worker thread so the main side can misbehave on purpose.
 */
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import { answer, createRpcBuffer, takeRequest } from '../../../src/wasm/rpc.js'

const RPC_URL = new URL('../../../src/wasm/rpc.js', import.meta.url).href

/** A worker making `calls` host calls in a row; posts 'rpc' per call and finally its results (or errors). */
function caller (buffer: SharedArrayBuffer, calls: number, timeoutMs: number): Worker {
  return new Worker(`
    const { parentPort, workerData } = require('node:worker_threads')
    import(workerData.rpcUrl).then(({ callHost }) => {
      const results = []
      for (let i = 0; i < workerData.calls; i++) {
        try {
          results.push(callHost(workerData.buffer, () => parentPort.postMessage('rpc'), { iface: 'test', method: 'echo', args: [i] }, workerData.timeoutMs))
        } catch (err) {
          results.push('error: ' + err.message)
        }
      }
      parentPort.postMessage({ results })
    })
  `, { eval: true, workerData: { rpcUrl: RPC_URL, buffer, calls, timeoutMs } })
}

function finished (worker: Worker): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    worker.on('message', (m: unknown) => { if (typeof m === 'object' && m !== null) resolve((m as { results: unknown[] }).results) })
    worker.on('error', reject)
  })
}

describe('wasm/rpc', function () {
  it('a late notify (left over from the previous call) does not end the wait: the worker waits for the answer', async function () {
    const buffer = createRpcBuffer(1024)
    const worker = caller(buffer, 3, 5_000)
    const control = new Int32Array(buffer, 0, 2)
    try {
      const done = finished(worker)
      worker.on('message', (m: unknown) => {
        if (m !== 'rpc') return
        const request = takeRequest(buffer)
        assert.ok(request !== undefined)
        // What the main thread does when it stores an answer and is then descheduled before notifying: the
        // notify lands on the worker's next wait. Here it comes first, on purpose, and the answer a bit later.
        Atomics.notify(control, 0)
        setTimeout(() => answer(buffer, { ok: true, value: (request.args[0] as number) * 10 }), 20)
      })
      assert.deepEqual(await done, [0, 10, 20])
    } finally {
      await worker.terminate()
    }
  })

  it('a call the main thread does not answer in time fails with a timeout, and a late answer is dropped', async function () {
    const buffer = createRpcBuffer(1024)
    const worker = caller(buffer, 2, 50)
    try {
      const done = finished(worker)
      let n = 0
      worker.on('message', (m: unknown) => {
        if (m !== 'rpc') return
        const request = takeRequest(buffer)
        assert.ok(request !== undefined)
        const first = n++ === 0
        // The first answer comes after the worker gave up: it must not be taken for the second call's answer.
        setTimeout(() => answer(buffer, { ok: true, value: `late ${String(request.args[0])}` }), first ? 200 : 0)
      })
      const results = await done
      assert.match(String(results[0]), /^error: host call test\.echo timed out after 50 ms$/)
      assert.equal(results[1], 'late 1')
    } finally {
      await worker.terminate()
    }
  })
})
