/** WASI preview1 modules (as WAT) the capsule and session tests upload and run. */

/** A command that prints a line, and exports `add`: what a wasmrun user uploads to a session. */
export const HELLO_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasi\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`

function watString (s: string): string {
  return [...Buffer.from(s)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('')
}

/** Prints the first 4 KiB of `path` (relative to its preopened `/`); a failed open exits 10 + the WASI errno. */
export function catWat (path: string): string {
  return `(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "${watString(path)}")
  (func (export "_start") (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const ${Buffer.byteLength(path)}) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (if (local.get $e) (then (call $exit (i32.add (i32.const 10) (local.get $e)))))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 4096))
    (drop (call $read (i32.load (i32.const 200)) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 4) (i32.load (i32.const 8)))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`
}

/** Makes the symlink `link` (relative to its preopened `/`) pointing at `target`; a failure exits 10 + the errno. */
export function symlinkWat (target: string, link: string): string {
  return `(module
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "${watString(target)}")
  (data (i32.const 2000) "${watString(link)}")
  (func (export "_start") (local $e i32)
    (local.set $e (call $symlink (i32.const 100) (i32.const ${Buffer.byteLength(target)}) (i32.const 3) (i32.const 2000) (i32.const ${Buffer.byteLength(link)})))
    (if (local.get $e) (then (call $exit (i32.add (i32.const 10) (local.get $e)))))))`
}

/** Spins forever (pause, timeouts). */
export const SPIN_WAT = '(module (memory (export "memory") 1) (func (export "_start") (loop $forever (br $forever))))'

/** Grows its memory 1 MiB at a time, writing every byte, until it is killed or wasm32 is full. */
export const HOG_WAT = `(module
  (memory (export "memory") 1)
  (func (export "_start") (local $p i32)
    (loop $more
      (local.set $p (memory.grow (i32.const 16)))
      (if (i32.ne (local.get $p) (i32.const -1))
        (then
          (memory.fill (i32.mul (local.get $p) (i32.const 65536)) (i32.const 1) (i32.const 1048576))
          (br $more))))))`
