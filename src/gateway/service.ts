import { ColonyError } from '../errors.js'
import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { ApiDefinitionRecord, ApiDeploymentRecord, Store } from '../store/index.js'
import { compileRoutes, conflicts, normalizeRoute, type CompiledRoute } from './compile.js'
import { bySpecificity, matchPath, splitPath } from './paths.js'
import type { ApiDefinition, ApiDeployment, ApiRoute, DefinitionInput, DefinitionRef, DeploymentInput, RouteInput, Site } from './types.js'

/** A deployed site as requests meet it: its team and its routes by method, most specific first. */
export interface LiveSite {
  key: string
  teamId: string
  routes: Map<string, CompiledRoute[]>
}

export interface RouteMatch { route: CompiledRoute, vars: Record<string, string> }

/** Hosts Colony's own API answers on: a site there would hide the API from local tools. */
const RESERVED_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0', '[::]'])

/**
 * The Worker Gateway's API definitions and deployments (Golem's ApiDefinition API), per team, and the sites being
 * served. A definition version is a draft until it is published (`draft: false`); only published versions can be
 * deployed, and a deployed version cannot change or go until no site serves it. Another team's definitions and
 * sites do not exist for a caller (404).
 */
export class Gateway {
  /** Site key (host or subdomain.host, lower case, no port) -> the live site. Empty: no request pays anything. */
  readonly #sites = new Map<string, LiveSite>()
  /** How many site keys have each length (255: that or longer). */
  readonly #lengths = new Uint32Array(256)

  constructor (private readonly o: { store: Store, clock: Clock, log: Logger }) {
    for (const d of o.store.apiDeployments.all()) {
      try {
        this.#setSite(d.site, this.build(d.site, d.teamId, parseRefs(d.definitions)))
      } catch (err) {
        // A site whose stored definitions no longer compile (a newer Colony's script?) stays stored, unserved.
        o.log.error({ err, site: d.site }, 'a deployed site could not be built; it is not served')
      }
    }
  }

  // --- definitions

  createDefinition (teamId: string, input: DefinitionInput): ApiDefinition {
    const ref = refOf(input)
    compileRoutes(ref, input.routes)
    if (this.o.store.apiDefinitions.get(teamId, ref.id, ref.version) !== undefined) {
      throw new ColonyError('api_definition_exists', `API definition ${ref.id} version ${ref.version} exists; PUT changes it, or use a new version`)
    }
    const record: ApiDefinitionRecord = {
      teamId, id: ref.id, version: ref.version, draft: input.draft ?? true, routes: JSON.stringify(input.routes.map(normalizeRoute)), createdAtMs: this.o.clock.now(),
    }
    this.o.store.apiDefinitions.insert(record)
    return view(record)
  }

  getDefinition (teamId: string, id: string, version: string): ApiDefinition {
    return view(this.record(teamId, id, version))
  }

  listDefinitions (teamId: string, id?: string): ApiDefinition[] {
    return this.o.store.apiDefinitions.list(teamId, id).map(view)
  }

  updateDefinition (teamId: string, id: string, version: string, input: DefinitionInput): ApiDefinition {
    if ((input.id !== undefined && input.id !== id) || (input.version !== undefined && input.version !== version)) {
      const field = input.id !== undefined && input.id !== id ? 'id' : 'version'
      throw new ColonyError('invalid_body', 'the body\'s id and version must be those of the path (a new version is a POST)', { details: { field } })
    }
    const record = this.record(teamId, id, version)
    this.refuseDeployed(teamId, { id, version }, 'changed')
    compileRoutes({ id, version }, input.routes)
    const next = { ...record, draft: input.draft ?? record.draft, routes: JSON.stringify(input.routes.map(normalizeRoute)) }
    this.o.store.apiDefinitions.update(next)
    return view(next)
  }

  deleteDefinition (teamId: string, id: string, version: string): void {
    this.record(teamId, id, version)
    this.refuseDeployed(teamId, { id, version }, 'deleted')
    this.o.store.apiDefinitions.remove(teamId, id, version)
  }

  // --- deployments

