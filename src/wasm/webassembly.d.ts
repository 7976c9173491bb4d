/**
 * The few WebAssembly JS API types Colony uses. @types/node for Node 20 does not declare them and the DOM lib would
 * bring in browser globals that do not exist in Node.
 */
declare namespace WebAssembly {
  class Module {
    constructor (bytes: ArrayBufferView | ArrayBuffer)
    private readonly __module: never
  }
  class Memory { readonly buffer: ArrayBuffer }
  class Instance { readonly exports: Record<string, unknown> }
  function compile (bytes: ArrayBufferView | ArrayBuffer): Promise<Module>
  function instantiate (module: Module, imports?: Record<string, Record<string, unknown>>): Promise<Instance>
}
