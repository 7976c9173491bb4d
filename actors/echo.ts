import type { ActorKind } from '../src/index.js'

/**
 * A diagnostic actor users can spawn: it answers every chat line with the same text. Handy to check that
 * routing, pausing and replies work end to end (`@main-actor spawn echo e1`, then `@e1 hello`).
 */
export const echoKind: ActorKind = {
  kind: 'echo',
  agentType: 'echo',
  spawnable: true,
  help: 'help — this text\n<anything else> — replied back unchanged',
  create () {
    let echoed = 0
    return {
      chat (message) {
        if (message.content.trim() === 'help') return `echo understands:\n${echoKind.help ?? ''}`
        echoed++
        return message.content
      },
      heartbeat: () => ({ echoed }),
    }
  },
}