  /** Deploys definition versions to a site (adding to a site the team already serves: a new version of an id replaces the old). */
  deploy (teamId: string, input: DeploymentInput): ApiDeployment {
    const requested = requestedRefs(input)
    const { key, host, subdomain } = siteKey(input.site)
    const existing = this.o.store.apiDeployments.get(key)
    if (existing !== undefined && existing.teamId !== teamId) throw new ColonyError('api_site_taken', `the site ${key} is deployed by another team`)
    for (const ref of requested) {
      if (this.record(teamId, ref.id, ref.version).draft) {
        throw new ColonyError('api_definition_draft', `API definition ${ref.id} version ${ref.version} is a draft: publish it (PUT with "draft": false) first`)
      }
    }
    const ids = new Set(requested.map((r) => r.id))
    const refs = [...(existing === undefined ? [] : parseRefs(existing.definitions).filter((r) => !ids.has(r.id))), ...requested]
    const live = this.build(key, teamId, refs)
    const record: ApiDeploymentRecord = {
      site: key, host, subdomain: subdomain ?? null, teamId, definitions: JSON.stringify(refs), createdAtMs: existing?.createdAtMs ?? this.o.clock.now(),
    }
    this.o.store.apiDeployments.put(record)
    this.#setSite(key, live)
    return deploymentView(record)
  }

  getDeployment (teamId: string, site: string): ApiDeployment {
    return deploymentView(this.deployment(teamId, site))
  }

  listDeployments (teamId: string, definitionId?: string): ApiDeployment[] {
    return this.o.store.apiDeployments.forTeam(teamId)
      .filter((d) => definitionId === undefined || parseRefs(d.definitions).some((r) => r.id === definitionId))
      .map(deploymentView)
  }

  undeploy (teamId: string, site: string): void {
    const record = this.deployment(teamId, site)
    this.o.store.apiDeployments.remove(record.site)
    this.#setSite(record.site, undefined)
  }

  /** A deleted team's sites are no longer served nor kept; its definitions stay with its other rows. */
  forgetTeam (teamId: string): void {
    for (const d of this.o.store.apiDeployments.forTeam(teamId)) {
      this.o.store.apiDeployments.remove(d.site)
      this.#setSite(d.site, undefined)
    }
  }

  // --- serving

