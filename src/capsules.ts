/** The capsules domain's public surface (Wrenn capsules, wasmrun sessions), for the capsule actor and the REST family. */
export { CapsuleService, DEFAULT_EXEC_TIMEOUT_SEC, execView, newCapsuleId, type CapsuleCaller, type CapsuleEvent, type CapsuleView, type CreateCapsule, type ExecView, type TemplateView } from './capsules/service.js'
export { listDir, makeDir, MAX_FILE_BYTES, readFile, readFileStream, removePath, writeFile, writeFileStream, type FileEntry } from './capsules/files.js'
export { SessionService, SESSION_DEFAULTS, sessionPath, type SessionExec, type SessionExecResult, type SessionLimits, type SessionStatus } from './capsules/sessions.js'
export { PtySessions } from './capsules/pty-sessions.js'
export type { CapsuleDriver, CapsuleSandbox, CapsuleSpec, CapsuleProcess, CapsulePty, ExecRequest, ExecResult } from './capsules/driver.js'
