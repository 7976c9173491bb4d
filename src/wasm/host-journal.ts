/**
 * The host-call journal: what makes a component instance's execution replayable. While a journaled call runs, every
 * non-deterministic host call (clocks, random, environment, linked-provider calls) is either executed live and
 * recorded, or answered from a recording instead of executed. Types here are shared by both threads; a JournalRun
 * lives in the instance's worker for the length of one call (see worker.ts and journal-wasi.ts).
 */
import { canonicalJson } from './journal-codec.js'

/**
 * One non-deterministic host call, JSON-safe (u64/s64 as decimal strings, bytes as base64 strings, wall-clock
 * datetime as {seconds: "<u64>", nanoseconds: n}; linked-provider values in journal-codec's tagged form).
 * `interface` is the versionless WIT interface id (`wasi:clocks/wall-clock`), `function` the WIT function name
 * (`now`, `get-random-bytes`; for a provider the adapter's method: `get`, `set`, `open`, `publish`, ...).
 * `request` is the list of arguments; a provider call's `response` is `{ok: value}` or `{err: message}`.
 */
export interface HostCallRecord { interface: string, function: string, request: unknown, response: unknown }

/** Per call: record the live host calls; optionally feed recorded ones first (replay), then continue live. */
export interface CallJournal { record: boolean, replay?: HostCallRecord[] }

/**
 * Where a replay left the recorded path: the call at `index` (0-based within the call's replay records) is not the
 * recorded one (both set), made more host calls than were recorded (no `expected`, in a strict replay), or the call
 * ended before using all of them (no `actual`).
 */
export interface Divergence {
  index: number
  expected?: HostCallRecord
  actual?: { interface: string, function: string, request: unknown }
}

/** Thrown from a host import to stop a guest that left the recorded path; the call ends as `diverged`. */
export class ReplayDiverged extends Error {
  constructor (readonly divergence: Divergence, message: string) {
    super(message)
  }
}

/**
 * One call's journal in the worker. `strict` (a batch replay): running out of records is a divergence; otherwise
 * the call continues live from there, recording if asked (an invocation that crashed half-way resumes this way).
 */
export class JournalRun {
  readonly recorded: HostCallRecord[] = []
  consumed = 0
  diverged: ReplayDiverged | undefined

  constructor (private readonly record: boolean, private readonly replay: HostCallRecord[], private readonly strict: boolean) {}

  /**
   * One journaled host call. `request` is already JSON-safe; `live` executes it; `encode`/`decode` convert its
   * result to and from the recorded JSON-safe response.
   */
  call<T> (iface: string, fn: string, request: unknown, live: () => T, encode: (v: T) => unknown, decode: (json: unknown) => T): T {
    if (this.diverged !== undefined) throw this.diverged
    const index = this.consumed
    const expected = this.replay[index]
    if (expected !== undefined) {
      if (expected.interface !== iface || expected.function !== fn || canonicalJson(expected.request) !== canonicalJson(request)) {
        throw this.diverge({ index, expected, actual: { interface: iface, function: fn, request } },
          `host call ${index} is ${iface}.${fn}(${canonicalJson(request)}) but the recording has ` +
          `${expected.interface}.${expected.function}(${canonicalJson(expected.request)})`)
      }
      this.consumed++
      return decode(expected.response)
    }
    if (this.strict) {
      throw this.diverge({ index, actual: { interface: iface, function: fn, request } },
        `more host calls than recorded: call ${index} (${iface}.${fn}) has no recording`)
    }
    const value = live()
    if (this.record) this.recorded.push({ interface: iface, function: fn, request, response: encode(value) })
    return value
  }

  /** After the call: a replay that did not use every record diverged too. */
  finish (): void {
    if (this.diverged === undefined && this.consumed < this.replay.length) {
      const expected = this.replay[this.consumed] as HostCallRecord
      this.diverge({ index: this.consumed, expected },
        `fewer host calls than recorded: ${this.consumed} of ${this.replay.length} were made (next recorded: ${expected.interface}.${expected.function})`)
    }
  }

  private diverge (divergence: Divergence, message: string): ReplayDiverged {
    this.diverged = new ReplayDiverged(divergence, `replay diverged: ${message}`)
    return this.diverged
  }
}
