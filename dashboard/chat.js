// The chat bar: lines go to io/chat (as an MQTT client, through /mqtt), `@name rest` reaches that actor through
// io-agent, and the replies addressed to this dashboard come back on agents/{id}/chat through the /ws stream.
// `@` opens a completion list of actor names (arrows to choose; Tab, Enter or a click to take).

const MAX_LINES = 200

function time (ms) {
  const t = document.createElement('time')
  t.textContent = new Date(ms).toLocaleTimeString()
  return t
}

export class Chat {
  constructor ({ form, input, list, conversation, names, send, me }) {
    this.input = input
    this.list = list
    this.conversation = conversation
    this.names = names
    this.send = send
    this.me = me
    this.choices = []
    this.active = 0
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      if (!this.list.hidden && this.choices.length > 0) {
        this.take(this.choices[this.active])
        return
      }
      this.submit()
    })
    input.addEventListener('input', () => this.suggest())
    input.addEventListener('keydown', (event) => this.key(event))
    input.addEventListener('blur', () => setTimeout(() => { this.list.hidden = true }, 150))
    list.addEventListener('mousedown', (event) => {
      const li = event.target.closest('li')
      if (li) {
        event.preventDefault()
        this.take(li.dataset.name)
      }
    })
  }

  submit () {
    const content = this.input.value.trim()
    if (content === '') return
    const id = `dash-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
    if (!this.send({ id, from: this.me, content, timestampMs: Date.now() })) {
      this.line(Date.now(), 'the chat is reconnecting and already holds 20 unsent lines: this one was not sent', 'error')
      return
    }
    this.line(Date.now(), `${this.me}: ${content}`, 'mine')
    this.input.value = ''
    this.list.hidden = true
  }

  /** A chat message from the stream: shown when it answers this dashboard. */
  message (payload) {
    if (payload?.to !== this.me || typeof payload.content !== 'string') return
    this.line(payload.timestampMs ?? Date.now(), `${payload.from}: ${payload.content}`)
  }

  line (ms, text, className) {
    const li = document.createElement('li')
    if (className) li.className = className
    li.append(time(ms), document.createTextNode(text))
    this.conversation.append(li)
    while (this.conversation.children.length > MAX_LINES) this.conversation.firstChild.remove()
    this.conversation.scrollTop = this.conversation.scrollHeight
  }

  /** The `@word` being typed at the cursor, if any. */
  mention () {
    const upto = this.input.value.slice(0, this.input.selectionStart ?? this.input.value.length)
    const m = /(^|\s)@([\w-]*)$/.exec(upto)
    return m === null ? undefined : { start: upto.length - m[2].length, prefix: m[2].toLowerCase() }
  }

  suggest () {
    const m = this.mention()
    this.choices = m === undefined ? [] : this.names().filter((n) => n.toLowerCase().startsWith(m.prefix)).sort().slice(0, 8)
    this.active = 0
    this.list.hidden = this.choices.length === 0
    this.list.replaceChildren(...this.choices.map((name, i) => {
      const li = document.createElement('li')
      li.dataset.name = name
      li.role = 'option'
      li.textContent = `@${name}`
      if (i === 0) li.className = 'active'
      return li
    }))
  }

  key (event) {
    if (this.list.hidden || this.choices.length === 0) return
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      this.active = (this.active + (event.key === 'ArrowDown' ? 1 : this.choices.length - 1)) % this.choices.length
      for (const [i, li] of [...this.list.children].entries()) li.classList.toggle('active', i === this.active)
    } else if (event.key === 'Tab' || event.key === 'Enter') {
      event.preventDefault()
      this.take(this.choices[this.active])
    } else if (event.key === 'Escape') {
      this.list.hidden = true
    }
  }

  take (name) {
    const m = this.mention()
    if (m === undefined || name === undefined) return
    const value = this.input.value
    const cursor = this.input.selectionStart ?? value.length
    this.input.value = `${value.slice(0, m.start)}${name} ${value.slice(cursor)}`
    const at = m.start + name.length + 1
    this.input.setSelectionRange(at, at)
    this.list.hidden = true
    this.input.focus()
  }
}
