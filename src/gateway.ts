/**
 * The Worker Gateway's public surface (API definitions, deployments, serving deployed routes), for the REST bridge.
 * It sits above the store and below the services.
 */
export { Gateway, type LiveSite, type RouteMatch } from './gateway/service.js'
export { answer, type GatewayRequest, type GatewayResponse } from './gateway/serve.js'
export type {
  ApiDefinition, ApiDeployment, ApiRoute, Binding, DefinitionInput, DefinitionRef, DeploymentInput, GatewayInvocation, GatewayInvoker, RouteInput, Site,
} from './gateway/types.js'
export { METHODS } from './gateway/types.js'
