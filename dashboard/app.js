import { ActorTable } from './actors.js'
import { ApiError, createApi, wsUrl } from './api.js'
import { BeatChart } from './chart.js'
import { Chat } from './chat.js'
import { MqttLite } from './mqtt.js'
import { Stream } from './stream.js'

// The Colony dashboard: sign in with an API key (kept in sessionStorage, this tab only), then the actor table,
// alerts, health and heartbeat rates from /api/actors and the /ws stream, and a chat bar that publishes to io/chat.

const KEY = 'colony.credential'
const NOTICE = 'colony.notice'
const MAX_ALERTS = 100
const MAX_OUTBOX = 20
const $ = (id) => document.getElementById(id)

let session

function showSignIn (message = '') {
  $('sign-in').hidden = false
  $('app').hidden = true
  $('sign-out').hidden = true
  $('sign-in-error').textContent = message
  $('key').focus()
}

/**
 * Signs in with `credential`, or with none ('') to try local development mode (Colony on loopback, reached
 * directly, lets requests without credentials act as its admin); that attempt fails quietly to the sign-in form.
 */
async function signIn (credential, notice = '') {
  const api = createApi(credential)
  let actors
  try {
    actors = await api('GET', '/api/actors?include=heartbeat')
  } catch (err) {
    sessionStorage.removeItem(KEY)
    const refused = err instanceof ApiError && err.status === 401
    showSignIn(credential === '' && refused ? notice : refused ? 'That key or token was not accepted.' : `Could not reach Colony: ${err.message}`)
    return
  }
  if (credential !== '') sessionStorage.setItem(KEY, credential)
  $('sign-in').hidden = true
  $('app').hidden = false
  $('sign-out').hidden = credential === ''
  $('local').hidden = credential !== ''
  session = start(api, credential, actors)
}

function start (api, credential, actors) {
  const me = `dashboard-${Math.random().toString(36).slice(2, 8)}`
  const chart = new BeatChart($('chart'), $('legend'))
  let refresh
  /** An actor we do not know yet (spawned since): one list read for a burst of them. */
  const reload = () => {
    refresh ??= setTimeout(() => {
      refresh = undefined
      api('GET', '/api/actors?include=heartbeat').then((list) => table.load(list), () => {})
    }, 250)
  }
  const table = new ActorTable({
    tbody: $('actors'),
    count: $('actor-count'),
    filter: $('filter'),
    onAction: (action, id, data) => {
      if (action === 'delete' && !confirm(`Delete ${data?.name ?? id}?`)) return
      const call = action === 'delete' ? api('DELETE', `/api/actors/${encodeURIComponent(id)}`) : api('POST', `/api/actors/${encodeURIComponent(id)}/${action}`)
      call.then((info) => { if (info?.state) table.state(id, info.state) }, (err) => alertLine({ severity: 'error', message: `${action} ${data?.name ?? id}: ${err.message}` }))
    },
  })
  table.load(actors)

  const { mqtt, send: sendChat, streamUp } = chatLink(me, credential)
  const chat = new Chat({
    form: $('chat-form'),
    input: $('chat-input'),
    list: $('mentions'),
    conversation: $('conversation'),
    names: () => table.names(),
    send: sendChat,
    me,
  })

  const onMessage = (topic, payload) => {
    if (topic === 'system/health') {
      // Counted among the actors this user may see (the table's heading has the live total).
      const stale = (payload?.staleAgents ?? []).filter((id) => table.has(id)).length
      $('health').textContent = `${stale === 0 ? 'no' : stale} stale actor${stale === 1 ? '' : 's'} — health at ${new Date(payload?.timestampMs ?? Date.now()).toLocaleTimeString()}`
      return
    }
    const [, id, channel] = topic.split('/')
    if (channel === 'heartbeat') {
      // A beat from an actor not listed yet is counted once the list is read again.
      if (table.heartbeat(id, payload)) chart.beat(table.rows.get(id)?.data.agentType)
      else reload()
    } else if (channel === 'status') {
      if (payload === '' || payload === null) table.remove(id)
      else if (!table.state(id, payload?.state)) reload()
    } else if (channel === 'spawn') {
      if (payload !== '' && !table.has(id)) reload()
    } else if (channel === 'alert') {
      alertLine(payload)
    } else if (channel === 'chat') {
      chat.message(payload)
    }
  }
  const stream = new Stream(credential, onMessage, (up, code) => {
    $('connection').textContent = up ? 'live' : 'offline'
    $('connection').className = `pill ${up ? 'on' : 'off'}`
    streamUp(up)
    if (up) reload()
    else if (code === 1008) signOut('The credential was refused or revoked.')
  })
  stream.open()
  const timer = setInterval(() => {
    table.tick()
    chart.tick()
  }, 1000)
  return { stream, mqtt, timer, closed: false }
}

/**
 * The chat's MQTT connection (io/chat goes out here): reconnects while the session lives, like the stream (after
 * 1 s, doubling to 15 s). Lines typed while it or the stream is down wait (a few) and go out once both are up:
 * the replies come back over the stream, so a line sent before it is back would be answered to no one.
 */
function chatLink (me, credential) {
  const mqtt = new MqttLite(wsUrl('/mqtt'), { clientId: me, username: me, password: credential })
  const outbox = []
  let retryMs = 1000
  let streamLive = false
  const flush = () => {
    while (streamLive && outbox.length > 0 && mqtt.publish('io/chat', outbox[0])) outbox.shift()
  }
  const connect = () => mqtt.connect().then(() => {
    retryMs = 1000
    flush()
  }, (err) => alertLine({ severity: 'warning', message: `chat: ${err.message}` }))
  mqtt.onclose = () => {
    if (session?.mqtt !== mqtt || session.closed) return
    setTimeout(connect, retryMs)
    retryMs = Math.min(retryMs * 2, 15000)
  }
  connect()
  const send = (message) => {
    const body = JSON.stringify(message)
    if (outbox.length === 0 && streamLive && mqtt.publish('io/chat', body)) return true
    if (outbox.length >= MAX_OUTBOX) return false
    outbox.push(body)
    return true
  }
  const streamUp = (up) => {
    streamLive = up
    flush()
  }
  return { mqtt, send, streamUp }
}

function alertLine (a) {
  const li = document.createElement('li')
  li.className = a?.severity ?? 'info'
  const t = document.createElement('time')
  t.textContent = new Date(a?.timestampMs ?? Date.now()).toLocaleTimeString()
  const who = a?.agentId ? `${a.agentId}: ` : ''
  li.append(t, document.createTextNode(`[${a?.severity ?? 'info'}] ${who}${a?.message ?? ''}`))
  const list = $('alerts')
  list.prepend(li)
  while (list.children.length > MAX_ALERTS) list.lastChild.remove()
}

/** Ends the session and starts the page afresh (a notice, if any, is shown on the sign-in form). */
function signOut (notice) {
  sessionStorage.removeItem(KEY)
  if (notice) sessionStorage.setItem(NOTICE, notice)
  if (session !== undefined) {
    session.closed = true
    session.stream.close()
    session.mqtt.close()
    clearInterval(session.timer)
  }
  location.reload()
}

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault()
  const credential = $('key').value.trim()
  if (credential !== '') void signIn(credential)
})
$('sign-out').addEventListener('click', () => signOut())

const saved = sessionStorage.getItem(KEY)
const notice = sessionStorage.getItem(NOTICE) ?? ''
sessionStorage.removeItem(NOTICE)
if (saved) void signIn(saved)
else void signIn('', notice)
