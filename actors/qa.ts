import { ALERT_CODES, filters, parseJson, parseAgentTopic, topics, type ActorKind, type ErrorCode, type MqttMessage } from '../src/index.js'

/** What a leaked credential looks like. Only the kind is ever reported, never the matched text. */
const CREDENTIALS: ReadonlyArray<[string, RegExp]> = [
  ['private key block', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/],
  ['JWT', /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/],
  ['Colony API key', /\bcol_[0-9a-f]{32}\b/],
  ['OpenAI-style API key', /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}/],
  ['AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,})\b/],
  ['Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['secret assignment', /\b(?:api[_-]?key|secret|token|passw(?:or)?d)\s*[:=]\s*['"]?[^\s'"]{8,}/i],
]

export function findCredentials (text: string): string[] {
  return CREDENTIALS.filter(([, re]) => re.test(text)).map(([kind]) => kind)
}

/**
 * Quality and policy: reads every chat line (io/chat, where the REST bridge copies each `POST /api/chat` line, and
 * agents/+/chat) and every publish the broker refused
 * (`system/violations`). A chat line that carries something like a credential -> `warning`; a client spoofing
 * an actor's heartbeat/status/spawn/alert, or sending an oversized packet -> `error`.
 */
export const qaKind: ActorKind = {
  kind: 'qa',
  agentType: 'qa',
  protected: true,
  help: 'help — this text\nfindings — how many policy findings so far',
  create (ctx) {
    let credentialFindings = 0
    let violations = 0

    const onChat = (m: MqttMessage): void => {
      let content: unknown
      try {
        content = (parseJson(m.payload) as { content?: unknown } | null)?.content
      } catch {
        return // io-agent reports malformed chat; nothing to scan
      }
      if (typeof content !== 'string') return
      const kinds = findCredentials(content)
      if (kinds.length === 0) return
      credentialFindings++
      ctx.alert('warning', `a chat message on ${m.topic} contains what looks like a ${kinds.join(' and a ')}; ` +
        'treat it as leaked and rotate it', { code: ALERT_CODES.credentialInChat, topic: m.topic, kinds })
    }

    const onViolation = (m: MqttMessage): void => {
      let v: { code?: ErrorCode, clientId?: string, topic?: string, reason?: string, targetId?: string }
      try {
        v = parseJson(m.payload) as typeof v
      } catch {
        return
      }
      violations++
      const spoof = v.targetId !== undefined && parseAgentTopic(v.topic ?? '') !== undefined
      const what = spoof
        ? `client ${v.clientId ?? '?'} tried to publish on ${v.topic} (spoofing ${v.targetId})`
        : `client ${v.clientId ?? '?'} was refused: ${v.reason ?? v.code ?? 'policy violation'}`
      ctx.alert('error', `${what}; the connection was closed`, {
        code: spoof ? ALERT_CODES.spoofing : (v.code ?? ALERT_CODES.policyViolation),
        clientId: v.clientId,
        topic: v.topic,
        targetId: v.targetId,
      })
    }

    return {
      start () {
        ctx.subscribe(topics.ioChat)
        ctx.subscribe(filters.chat)
        ctx.subscribe(topics.systemViolations)
      },
      receive (message) {
        if (message.type !== 'mqtt') return
        const m = message as MqttMessage
        if (m.topic === topics.systemViolations) onViolation(m)
        else onChat(m)
      },
      chat (message) {
        if (message.content.trim() === 'findings') return `${credentialFindings} credential findings, ${violations} refused publishes`
        return `qa-agent understands:\n${qaKind.help ?? ''}`
      },
      heartbeat: () => ({ credentialFindings, violations }),
    }
  },
}
