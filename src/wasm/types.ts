/**
 * WIT types as Colony sees a component's exports: enough to describe a function, check JSON arguments against
 * it, convert them to and from the JavaScript values jco's bindings use, and render Golem's `typ` JSON.
 */
export type PrimitiveKind = 'bool' | 's8' | 'u8' | 's16' | 'u16' | 's32' | 'u32' | 's64' | 'u64' | 'f32' | 'f64' | 'char' | 'string'

export type WitType =
  | { kind: PrimitiveKind }
  | { kind: 'list', element: WitType }
  | { kind: 'tuple', items: WitType[] }
  | { kind: 'record', name?: string, fields: Array<{ name: string, type: WitType }> }
  | { kind: 'variant', name?: string, cases: Array<{ name: string, type?: WitType }> }
  | { kind: 'enum', name?: string, cases: string[] }
  | { kind: 'flags', name?: string, flags: string[] }
  | { kind: 'option', inner: WitType }
  | { kind: 'result', ok?: WitType, err?: WitType }
  /** Resource handles: listed in metadata, but such functions cannot be invoked from JSON. */
  | { kind: 'own' | 'borrow', resource: string }

export interface WitParam { name: string, type: WitType }

/** One exported function. */
export interface WitFunction {
  /** The function's WIT name (kebab-case), e.g. `add`. */
  name: string
  /** The exported interface it belongs to, e.g. `local:adder/math`; undefined for a function the world exports directly. */
  interface?: string
  params: WitParam[]
  /** At most one result (WIT functions have zero or one). */
  result?: WitType
}

export interface ComponentMetadata {
  exports: WitFunction[]
  /** Imported interfaces with functions, e.g. `wasi:keyvalue/store@0.2.0-draft`, `wasi:cli/stdout@0.2.3` (types-only imports left out). */
  imports: string[]
  /** Exported interfaces, e.g. `local:adder/math`, `wasi:cli/run@0.2.3`. */
  exportedInterfaces: string[]
}
