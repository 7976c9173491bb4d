import { ColonyError } from '../errors.js'
import type { ComponentMetadata, WitFunction } from '../wasm/types.js'
import { exportPath, fromGuest, toGuest } from '../wasm/values.js'
import { invokeResult, resolveFunction } from './golem.js'
import type { CallOutcome } from '../wasm/worker.js'

/** A call ready for an instance: where the function sits in jco's exports, and its jco-ready arguments. */
export interface PreparedCall {
  fn: WitFunction
  /** `local:adder/math.{add}` — the name the result reports. */
  qualified: string
  path: string[]
  args: unknown[]
  returnsResult: boolean
}

/** The answer to an invocation, for REST (Golem's shape plus the output) and MQTT. */
export interface InvokeOutcome {
  function: string
  /** The result as JSON (Golem's value convention). */
  value: unknown
  /** Golem's invoke-and-await `result`: `{typ: {type: 'Tuple', items}, value: [...]}`. */
  result: unknown
  stdout: string
  stderr: string
}

export function qualifiedName (fn: WitFunction): string {
  return fn.interface === undefined ? fn.name : `${fn.interface}.{${fn.name}}`
}

/** Resolves `name` among the exports and checks and converts the JSON parameters; 400/404 errors name what is wrong. */
export function prepareCall (metadata: ComponentMetadata, name: string, params: unknown): PreparedCall {
  const fn = resolveFunction(metadata, name)
  if (!Array.isArray(params)) throw new ColonyError('invalid_params', 'params must be an array (one entry per parameter)')
  const unsupported = [...fn.params.map((p) => p.type), ...(fn.result === undefined ? [] : [fn.result])].find((t) => t.kind === 'own' || t.kind === 'borrow')
  if (unsupported !== undefined) throw new ColonyError('invalid_params', `${qualifiedName(fn)} takes or returns a resource handle and cannot be invoked with JSON`)
  if (params.length !== fn.params.length) {
    throw new ColonyError('invalid_params', `${qualifiedName(fn)} takes ${fn.params.length} parameter${fn.params.length === 1 ? '' : 's'} ` +
      `(${fn.params.map((p) => p.name).join(', ') || 'none'}); got ${params.length}`, { details: { expected: fn.params.length, got: params.length } })
  }
  // Golem clients may send typed values `{typ, value}`: the value is what counts, the type is the export's.
  const args = fn.params.map((p, i) => toGuest(p.type, unwrapTyped(params[i]), p.name))
  const path = exportPath(fn)
  return { fn, qualified: qualifiedName(fn), path, args, returnsResult: fn.result?.kind === 'result' }
}

function unwrapTyped (value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'typ' in value && 'value' in value && Object.keys(value).length === 2) {
    return (value as { value: unknown }).value
  }
  return value
}

/** Turns an instance's outcome into JSON; a trap or an exit is `invoke_failed` with the captured output. */
export function finishCall (call: PreparedCall, outcome: CallOutcome): InvokeOutcome {
  if (!outcome.ok && outcome.kind === 'diverged') {
    throw new ColonyError('replay_diverged', `${call.qualified}: ${outcome.message}`, {
      details: { divergence: outcome.divergence, stdout: outcome.stdout, stderr: outcome.stderr },
    })
  }
  if (!outcome.ok) {
    throw new ColonyError('invoke_failed', `${call.qualified} ${outcome.kind === 'exit' ? 'exited' : 'trapped'}: ${outcome.message}`, {
      details: { stdout: outcome.stdout, stderr: outcome.stderr },
    })
  }
  const type = call.fn.result
  let value: unknown = null
  if ('err' in outcome) {
    if (type?.kind !== 'result') throw new ColonyError('invoke_failed', `${call.qualified} threw a value but does not return a result`)
    value = fromGuest(type, { tag: 'err', val: outcome.err })
  } else if (type !== undefined) {
    value = fromGuest(type, type.kind === 'result' ? { tag: 'ok', val: outcome.value } : outcome.value)
  }
  return {
    function: call.qualified,
    value,
    result: invokeResult(call.fn, value).result,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
  }
}
