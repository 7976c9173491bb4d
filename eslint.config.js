// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Layers run one way: src/ knows nothing of actors/ and bridges/ (assembly.ts aside); those two never import each other. */
const kernelOnly = {
  patterns: [
    { group: ['**/actors/**', '**/bridges/**'], message: 'src/ must not import actors/ or bridges/ (only src/assembly.ts assembles them).' },
  ],
}
const publicKernel = (sibling) => ({
  patterns: [
    { group: [`**/${sibling}/**`], message: `actors/ and bridges/ never import each other: send messages, read the registry.` },
    {
      group: ['**/src/**', '!**/src/index.js', '!**/src/wasm.js', '!**/src/components.js', '!**/src/workers.js', '!**/src/gateway.js', '!**/src/plugins.js', '!**/src/capsules.js', '!**/src/channels.js', '!**/src/hosts.js'],
      message: 'Import the kernel through its public entry points, src/index.js, src/wasm.js, src/components.js, src/workers.js, src/gateway.js, src/plugins.js, src/capsules.js, src/channels.js and src/hosts.js.',
    },
  ],
})

const BROWSER_GLOBALS = [
  'window', 'document', 'location', 'sessionStorage', 'localStorage', 'fetch', 'WebSocket', 'TextEncoder', 'performance',
  'requestAnimationFrame', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'confirm', 'console',
]

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'test-artifacts/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/main.ts may end the process.' }],
      'no-console': 'error',
      // Bridge and behaviour hooks are async by contract even when an implementation has nothing to await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['src/**/*.ts'], ignores: ['src/assembly.ts'], rules: { 'no-restricted-imports': ['error', kernelOnly] } },
  { files: ['src/main.ts'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['actors/**/*.ts'], rules: { 'no-restricted-imports': ['error', publicKernel('bridges')] } },
  { files: ['bridges/**/*.ts'], rules: { 'no-restricted-imports': ['error', publicKernel('actors')] } },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      'no-console': 'off',
    },
  },
  { files: ['test/bench/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
  {
    // The dashboard: plain browser ES modules served as they are (no build step, so no type information).
    files: ['dashboard/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(BROWSER_GLOBALS.map((name) => [name, 'readonly'])),
    },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }] },
  },
)
