/**
 * Every error Colony reports carries a stable, snake_case `code` (the Wrenn/Golem style), an HTTP `status`
 * and an `expose` flag saying whether its message is safe to show to a caller. Codes are never reused:
 * retire a code by leaving it in the table with a comment.
 */
export const ERROR_CODES = {
  // configuration and start-up
  config_invalid: { status: 500, expose: true, message: 'Configuration is invalid' },
  insecure_bind: { status: 500, expose: true, message: 'Refusing to listen on a non-loopback address without authentication' },
  listen_failed: { status: 500, expose: true, message: 'Could not listen on the configured address' },
  data_dir_unusable: { status: 500, expose: true, message: 'The data directory cannot be used' },
  // actors
  actor_not_found: { status: 404, expose: true, message: 'Actor not found' },
  actor_protected: { status: 403, expose: true, message: 'Actor is protected' },
  actor_invalid_state: { status: 409, expose: true, message: 'Actor is not in a state that allows this' },
  actor_name_taken: { status: 409, expose: true, message: 'An actor with this name already exists' },
  actor_name_invalid: { status: 400, expose: true, message: 'Actor name is invalid' },
  actor_kind_unknown: { status: 400, expose: true, message: 'Unknown actor kind' },
  actor_limit_reached: { status: 503, expose: true, message: 'The actor limit is reached' },
  mailbox_full: { status: 503, expose: true, message: 'The actor mailbox is full' },
  supervisor_unknown: { status: 400, expose: true, message: 'Unknown supervisor' },
  message_unknown: { status: 400, expose: true, message: 'The actor does not understand this message' },
  // wire (MQTT payloads)
  wire_invalid_json: { status: 400, expose: true, message: 'Payload is not valid JSON' },
  wire_invalid_payload: { status: 400, expose: true, message: 'Payload does not match the expected shape' },
  wire_unknown_command: { status: 400, expose: true, message: 'Unknown command' },
  wire_payload_too_large: { status: 413, expose: true, message: 'Payload is too large' },
  publish_refused: { status: 403, expose: true, message: 'Publishing to this topic is not allowed' },
  invalid_topic_filter: { status: 400, expose: true, message: 'Invalid MQTT topic filter' },
  // HTTP
  invalid_json: { status: 400, expose: true, message: 'Request body is not valid JSON' },
  invalid_body: { status: 400, expose: true, message: 'Request body is invalid' },
  body_too_large: { status: 413, expose: true, message: 'Request body is too large' },
  unsupported_media_type: { status: 415, expose: true, message: 'Request body must be application/json' },
  invalid_query: { status: 400, expose: true, message: 'A query parameter is invalid' },
  route_not_found: { status: 404, expose: true, message: 'No such route' },
  method_not_allowed: { status: 405, expose: true, message: 'Method not allowed on this route' },
  shutting_down: { status: 503, expose: true, message: 'Colony is shutting down' },
  not_ready: { status: 503, expose: true, message: 'Colony is starting' },
  internal_error: { status: 500, expose: false, message: 'Internal server error' },
  request_timeout: { status: 408, expose: true, message: 'The request did not arrive in time' },
  // identity (Wrenn's codes where Wrenn has one)
  unauthorized: { status: 401, expose: true, message: 'Missing or invalid credentials' },
  forbidden: { status: 403, expose: true, message: 'Not allowed' },
  rate_limited: { status: 429, expose: true, message: 'Too many attempts; try again later' },
  email_taken: { status: 409, expose: true, message: 'An account with this email already exists' },
  account_disabled: { status: 403, expose: true, message: 'This account is disabled' },
  account_deactivated: { status: 403, expose: true, message: 'The account behind this credential is deactivated' },
  user_not_found: { status: 404, expose: true, message: 'No such user' },
  team_not_found: { status: 404, expose: true, message: 'No such team' },
  member_not_found: { status: 404, expose: true, message: 'The user is not a member of this team' },
  already_member: { status: 400, expose: true, message: 'The user is already a member of this team' },
  owner_immutable: { status: 403, expose: true, message: 'The team owner cannot leave, be removed or change role' },
  api_key_not_found: { status: 404, expose: true, message: 'No such API key' },
  oauth_provider_not_found: { status: 404, expose: true, message: 'OAuth provider not found or not configured' },
  // WebAssembly components
  component_invalid: { status: 400, expose: true, message: 'Not a valid WebAssembly component' },
  component_too_large: { status: 413, expose: true, message: 'The component is larger than the limit' },
  component_not_found: { status: 404, expose: true, message: 'No such component' },
  component_name_taken: { status: 409, expose: true, message: 'A component with this name already exists in the environment' },
  revision_not_found: { status: 404, expose: true, message: 'No such component revision' },
  invalid_params: { status: 400, expose: true, message: 'The parameters do not match the function' },
  function_not_found: { status: 404, expose: true, message: 'The component exports no such function' },
  function_ambiguous: { status: 400, expose: true, message: 'Several exported functions match this name' },
  invoke_timeout: { status: 504, expose: true, message: 'The invocation took longer than its timeout' },
  invoke_failed: { status: 500, expose: true, message: 'The component trapped or failed' },
  replay_diverged: { status: 500, expose: true, message: 'A replayed invocation made different host calls than recorded' },
  wasm_memory_exceeded: { status: 507, expose: true, message: 'The instance went over its memory budget' },
  link_missing: { status: 409, expose: true, message: 'An import of the component has no link' },
  not_scaled: { status: 409, expose: true, message: 'The component has no running instance' },
  provider_running: { status: 409, expose: true, message: 'A provider with this id is already running' },
  provider_not_found: { status: 404, expose: true, message: 'No such running provider' },
  // durable workers (Golem)
  worker_not_found: { status: 404, expose: true, message: 'No such worker' },
  worker_already_exists: { status: 409, expose: true, message: 'A worker with this name already exists for the component' },
  invalid_filter: { status: 400, expose: true, message: 'The worker filter is invalid' },
  invalid_cursor: { status: 400, expose: true, message: 'The cursor is invalid' },
  invalid_count: { status: 400, expose: true, message: 'The count is invalid' },
  oplog_write_failed: { status: 500, expose: true, message: 'The worker oplog could not be written' },
  invalid_worker_name: { status: 400, expose: true, message: 'The worker name is invalid' },
  invalid_idempotency_key: { status: 400, expose: true, message: 'The Idempotency-Key is invalid' },
  worker_failed: { status: 409, expose: true, message: 'The worker failed: a previous invocation trapped' },
  worker_exited: { status: 409, expose: true, message: 'The worker exited' },
  worker_interrupted: { status: 409, expose: true, message: 'The invocation was interrupted' },
  worker_not_ready: { status: 503, expose: true, message: 'The worker is not in memory; retry' },
  worker_not_resumable: { status: 409, expose: true, message: 'Only a Suspended, Interrupted or Idle worker can be resumed' },
  invalid_update: { status: 400, expose: true, message: 'The update request is invalid' },
  update_not_supported: { status: 409, expose: true, message: 'The component versions cannot do this kind of update' },
  snapshot_failed: { status: 500, expose: true, message: 'The component refused its snapshot' },
  store_failed: { status: 500, expose: true, message: 'The store could not write; nothing was acknowledged' },
  upgrade_required: { status: 426, expose: true, message: 'This endpoint is a WebSocket' },
  // Worker Gateway (API definitions, deployments, the routes deployed sites serve)
  api_definition_not_found: { status: 404, expose: true, message: 'No such API definition version' },
  api_definition_exists: { status: 409, expose: true, message: 'This API definition version already exists' },
  api_definition_draft: { status: 409, expose: true, message: 'A draft API definition cannot be deployed' },
  api_definition_deployed: { status: 409, expose: true, message: 'A deployed API definition version cannot change' },
  api_route_conflict: { status: 409, expose: true, message: 'Two routes answer the same method and path' },
  invalid_binding: { status: 400, expose: true, message: 'A route binding is invalid' },
  api_deployment_not_found: { status: 404, expose: true, message: 'No such API deployment' },
  api_site_taken: { status: 409, expose: true, message: 'This site is deployed by another team' },
  api_route_not_found: { status: 404, expose: true, message: 'The site has no route for this request' },
  api_input_invalid: { status: 400, expose: true, message: 'The request lacks what the route reads' },
  api_binding_failed: { status: 500, expose: true, message: 'The route binding could not make a response' },
  // Golem plugins
  account_not_found: { status: 404, expose: true, message: 'No such account' },
  plugin_not_found: { status: 404, expose: true, message: 'No such plugin' },
  plugin_exists: { status: 409, expose: true, message: 'A plugin with this name and version is already registered' },
  plugin_installation_not_found: { status: 404, expose: true, message: 'No such plugin installation' },
  plugin_already_installed: { status: 409, expose: true, message: 'The plugin is already installed on this component' },
  // capsules (Wrenn) and sessions (wasmrun)
  capsule_not_found: { status: 404, expose: true, message: 'No such capsule' },
  capsule_unavailable: { status: 503, expose: true, message: 'This host cannot run capsules' },
  capsule_not_running: { status: 409, expose: true, message: 'The capsule is not running' },
  capsule_invalid_state: { status: 409, expose: true, message: 'The capsule cannot do that in its state' },
  capsule_start_failed: { status: 502, expose: true, message: 'The capsule could not start' },
  template_not_found: { status: 404, expose: true, message: 'No such template' },
  file_not_found: { status: 404, expose: true, message: 'No such file or directory in the capsule' },
  file_exists: { status: 409, expose: true, message: 'The directory already exists' },
  file_invalid: { status: 400, expose: true, message: 'The path is not what the operation needs' },
  file_too_large: { status: 413, expose: true, message: 'The file exceeds the 100 MiB limit' },
  capsule_exec_failed: { status: 500, expose: true, message: 'A process in the capsule failed' },
  capsule_unsupported: { status: 501, expose: true, message: 'The capsule\'s driver cannot do that' },
  pty_not_found: { status: 404, expose: true, message: 'No such PTY session' },
  process_not_found: { status: 404, expose: true, message: 'No such background process' },
  name_reserved: { status: 409, expose: true, message: 'The name belongs to a built-in template' },
  template_name_taken: { status: 409, expose: true, message: 'The team already has a template with this name' },
  template_in_use: { status: 409, expose: true, message: 'Capsules still run on this template' },
  session_not_found: { status: 404, expose: true, message: 'No such session' },
  session_expired: { status: 410, expose: true, message: 'The session expired' },
  session_limit: { status: 429, expose: true, message: 'The maximum number of sessions is reached' },
  invalid_path: { status: 400, expose: true, message: 'The path is invalid' },
  // notification channels (Wrenn)
  channel_not_found: { status: 404, expose: true, message: 'No such channel' },
  channel_name_taken: { status: 409, expose: true, message: 'The team already has a channel with this name' },
  channel_config_invalid: { status: 400, expose: true, message: 'The channel config does not fit its provider' },
  channel_event_unknown: { status: 400, expose: true, message: 'Unknown channel event' },
  channel_delivery_failed: { status: 502, expose: true, message: 'The provider did not accept the notification' },
  // hosts (Wrenn)
  host_not_found: { status: 404, expose: true, message: 'No such host' },
  host_not_pending: { status: 409, expose: true, message: 'The host is not pending registration' },
  has_active_sandboxes: { status: 409, expose: true, message: 'The host still has active capsules; delete with force=true' },
  host_unavailable: { status: 503, expose: true, message: 'The host cannot be reached or cannot run capsules for Colony' },
  // MQTT protocol (the broker closes the connection; reported on system/violations where a client broke a rule)
  mqtt_invalid_topic: { status: 400, expose: true, message: 'Invalid MQTT topic name' },
  mqtt_invalid_filter: { status: 400, expose: true, message: 'Invalid MQTT topic filter' },
  mqtt_client_id_rejected: { status: 400, expose: true, message: 'MQTT client identifier rejected' },
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface ColonyErrorOptions {
  cause?: unknown
  status?: number
  /** Extra fields a caller may see (e.g. the names of invalid fields). Never put secrets here. */
  details?: Record<string, unknown>
}

export class ColonyError extends Error {
  override readonly name = 'ColonyError'
  readonly code: ErrorCode
  readonly status: number
  readonly expose: boolean
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message?: string, options: ColonyErrorOptions = {}) {
    const entry = ERROR_CODES[code]
    super(message ?? entry.message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = options.status ?? entry.status
    this.expose = entry.expose
    this.details = options.details
  }
}

export function isColonyError (err: unknown): err is ColonyError {
  return err instanceof ColonyError
}

/** Maps any thrown value to a ColonyError once, where it enters Colony's code. */
export function toColonyError (err: unknown): ColonyError {
  if (err instanceof ColonyError) return err
  return new ColonyError('internal_error', undefined, { cause: err })
}

/** The JSON body for an error, as every API family returns it: `{error: {code, message, ...details}}`. */
export function errorBody (err: ColonyError): { error: Record<string, unknown> } {
  const message = err.expose ? err.message : ERROR_CODES[err.code].message
  return { error: { code: err.code, message, ...(err.expose ? err.details : undefined) } }
}
