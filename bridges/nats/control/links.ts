import { isColonyError } from '../../../src/index.js'
import { validateLink, type Link } from '../../../src/components.js'
import type { Handler, Lattice } from '../lattice.js'
import { BadRequest, fail, ok, text } from '../wire.js'

/** A link as the wire carries it (the store's team column stays inside). */
export const linkView = (l: Link): Link => ({
  source_id: l.source_id,
  target: l.target,
  name: l.name,
  wit_namespace: l.wit_namespace,
  wit_package: l.wit_package,
  interfaces: l.interfaces,
  source_config: l.source_config,
  target_config: l.target_config,
})

/** The team a link belongs to: its source component's, when this host knows the component; else the whole lattice. */
export function linkTeam (l: Lattice, sourceId: string): string | null {
  try {
    return l.ctx.services.components.find(l.who(), sourceId).teamId
  } catch {
    return null
  }
}

/**
 * `link.put|del|get` and `config.put|get|del.{name}`, answered by one host of the lattice (queue groups). The change
 * is stored here and announced (`linkdef_set`, `config_set`, ...) before the reply; the other hosts apply the
 * events (replicate.ts), so every host's components see the same links.
 */
export function linkHandlers (l: Lattice): Record<string, Handler> {
  const { links } = l.ctx.services
  const checked = (body: Record<string, unknown>): Link => {
    try {
      return validateLink(body as unknown as Link)
    } catch (err) {
      if (isColonyError(err)) throw new BadRequest(err.message)
      throw err
    }
  }
  const configName = (tokens: string[]): string => {
    const name = tokens.slice(2).join('.')
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) throw new BadRequest('the config name (the subject\'s last tokens) must be 1 to 128 characters of A-Z a-z 0-9 _ . : -')
    return name
  }

  return {
    'link.put': (body) => {
      const link = checked(body)
      const existing = links.find(link)
      if (existing !== undefined && existing.target !== link.target) {
        const error = `link already exists with a different target (${existing.target}); delete it first or use another link name`
        l.events.emit('linkdef_set_failed', { ...link, error })
        return fail(error)
      }
      links.put(link, linkTeam(l, link.source_id))
      return ok('successfully set link')
    },

    'link.del': (body) => {
      const key = {
        source_id: text(body, 'source_id', { max: 128 }),
        name: text(body, 'name', { optional: true, max: 128 }) || 'default',
        wit_namespace: text(body, 'wit_namespace', { max: 128 }),
        wit_package: text(body, 'wit_package', { max: 128 }),
      }
      // Idempotent, as in wasmCloud: deleting a link that is not there succeeds and is announced all the same.
      if (!links.remove(key.source_id, key.wit_namespace, key.wit_package, key.name)) l.events.emit('linkdef_deleted', key)
      return ok('successfully deleted link')
    },

    'link.get': () => ok('', links.all().map(linkView)),

    'config.put': (body, tokens) => {
      const name = configName(tokens)
      try {
        links.putConfig(name, null, body as Record<string, string>)
      } catch (err) {
        if (isColonyError(err)) throw new BadRequest(err.message)
        throw err
      }
      return ok('successfully put config')
    },

    'config.get': (_body, tokens) => {
      const config = links.getConfig(configName(tokens))
      return config === undefined ? ok('Configuration not found') : ok('', config.entries)
    },

    'config.del': (_body, tokens) => {
      const name = configName(tokens)
      if (!links.removeConfig(name)) l.events.emit('config_deleted', { config_name: name })
      return ok('successfully deleted config')
    },
  }
}
