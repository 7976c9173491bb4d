/**
 * PTY sessions of capsules, as Wrenn keeps them: a session is a process on a pseudo-terminal, named by a tag the
 * server makes up (`pty-` + 8 hex), that outlives the WebSocket which started it; a client reconnects by tag. Wrenn
 * sends nothing of what was printed while nobody was attached; Colony keeps the last 64 KiB and sends them first,
 * so a reconnecting terminal shows where it was.
 */
import { randomBytes } from 'node:crypto'
import { ColonyError } from '../errors.js'
import type { CapsulePty, CapsuleSandbox, ProcessRequest } from './driver.js'

const SCROLLBACK_BYTES = 64 * 1024

export interface PtyListener {
  data (bytes: Buffer): void
  exit (code: number): void
}

interface Session {
  tag: string
  capsuleId: string
  pty: CapsulePty
  scrollback: Buffer[]
  scrollbackBytes: number
  listeners: Set<PtyListener>
  exitCode: number | undefined
}

export class PtySessions {
  private readonly sessions = new Map<string, Session>()

  /** Starts a process on a new terminal in the capsule; answers its tag and pid. */
  start (capsuleId: string, sandbox: CapsuleSandbox, req: ProcessRequest & { cols: number, rows: number }): { tag: string, pid: number } {
    const tag = `pty-${randomBytes(4).toString('hex')}`
    const pty = sandbox.pty(req)
    const session: Session = { tag, capsuleId, pty, scrollback: [], scrollbackBytes: 0, listeners: new Set(), exitCode: undefined }
    this.sessions.set(tag, session)
    pty.on('data', (bytes) => {
      session.scrollback.push(bytes)
      session.scrollbackBytes += bytes.length
      while (session.scrollbackBytes > SCROLLBACK_BYTES && session.scrollback.length > 1) session.scrollbackBytes -= (session.scrollback.shift() as Buffer).length
      for (const l of session.listeners) l.data(bytes)
    })
    pty.on('exit', (code) => {
      session.exitCode = code
      this.sessions.delete(tag)
      for (const l of session.listeners) l.exit(code)
      session.listeners.clear()
    })
    return { tag, pid: pty.pid }
  }

  /** Attaches a client to a session of this capsule: it gets the scrollback, then live output. Returns the detach. */
  attach (capsuleId: string, tag: string, listener: PtyListener, replay: boolean): () => void {
    const session = this.session(capsuleId, tag)
    if (replay) for (const chunk of session.scrollback) listener.data(chunk)
    session.listeners.add(listener)
    return () => session.listeners.delete(listener)
  }

  input (capsuleId: string, tag: string, bytes: Buffer): void {
    this.session(capsuleId, tag).pty.write(bytes)
  }

  resize (capsuleId: string, tag: string, cols: number, rows: number): void {
    if (cols > 0 && rows > 0) this.session(capsuleId, tag).pty.resize(cols, rows)
  }

  kill (capsuleId: string, tag: string): void {
    this.session(capsuleId, tag).pty.kill('SIGKILL')
  }

  /** The capsule's live sessions (a destroyed or hibernated capsule's processes are gone). */
  tags (capsuleId: string): string[] {
    return [...this.sessions.values()].filter((s) => s.capsuleId === capsuleId).map((s) => s.tag)
  }

  /** Forgets a capsule's sessions whose processes stopped with it. */
  forget (capsuleId: string): void {
    for (const s of [...this.sessions.values()]) {
      if (s.capsuleId !== capsuleId) continue
      this.sessions.delete(s.tag)
      for (const l of s.listeners) l.exit(s.exitCode ?? 137)
    }
  }

  private session (capsuleId: string, tag: string): Session {
    const s = this.sessions.get(tag)
    if (s === undefined || s.capsuleId !== capsuleId) throw new ColonyError('pty_not_found', `no PTY session ${tag.slice(0, 32)} in this capsule`)
    return s
  }
}
