/**
 * What a component offers: its exported functions with their WIT types, and the interfaces it imports and exports.
 * An upload that is not a component Colony can read is refused here with `component_invalid` and a message that
 * says what is wrong. jco's own `componentWit()` prints the world without the interfaces' definitions, so the
 * types are read from the binary (`component-decoder.ts`); jco's wasm-tools still check the overall structure
 * first, so that a damaged file is described in the tools' words.
 */
import { ColonyError } from '../errors.js'
import { DecodeError } from './binary.js'
import { decodeComponent } from './component-decoder.js'
import type { ComponentMetadata } from './types.js'

type MetadataShow = (bytes: Uint8Array) => Promise<unknown>
let tools: Promise<MetadataShow> | undefined

/** jco's wasm-tools take ~150 ms to load: only when the first component is inspected. */
async function metadataShow (bytes: Uint8Array): Promise<unknown> {
  tools ??= import('@bytecodealliance/jco-transpile/wasm-tools').then((m) => m.metadataShow)
  return (await tools)(bytes)
}

function firstLine (err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'unknown error'
}

function hex (bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')
}

/** Tells a component from a core module or from something else by its first 8 bytes. */
export function checkPreamble (bytes: Uint8Array): void {
  if (bytes.length === 0) throw new ColonyError('component_invalid', 'the component is empty (0 bytes)')
  if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new ColonyError('component_invalid', 'not WebAssembly: the file does not start with the "\\0asm" magic bytes')
  }
  const versionLayer = bytes.subarray(4, 8)
  if (bytes[6] === 0x00 && bytes[7] === 0x00) {
    throw new ColonyError('component_invalid',
      `this is a core WebAssembly module (version ${hex(versionLayer)}), not a component (0d 00 01 00); ` +
      'wrap it into a component first, e.g. with `jco new` or `wasm-tools component new`')
  }
  if (!(bytes[4] === 0x0d && bytes[5] === 0x00 && bytes[6] === 0x01 && bytes[7] === 0x00)) {
    throw new ColonyError('component_invalid',
      `unsupported WebAssembly version/layer bytes ${hex(versionLayer)}; Colony reads components encoded as 0d 00 01 00`)
  }
}

/** Reads a component's metadata; rejects with `component_invalid` when the bytes are not a readable component. */
export async function inspectComponent (bytes: Uint8Array): Promise<ComponentMetadata> {
  checkPreamble(bytes)
  try {
    await metadataShow(bytes)
  } catch (err) {
    throw new ColonyError('component_invalid', `the component cannot be read: ${firstLine(err)}`, { cause: err })
  }
  try {
    const { exports, imports, exportedInterfaces } = decodeComponent(bytes)
    return { exports, imports, exportedInterfaces }
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    throw new ColonyError('component_invalid', `the component's types cannot be read: ${err.message}`, { cause: err })
  }
}
