import { ALERT_CODES, toColonyError, type ActorKind, type Services } from '../src/index.js'
import type { CapsuleEvent } from '../src/capsules.js'

export interface CapsuleOptions {
  capsuleId: string
  /** The owning team, as the service checks callers. */
  teamId: string | null
}

const HELP = [
  'help — this text and the capsule\'s status',
  'exec <command line> — runs it with /bin/sh -c in the capsule, e.g. exec ls -la',
  'pause | resume | hibernate',
].join('\n')

/**
 * A Wrenn capsule as an actor (agentType `capsule`): it beats with the capsule's status, turns the capsule's
 * status changes, OOM kills and exec timeouts into alerts, and answers chat. The capsule itself (its sandbox) is
 * the capsule service's; this actor is how MQTT and chat see it.
 */
export const capsuleKind: ActorKind<CapsuleOptions, Pick<Services, 'capsules'>> = {
  kind: 'capsule',
  agentType: 'capsule',
  help: HELP,
  deps: ({ services }) => ({ capsules: services.capsules }),
  create (ctx, options) {
    const { capsules } = ctx.deps
    const as = { teamId: options.teamId, isAdmin: false }
    const onEvent = (e: CapsuleEvent): void => {
      if (e.id !== options.capsuleId) return
      if (e.type === 'status') {
        const bad = e.status === 'missing' || e.status === 'error'
        ctx.alert(bad ? 'warning' : 'info', `capsule ${e.id} is ${e.status}${e.reason === undefined ? '' : `: ${e.reason}`}`,
          { code: ALERT_CODES.capsuleStatus, status: e.status })
      } else if (e.type === 'oom') {
        ctx.alert('error', `a process of capsule ${e.id} went over its memory limit and was killed`, { code: ALERT_CODES.capsuleOom })
      } else if (e.type === 'exec-timeout') {
        ctx.alert('warning', `${e.cmd.slice(0, 80)} in capsule ${e.id} ran over its timeout: its processes were killed`, { code: ALERT_CODES.capsuleExecTimeout })
      }
    }
    const status = (): string => {
      try {
        return capsules.get(as, options.capsuleId).status
      } catch {
        return 'destroyed'
      }
    }
    return {
      start () {
        capsules.events.on('event', onEvent)
      },
      receive () {},
      async chat (message) {
        const text = message.content.trim()
        try {
          if (text === 'pause' || text === 'resume' || text === 'hibernate') return `capsule ${options.capsuleId} is ${(await capsules[text](as, options.capsuleId)).status}`
          const m = /^exec\s+([\s\S]+)$/.exec(text)
          if (m === null) return `capsule ${options.capsuleId} (${status()}) understands:\n${HELP}`
          const out = await capsules.exec(as, options.capsuleId, { cmd: '/bin/sh', args: ['-c', m[1] as string] })
          const body = out.encoding === 'utf-8' ? `${out.stdout}${out.stderr}` : '(binary output)'
          return `exit ${out.exit_code} in ${out.duration_ms} ms${body === '' ? '' : `\n${body.slice(0, 4000)}`}`
        } catch (err) {
          return `failed: ${toColonyError(err).message}`
        }
      },
      heartbeat: () => ({ capsuleId: options.capsuleId, status: status() }),
      stop () {
        capsules.events.off('event', onEvent)
      },
    }
  },
}
