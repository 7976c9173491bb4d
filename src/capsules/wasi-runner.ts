/**
 * The program that runs a WASI preview1 module, given to `node -e` (inside the namespace sandbox, or as the whole
 * process of a wasi-driver capsule). argv: the directory the module sees as `/`; the module file, or `fd:3` for the
 * bytes on fd 3; the export to call (`_start`, or none, runs it as a command); the module's environment as JSON, or `-`
 * for the process's own (an empty module means the command was not found: exit 127); the module's argv[0]; then its
 * arguments. stdio is the process's own; the exit code is the module's. Kept as source text so the same program runs wherever a node binary is, with nothing to install.
 *
 * A component is handed to component-runner.ts where the sandbox has it (the namespace driver binds it in);
 * elsewhere it is refused (126). Modules cannot make symbolic links (see below).
 *
 * The environment goes in argv, not into the node process's own, in the wasi driver: a capsule's variables (say
 * NODE_OPTIONS) must never change how the host's node runs.
 */
/** Where the namespace driver binds component-runner.ts into every capsule. */
export const COMPONENT_RUNNER_PATH = '/usr/lib/colony/component-runner.mjs'

export const WASI_RUNNER = `
const COMPONENT_RUNNER = ${JSON.stringify(COMPONENT_RUNNER_PATH)};
const { readFileSync } = require('node:fs');
const { WASI } = require('node:wasi');
const [root, file, fn, envJson, argv0, ...args] = process.argv.slice(1);
const env = envJson === '-' ? process.env : JSON.parse(envJson);
const wasi = new WASI({ version: 'preview1', args: [argv0, ...args], env, preopens: { '/': root }, returnOnExit: true });
const bytes = readFileSync(file === 'fd:3' ? 3 : file);
// Every ending sets the exit code and returns: the process ends when nothing is left to run.
const fail = (code, message) => { process.stderr.write(argv0 + ': ' + message + '\\n'); process.exitCode = code; };
const component = bytes.length >= 8 && bytes.readUInt32LE(0) === 0x6d736100 && bytes.readUInt32LE(4) !== 1;
// Under Node's permission model (the wasi driver) the runner's path is outside what may be read: no runner there.
const hasRunner = () => { try { return require('node:fs').existsSync(COMPONENT_RUNNER); } catch { return false; } };
if (bytes.length === 0) fail(127, 'command not found');
else if (component && hasRunner()) {
  import(COMPONENT_RUNNER).then((m) => m.main(bytes, env, argv0, args, root === '.' ? process.cwd() : root))
    .catch((err) => { fail(126, err && err.message || String(err)); });
} else if (component) fail(126, 'a WebAssembly component; this runs WASI preview1 modules');
else runModule();
function runModule () {
let mod;
try { mod = new WebAssembly.Module(bytes); } catch (err) {
  fail(126, 'not a WebAssembly module: ' + err.message);
  return;
}
const imports = wasi.getImportObject();
// Node's WASI checks paths by their text, then lets the kernel follow links: a relative link that climbs out of the
// preopened directory would be followed out of it. So a module may not make symlinks (EPERM); without links, the
// textual check holds.
imports.wasi_snapshot_preview1.path_symlink = () => 63;
const instance = new WebAssembly.Instance(mod, imports);
let code = 0;
if (!fn || fn === '_start' || fn === 'main' && typeof instance.exports.main !== 'function') code = wasi.start(instance);
else if (typeof instance.exports[fn] !== 'function') {
  process.stderr.write('the module exports no function ' + fn + '\\n');
  code = 2;
} else {
  if (typeof instance.exports._initialize === 'function') wasi.initialize(instance);
  const out = instance.exports[fn](...args.map((a) => /^-?\\d+$/.test(a) ? Number(a) : a));
  if (out !== undefined) process.stdout.write(String(out) + '\\n');
}
process.exitCode = code;
}
`
