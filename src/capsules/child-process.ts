/**
 * A capsule process backed by a host child process (the namespace and wasi drivers both run one per process):
 * its stdio and flow control. How it ends and how it is killed are each driver's own (`exit` and `kill`).
 */
import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import type { CapsuleProcess } from './driver.js'

export abstract class ChildCapsuleProcess extends EventEmitter<{ stdout: [Buffer], stderr: [Buffer], exit: [code: number, signal: string | null], drain: [] }> implements CapsuleProcess {
  readonly pid: number
  protected readonly child: ChildProcess

  constructor (child: ChildProcess) {
    super()
    this.child = child
    this.pid = child.pid ?? -1
    child.stdout!.on('data', (chunk: Buffer) => { this.emit('stdout', chunk) })
    child.stderr!.on('data', (chunk: Buffer) => { this.emit('stderr', chunk) })
    child.stdin?.on('error', () => { /* the process closed its stdin */ })
    child.stdin?.on('drain', () => { this.emit('drain') })
  }

  write (data: Buffer): boolean { return this.child.stdin?.write(data) ?? false }
  end (): void { this.child.stdin?.end() }
  pause (): void {
    this.child.stdout?.pause()
    this.child.stderr?.pause()
  }

  resume (): void {
    this.child.stdout?.resume()
    this.child.stderr?.resume()
  }

  abstract kill (signal?: NodeJS.Signals): void
}
