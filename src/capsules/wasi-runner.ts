/**
 * The program that runs a WASI preview1 module, given to `node -e` (inside the namespace sandbox, or as the whole
 * process of a wasi-driver capsule). argv: the directory the module sees as `/`, the module file, the export to call
 * (`_start`, or none, runs it as a command), then the module's arguments. stdio is the process's own; the exit code
 * is the module's. Kept as source text so the same program runs wherever a node binary is, with nothing to install.
 */
export const WASI_RUNNER = `
const { readFileSync } = require('node:fs');
const { WASI } = require('node:wasi');
const [root, file, fn, ...args] = process.argv.slice(1);
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: process.env, preopens: { '/': root }, returnOnExit: true });
let mod;
try { mod = new WebAssembly.Module(readFileSync(file)); } catch (err) {
  process.stderr.write(file + ': not a WebAssembly module: ' + err.message + '\\n');
  process.exit(126);
}
const instance = new WebAssembly.Instance(mod, wasi.getImportObject());
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
`
