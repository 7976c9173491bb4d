/**
 * What a capsule needs of the sandbox that runs it. A driver turns a capsule's spec into an isolated environment on
 * this host and runs processes in it; everything above (lifecycle, TTL, REST, actors, metrics) is written against
 * this interface only. Drivers: `namespace` (bubblewrap + overlayfs + cgroups; the default) and `wasi` (WebAssembly
 * only, for hosts without namespaces: every process is a WASI module whose only filesystem is the capsule's directory).
 *
 * A driver never falls back to running a process unsandboxed: a missing prerequisite is `capsule_unavailable`.
 */
import type { EventEmitter } from 'node:events'
import type { Readable } from 'node:stream'

export interface CapsuleSpec {
  /** `cl-` + 25 base-36 characters (Wrenn's ids). */
  id: string
  /** The capsule's own directory on the host: its writable layer and bookkeeping live under it, nothing else. */
  dir: string
  /** Read-only layers from snapshots, topmost first (a template stacks its layer on the base). */
  layers: string[]
  memoryMb: number
  vcpus: number
  /** Most processes alive at once (a fork bomb stops here). */
  pidsMax: number
  /** Off by default: the capsule has only a loopback interface. */
  network: boolean
  /** The environment every process starts with (the request's env is laid over it). */
  env: Record<string, string>
}

export interface ProcessRequest {
  /** argv[0], looked up in the capsule's PATH; no shell unless the caller asks for one (`cmd: 'sh', args: ['-c', ...]`). */
  cmd: string
  args: string[]
  env?: Record<string, string>
  /** Inside the capsule; default the user's home. */
  cwd?: string
}

export interface ExecRequest extends ProcessRequest {
  /** Kills the whole process tree when over; the result says `timedOut`. */
  timeoutMs: number
  stdin?: Buffer
  /** stdout and stderr are each cut at this many bytes (`truncated`). */
  maxOutputBytes: number
}

export interface ExecResult {
  stdout: Buffer
  stderr: Buffer
  /** 124 after a timeout (as coreutils' timeout), 128 + n after signal n. */
  exitCode: number
  durationMs: number
  timedOut: boolean
  truncated: boolean
}

/** A process running in the capsule (exec/stream, background processes). */
export interface CapsuleProcess extends EventEmitter<{ stdout: [Buffer], stderr: [Buffer], exit: [code: number, signal: string | null], drain: [] }> {
  readonly pid: number
  /** False when the process's stdin is full: wait for `drain` before writing more. */
  write (data: Buffer): boolean
  end (): void
  /** Flow control of stdout and stderr (a slow reader of a streamed download). */
  pause (): void
  resume (): void
  kill (signal?: NodeJS.Signals): void
}

/** A process on a pseudo-terminal (the PTY API); its output is one stream. */
export interface CapsulePty extends EventEmitter<{ data: [Buffer], exit: [code: number, signal: number | undefined] }> {
  readonly pid: number
  write (data: Buffer | string): void
  resize (cols: number, rows: number): void
  kill (signal?: NodeJS.Signals): void
}

/** A module to run with WASI preview1 (wasmrun's `wasm_path` + `function` + `args`). */
export interface WasmRequest {
  /** The module, a capsule path. */
  path: string
  /** The export to call with `args` (integers passed as numbers, its result printed); `_start` or none runs it as a command. */
  fn?: string
  args: string[]
  env?: Record<string, string>
  timeoutMs: number
  maxOutputBytes: number
  stdin?: Buffer
}

/** One entry of a listing (Wrenn's shape). */
export interface FileEntry {
  name: string
  path: string
  type: 'file' | 'directory' | 'symlink' | 'other'
  size: number
  mode: number
  permissions: string
  owner: string
  group: string
  modified_at: number
  symlink_target?: string
}

/**
 * The capsule's files, by capsule path (a relative path is from the user's home). However a driver does it, a path
 * never reaches past the capsule: a symlink, `..`, a hard link or `/proc/1/root` made inside resolves inside.
 * Errors: `file_not_found` (404), `file_invalid` (400: wrong type), `file_exists` (409).
 */
export interface CapsuleFiles {
  /** A regular file's bytes; over `maxBytes` is `file_too_large`. */
  read (path: string, maxBytes: number): Promise<Buffer>
  /** Creates or replaces a file, creating its parents. */
  write (path: string, data: Buffer): Promise<void>
  /** The file's bytes at the reader's pace (checked before the first byte). */
  readStream (path: string): Promise<Readable>
  /** Writes the bytes as they arrive, creating the parents. */
  writeStream (path: string, source: Readable): Promise<void>
  /** Entries under a directory down to `depth` levels, links not followed. */
  list (path: string, depth: number): Promise<FileEntry[]>
  /** Creates the directory and its parents: an existing directory is `file_exists`, an existing file `file_invalid`. */
  mkdir (path: string): Promise<FileEntry>
  /** Removes a file, a link or a whole directory. */
  remove (path: string): Promise<void>
}

export interface CapsuleStats {
  /** CPU time used by every process of the capsule since it started, nanoseconds. */
  cpuNs: number
  memoryBytes: number
  /** Bytes in the capsule's writable layer. */
  diskBytes: number
  pids: number
}

export interface CapsuleSandbox {
  readonly id: string
  /** True while the capsule's processes can run (not frozen, not hibernated, not destroyed). */
  readonly running: boolean
  exec (req: ExecRequest): Promise<ExecResult>
  spawn (req: ProcessRequest): CapsuleProcess
  /** `capsule_unsupported` where the driver has no terminals. */
  pty (req: ProcessRequest & { cols: number, rows: number }): CapsulePty
  /** Runs a WASI preview1 module of the capsule, to completion. */
  runWasm (req: WasmRequest): Promise<ExecResult>
  readonly files: CapsuleFiles
  /** Freezes every process (cgroup freezer): memory kept, no CPU. */
  pause (): Promise<void>
  /** Thaws a paused capsule, or starts a hibernated one again (its files kept). */
  resume (): Promise<void>
  /** Stops every process; the writable layer stays on disk. */
  hibernate (): Promise<void>
  /** Stops every process and removes everything of the capsule from the host. */
  destroy (): Promise<void>
  stats (): Promise<CapsuleStats>
  /** The writable layer's directory (a snapshot copies it). */
  readonly upperDir: string
}

export interface CapsuleDriver {
  readonly name: 'namespace' | 'wasi'
  /**
   * Resolves when the host can run capsules (like `spec`, when given); else throws `capsule_unavailable` naming what
   * is missing, or `capsule_unsupported` for what this driver never does.
   */
  check (spec?: Pick<CapsuleSpec, 'network'>): Promise<void>
  /** A new capsule, running. */
  create (spec: CapsuleSpec): Promise<CapsuleSandbox>
  /** A capsule whose directory survived a restart of Colony: its files kept, hibernated (call resume to run it). */
  reopen (spec: CapsuleSpec): Promise<CapsuleSandbox>
  /** Events of every capsule: an OOM kill, or its processes vanishing under it. */
  readonly events: EventEmitter<{ oom: [id: string], vanished: [id: string] }>
}
