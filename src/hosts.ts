/** The hosts domain's public surface (Wrenn hosts, joined Colonies), for the host actor, main-actor and the REST family. */
export { HostService, REFRESH_TTL_MS, REGISTRATION_TTL_MS, type Credentials, type HostCaller, type HostDirectory, type HostEvent, type HostView, type RegisterBody } from './hosts/service.js'
export { RemoteCapsules, type Forwarded, type RemoteCaller } from './hosts/remote.js'
