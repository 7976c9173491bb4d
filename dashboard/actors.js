// The live actor table. Each actor has one row, built once; messages only mark rows dirty, and dirty rows are
// written at most once per animation frame, so hundreds of actors beating several times a second cost a few
// text updates per frame. Heartbeat ages are refreshed once a second.

const STALE_MS = 60_000

function cell (tr, className) {
  const td = document.createElement('td')
  if (className) td.className = className
  tr.append(td)
  return td
}

function button (action, label) {
  const b = document.createElement('button')
  b.type = 'button'
  b.dataset.action = action
  b.textContent = label
  return b
}

export function formatAge (ms) {
  if (ms === undefined) return '—'
  const s = Math.max(0, Math.floor(ms / 1000))
  return s < 60 ? `${s}s ago` : `${Math.floor(s / 60)}m ${s % 60}s ago`
}

export class ActorTable {
  constructor ({ tbody, count, filter, onAction }) {
    this.tbody = tbody
    this.count = count
    this.filter = filter
    this.rows = new Map()
    this.dirty = new Set()
    this.frame = 0
    this.query = ''
    tbody.addEventListener('click', (event) => {
      const b = event.target.closest('button[data-action]')
      const tr = b?.closest('tr')
      if (b && tr && !b.disabled) onAction(b.dataset.action, tr.dataset.id, this.rows.get(tr.dataset.id)?.data)
    })
    filter.addEventListener('input', () => {
      this.query = filter.value.trim().toLowerCase()
      for (const row of this.rows.values()) this.applyFilter(row)
    })
  }

  /** Replaces everything with the REST list (sign-in, reconnect). */
  load (list) {
    const seen = new Set()
    for (const a of list) {
      seen.add(a.id)
      this.upsert(a)
    }
    for (const id of [...this.rows.keys()]) if (!seen.has(id)) this.remove(id)
  }

  upsert (info) {
    let row = this.rows.get(info.id)
    if (row === undefined) {
      const tr = document.createElement('tr')
      tr.dataset.id = info.id
      const cells = { name: cell(tr, 'name'), type: cell(tr), state: cell(tr), prot: cell(tr), age: cell(tr, 'age'), actions: cell(tr, 'actions') }
      const stateSpan = document.createElement('span')
      stateSpan.className = 'state'
      cells.state.append(stateSpan)
      cells.actions.append(button('pause', 'Pause'), button('resume', 'Resume'), button('delete', 'Delete'))
      row = { tr, cells, stateSpan, data: { id: info.id }, lastBeat: undefined }
      this.rows.set(info.id, row)
      this.tbody.append(tr)
    }
    const { heartbeatAgeMs, ...data } = info
    Object.assign(row.data, data)
    // The server's age of the last beat, so the browser's clock need not agree with the server's.
    if (typeof heartbeatAgeMs === 'number') {
      const beat = Date.now() - heartbeatAgeMs
      if (row.lastBeat === undefined || beat > row.lastBeat) row.lastBeat = beat
    }
    this.mark(row)
    return row
  }

  remove (id) {
    const row = this.rows.get(id)
    if (row === undefined) return
    row.tr.remove()
    this.rows.delete(id)
    this.dirty.delete(row)
    this.updateCount()
  }

  has (id) {
    return this.rows.has(id)
  }

  heartbeat (id, payload) {
    const row = this.rows.get(id)
    if (row === undefined) return false
    row.lastBeat = Date.now()
    if (typeof payload?.state === 'string') row.data.state = payload.state
    this.mark(row)
    return true
  }

  state (id, state) {
    const row = this.rows.get(id)
    if (row === undefined) return false
    row.data.state = state
    this.mark(row)
    return true
  }

  /** Every actor's name, for @mention completion. */
  names () {
    return [...this.rows.values()].map((r) => r.data.name).filter(Boolean)
  }

  mark (row) {
    this.dirty.add(row)
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.flush())
  }

  flush () {
    this.frame = 0
    for (const row of this.dirty) this.render(row)
    this.dirty.clear()
    this.updateCount()
  }

  render (row) {
    const { data, cells, stateSpan } = row
    cells.name.textContent = data.name ?? data.id
    cells.type.textContent = data.agentType ?? ''
    if (stateSpan.textContent !== data.state) {
      stateSpan.textContent = data.state ?? ''
      stateSpan.className = `state ${data.state ?? ''}`
    }
    cells.prot.textContent = data.protected ? 'yes' : ''
    const [pause, resume, del] = cells.actions.children
    pause.disabled = data.protected === true || data.state !== 'running'
    resume.disabled = data.protected === true || data.state !== 'paused'
    del.disabled = data.protected === true
    this.renderAge(row, Date.now())
    this.applyFilter(row)
  }

  renderAge (row, now) {
    const age = row.lastBeat === undefined ? undefined : now - row.lastBeat
    const text = formatAge(age)
    if (row.cells.age.textContent !== text) row.cells.age.textContent = text
    row.tr.classList.toggle('stale', age !== undefined && age > STALE_MS)
  }

  /** Once a second: every visible age moves on. */
  tick () {
    const now = Date.now()
    for (const row of this.rows.values()) if (!row.tr.hidden) this.renderAge(row, now)
  }

  applyFilter (row) {
    const q = this.query
    const d = row.data
    row.tr.hidden = q !== '' && ![d.name, d.agentType, d.state].some((v) => typeof v === 'string' && v.toLowerCase().includes(q))
  }

  updateCount () {
    this.count.textContent = `(${this.rows.size})`
  }
}
