/** What a component scale says to the rest of the host: where it came from, and how it went (REST, chat, NATS alike). */

/** Where a scale came from, carried into the lattice events it causes (the NATS control interface fills it in). */
export interface ScaleOrigin {
  /** The reference the component was scaled from, e.g. `component:<id>@2` or `file:///srv/adder.wasm`. */
  imageRef?: string
  /** The wasmCloud component id it was scaled under (operators choose it; links may name it as `source_id`). */
  latticeId?: string
  annotations?: Record<string, string>
}

/** A component was scaled on this host (every door: REST, chat, NATS). */
export interface ComponentScaled {
  componentId: string
  name: string
  instances: number
  version: number | undefined
  origin: ScaleOrigin
}

export interface ComponentScaleFailed {
  componentId: string
  name: string
  instances: number
  error: string
  origin: ScaleOrigin
}
