/**
 * The Worker Gateway's shapes: Golem's HttpApiDefinition and ApiDeployment as the REST API speaks them, and the one
 * thing the gateway needs from the rest of Colony, a way to call a worker's function.
 */

/** Calls a function of a component's worker. The runtime wires durable workers here; errors are ColonyErrors. */
export interface GatewayInvoker {
  invoke: (req: GatewayInvocation) => Promise<{ value: unknown }>
}

export interface GatewayInvocation {
  /** The team that deployed the site (whose component is called). */
  teamId: string | undefined
  componentId: string
  /** The binding's pinned component version, when it names one. */
  componentVersion?: number
  workerName: string
  /** A worker made up for this one call (the binding names none): it need not outlive the call. */
  ephemeral?: boolean
  /** As the script wrote it: `golem:it/api.{get}`, `api.get`, `get` (see resolveFunction). */
  functionName: string
  /** Plain JSON values in WIT order. */
  params: unknown[]
  idempotencyKey?: string
}

/** Golem's method spellings. */
export const METHODS = ['Get', 'Post', 'Put', 'Patch', 'Delete', 'Head', 'Options'] as const
export type GolemMethod = typeof METHODS[number]

export interface BindingInput {
  bindingType?: string
  componentId: string | { componentId: string, version?: number }
  workerName?: string
  idempotencyKey?: string
  response: string
}

export interface RouteInput { method: string, path: string, binding: BindingInput }

export interface DefinitionInput { id?: string, version?: string, draft?: boolean, routes: RouteInput[] }

export interface Binding {
  bindingType: 'default'
  componentId: { componentId: string, version?: number }
  workerName?: string
  idempotencyKey?: string
  response: string
}

export interface ApiRoute { method: GolemMethod, path: string, binding: Binding }

/** Golem's HttpApiDefinition. */
export interface ApiDefinition { id: string, version: string, draft: boolean, routes: ApiRoute[], createdAt: string }

export interface DefinitionRef { id: string, version: string }

export interface Site { host: string, subdomain?: string }

/** Golem's ApiDeployment. */
export interface ApiDeployment { apiDefinitions: DefinitionRef[], site: Site, createdAt: string }

/** Golem's deployment request, or the seed's flat form. */
export interface DeploymentInput {
  apiDefinitions?: DefinitionRef[]
  apiDefinitionId?: string
  version?: string
  site: Site
}
