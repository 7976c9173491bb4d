/**
 * Golem's plugin model: a plugin is registered once per team (name + version), installed on components with a
 * priority and parameters, and activated per worker by installation id.
 */
export type PluginKind = 'OplogProcessor' | 'ComponentTransformer' | 'App' | 'Library'

/** What the plugin does, by `type` (Golem's `PluginTypeSpecificDefinition`). */
export type PluginSpecs =
  /** An HTTP service Golem hands uploaded components to; Colony keeps the definition and calls nothing yet. */
  | { type: 'ComponentTransformer', providedWitPackage?: string, jsonSchema?: string, validateUrl: string, transformUrl: string }
  /** A component of the same team that receives the oplog of every worker the plugin is active on. */
  | { type: 'OplogProcessor', componentId: string, componentVersion: number }
  /** Composed into a component in Golem; Colony keeps the definition and composes nothing yet. */
  | { type: 'App' | 'Library' }

/** Where the plugin may be installed: on any of its team's components, or on one of them only. */
export type PluginScope = { type: 'Global' } | { type: 'Component', componentId: string }

/** Specs as a caller sends them: which fields a kind needs is checked by the domain (specs.ts), naming the field. */
export interface PluginSpecsInput {
  type: PluginKind
  componentId?: string
  componentVersion?: number
  validateUrl?: string
  transformUrl?: string
  providedWitPackage?: string
  jsonSchema?: string
}

/** What a caller registers (Golem's `PluginDefinitionCreation`). */
export interface PluginCreation {
  name: string
  version: string
  description?: string
  /** A URL or base64 image, as the client keeps it. */
  icon?: string
  homepage?: string
  specs: PluginSpecsInput
  scope?: { type: 'Global' | 'Component', componentId?: string }
}

/** A plugin as the API returns it; `accountId` is the owning team's id. */
export interface PluginView {
  id: string
  name: string
  version: string
  description: string
  icon: string
  homepage: string
  specs: PluginSpecs
  scope: PluginScope
  accountId: string
  createdAt: string
  deleted: boolean
}

/** A plugin installed on a component (Golem's `PluginInstallation`, plus the plugin's id). */
export interface InstallationView {
  id: string
  pluginId: string
  name: string
  version: string
  priority: number
  parameters: Record<string, string>
}

/** What the worker runtime needs to activate an installation on a worker and record it in the oplog. */
export interface PluginActivation {
  installationId: string
  pluginId: string
  name: string
  version: string
  kind: PluginKind
  /** The installation's parameters (what Golem's ActivatePlugin entry records). */
  parameters: Record<string, string>
}

/** One oplog entry as the worker runtime hands it over (Golem's public oplog entry, `type` + `timestamp` + fields). */
export interface ForwardedEntry {
  oplogIndex: number
  entry: { readonly type: string, readonly timestamp: string }
}
