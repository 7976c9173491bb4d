import { int, ms, section, type SettingsOf } from '../settings.js'

/** Limits of the WebAssembly engine and every component instance it runs. */
export const wasmSettings = section('wasm', {
  maxComponentBytes: int(52_428_800, { min: 1024, max: 1 << 30 }),
  callTimeoutMs: ms(30_000, 10, 3_600_000),
  startTimeoutMs: ms(30_000, 100, 600_000),
  memoryLimitMb: int(256, { min: 1, max: 4096 }),
  hostCallTimeoutMs: ms(10_000, 10, 600_000),
  maxQueuedCalls: int(1000, { min: 0, max: 1_000_000 }),
})
export type WasmSettings = SettingsOf<typeof wasmSettings>
