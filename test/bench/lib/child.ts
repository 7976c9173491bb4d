/**
 * The worker side of `proc.ts`: answers the parent's requests and, on `close`, lets the process end by
 * itself. A worker that does not end has leaked a handle; it prints what is still open, which is the point.
 */
type Handler = (args: unknown) => unknown

export function serve (handlers: Record<string, Handler>, onClose: () => Promise<void> | void): void {
  process.on('message', (raw) => {
    const msg = raw as { id: number, cmd: string, args?: unknown }
    void (async () => {
      try {
        let result: unknown
        if (msg.cmd === 'close') await onClose()
        else {
          const handler = handlers[msg.cmd]
          if (handler === undefined) throw new Error(`unknown command ${msg.cmd}`)
          result = await handler(msg.args)
        }
        process.send?.({ id: msg.id, ok: true, result })
      } catch (err) {
        process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) })
      }
      if (msg.cmd === 'close') {
        process.disconnect()
        reportLeaks()
      }
    })()
  })
}

export function ready (info: unknown): void {
  process.send?.({ type: 'ready', info })
}

export function argument<T> (): T {
  return JSON.parse(process.argv[2] ?? '{}') as T
}

/** If anything still holds the process open a few seconds after close, say what (the timer itself is unref'd). */
function reportLeaks (): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout')
    process.stderr.write(`LEAK: still open ${String(5)} s after close: ${open.join(', ')}\n`)
    process.exitCode = 3
    process.exit()
  }, 5000).unref()
}