  /**
   * The site a request's Host header names (port ignored), or undefined: the one check every HTTP request pays,
   * a size test and, while sites exist, one Map lookup.
   */
  siteFor (hostHeader: string | undefined): LiveSite | undefined {
    if (this.#sites.size === 0 || hostHeader === undefined) return undefined
    // The port goes (not inside an IPv6 literal: "[::1]" ends with "]"); a host name no site has the length of is
    // refused before anything is allocated or hashed, which is every request to Colony's own API in practice.
    const colon = hostHeader.lastIndexOf(':')
    const end = colon !== -1 && hostHeader.charCodeAt(hostHeader.length - 1) !== 93 ? colon : hostHeader.length
    if (this.#lengths[Math.min(end, 255)] === 0) return undefined
    return this.#sites.get((end === hostHeader.length ? hostHeader : hostHeader.slice(0, end)).toLowerCase())
  }

  #setSite (key: string, site: LiveSite | undefined): void {
    const had = this.#sites.has(key)
    if (site === undefined) this.#sites.delete(key)
    else this.#sites.set(key, site)
    const bucket = Math.min(key.length, 255)
    if (had && site === undefined) (this.#lengths[bucket] as number)--
    if (!had && site !== undefined) (this.#lengths[bucket] as number)++
  }

  /** The route of `site` answering `method rawPath` (HEAD is served by a GET route), or undefined. */
  match (site: LiveSite, method: string, rawPath: string): RouteMatch | undefined {
    const routes = site.routes.get(method) ?? (method === 'HEAD' ? site.routes.get('GET') : undefined)
    if (routes === undefined) return undefined
    const parts = splitPath(rawPath)
    if (parts === undefined) return undefined
    for (const route of routes) {
      const vars = matchPath(route.path, parts)
      if (vars !== undefined) return { route, vars }
    }
    return undefined
  }

  // --- helpers

  private record (teamId: string, id: string, version: string): ApiDefinitionRecord {
    const record = this.o.store.apiDefinitions.get(teamId, id, version)
    if (record === undefined) throw new ColonyError('api_definition_not_found', `no API definition ${id} version ${version}`)
    return record
  }

  private deployment (teamId: string, site: string): ApiDeploymentRecord {
    const record = this.o.store.apiDeployments.get(bareHost(site))
    if (record === undefined || record.teamId !== teamId) throw new ColonyError('api_deployment_not_found', `no API deployment at ${site}`)
    return record
  }

  private refuseDeployed (teamId: string, ref: DefinitionRef, what: string): void {
    const at = this.o.store.apiDeployments.forTeam(teamId).filter((d) => parseRefs(d.definitions).some((r) => r.id === ref.id && r.version === ref.version))
    if (at.length > 0) {
      throw new ColonyError('api_definition_deployed', `API definition ${ref.id} version ${ref.version} is deployed at ${at.map((d) => d.site).join(', ')}: it cannot be ${what}; undeploy it first or make a new version`,
        { details: { sites: at.map((d) => d.site) } })
    }
  }

  /** Compiles every route of the site's definitions (conflicts across definitions are 409). */
  private build (key: string, teamId: string, refs: DefinitionRef[]): LiveSite {
    const all: CompiledRoute[] = []
    for (const ref of refs) {
      const record = this.record(teamId, ref.id, ref.version)
      all.push(...compileRoutes(ref, JSON.parse(record.routes) as RouteInput[]))
    }
    conflicts(all)
    const routes = new Map<string, CompiledRoute[]>()
    for (const r of all) routes.set(r.method, [...(routes.get(r.method) ?? []), r])
    for (const list of routes.values()) list.sort((a, b) => bySpecificity(a.path, b.path))
    return { key, teamId, routes }
  }
}

function refOf (input: DefinitionInput): DefinitionRef {
  if (input.id === undefined || input.version === undefined) {
    throw new ColonyError('invalid_body', 'an API definition needs an id and a version', { details: { field: input.id === undefined ? 'id' : 'version' } })
  }
  return { id: input.id, version: input.version }
}

function requestedRefs (input: DeploymentInput): DefinitionRef[] {
  const refs = input.apiDefinitions ?? (input.apiDefinitionId !== undefined && input.version !== undefined ? [{ id: input.apiDefinitionId, version: input.version }] : undefined)
  if (refs === undefined || refs.length === 0) {
    throw new ColonyError('invalid_body', 'name what to deploy: apiDefinitions [{id, version}], or apiDefinitionId and version', { details: { field: 'apiDefinitions' } })
  }
  if (new Set(refs.map((r) => r.id)).size !== refs.length) {
    throw new ColonyError('invalid_body', 'a site serves one version of each API definition', { details: { field: 'apiDefinitions' } })
  }
  return refs.map((r) => ({ id: r.id, version: r.version }))
}

/** A host without its port, lower case. */
function bareHost (host: string): string {
  const colon = host.lastIndexOf(':')
  return (colon > host.lastIndexOf(']') ? host.slice(0, colon) : host).toLowerCase()
}

/** `subdomain.host` (or `host`), lower case, without the port. */
export function siteKey (site: Site): { key: string, host: string, subdomain: string | undefined } {
  const bare = bareHost(site.host)
  const subdomain = site.subdomain === undefined || site.subdomain === '' ? undefined : site.subdomain.toLowerCase()
  const key = subdomain === undefined ? bare : `${subdomain}.${bare}`
  if (RESERVED_HOSTS.has(key)) throw new ColonyError('api_site_taken', `${key} is where Colony's own API answers; deploy to another host (e.g. a subdomain: {"host": "localhost", "subdomain": "api"})`)
  return { key, host: site.host, subdomain: site.subdomain === '' ? undefined : site.subdomain }
}

function parseRefs (json: string): DefinitionRef[] {
  return JSON.parse(json) as DefinitionRef[]
}

function view (r: ApiDefinitionRecord): ApiDefinition {
  return { id: r.id, version: r.version, draft: r.draft, routes: JSON.parse(r.routes) as ApiRoute[], createdAt: new Date(r.createdAtMs).toISOString() }
}

function deploymentView (r: ApiDeploymentRecord): ApiDeployment {
  return {
    apiDefinitions: parseRefs(r.definitions),
    site: { host: r.host, ...(r.subdomain !== null && { subdomain: r.subdomain }) },
    createdAt: new Date(r.createdAtMs).toISOString(),
  }
}
