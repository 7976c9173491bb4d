import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import {
  findCircles, importGraph, layerOf, readFrom, sourceFiles, upwardImports, type ImportGraph, type Layer,
} from '../../helpers/import-graph.js'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

/**
 * The layers of the tree, bottom first (the README's "Architecture" section shows the same list). A file may import
 * its own layer and those below it, never one above. A folder entry ends with `/`; a file named on its own wins over
 * its folder. A new folder or top-level file in `src/` must be placed here, or this test fails and says so.
 */
const LAYERS: Layer[] = [
  { name: 'foundation', paths: ['src/errors.ts', 'src/ids.ts', 'src/clock.ts', 'src/log.ts', 'src/metrics.ts', 'src/lanes.ts'] },
  { name: 'wire', paths: ['src/wire/'] },
  {
    name: 'config',
    paths: [
      'src/settings.ts', 'src/http/settings.ts', 'src/broker/settings.ts', 'src/store/settings.ts', 'src/auth/settings.ts',
      'src/actor/settings.ts', 'src/wasm/settings.ts', 'src/workers/settings.ts', 'src/capsules/settings.ts', 'src/channels/settings.ts', 'src/hosts/settings.ts', 'src/log-settings.ts', 'src/config.ts',
    ],
  },
  { name: 'store', paths: ['src/store/'] },
  { name: 'identity', paths: ['src/auth/'] },
  { name: 'acl and http', paths: ['src/acl.ts', 'src/http/'] },
  { name: 'broker', paths: ['src/broker/'] },
  { name: 'wasm engine', paths: ['src/wasm/'] },
  { name: 'actor kernel', paths: ['src/actor/'] },
  { name: 'components domain', paths: ['src/components/'] },
  { name: 'durable workers domain', paths: ['src/workers/'] },
  { name: 'gateway domain', paths: ['src/gateway/'] },
  { name: 'plugins domain', paths: ['src/plugins/'] },
  { name: 'capsules domain', paths: ['src/capsules/'] },
  { name: 'channels domain', paths: ['src/channels/'] },
  { name: 'hosts domain', paths: ['src/hosts/'] },
  { name: 'services and bridge contract', paths: ['src/services.ts', 'src/bridge.ts', 'src/kernel-metrics.ts'] },
  { name: 'runtime', paths: ['src/runtime.ts'] },
  { name: 'public entry points', paths: ['src/index.ts', 'src/wasm.ts', 'src/components.ts', 'src/workers.ts', 'src/gateway.ts', 'src/plugins.ts', 'src/capsules.ts', 'src/channels.ts', 'src/hosts.ts'] },
  { name: 'actors and bridges', paths: ['actors/', 'bridges/'] },
  { name: 'composition root', paths: ['src/assembly.ts'] },
  { name: 'CLI', paths: ['src/main.ts'] },
]

/** An in-memory tree for the checker's own tests. */
function graphOf (tree: Record<string, string>): ImportGraph {
  return importGraph(Object.keys(tree).sort(), (file) => tree[file]!)
}

function describeCircles (graph: ImportGraph): string[] {
  return findCircles(graph).map((c) => c.path.join(' -> ') + (c.knot.length > c.path.length - 1 ? ` (knot: ${c.knot.join(', ')})` : ''))
}

describe('import graph checker', () => {
  it('follows every import form and resolves .js specifiers to the .ts beside them', () => {
    const graph = graphOf({
      'src/a.ts': "import { b } from './b.js'\nimport type { C } from './sub/c.js'\nimport 'node:fs'\nimport x from 'xstate'",
      'src/b.ts': "export { d } from './d.js'\nexport type { E } from './e.js'",
      'src/sub/c.ts': "const f = await import('../f.js')\ntype G = typeof import('../g.js')",
      'src/d.ts': '', 'src/e.ts': '', 'src/f.ts': '', 'src/g.ts': '',
    })
    assert.deepEqual(graph.get('src/a.ts'), ['src/b.ts', 'src/sub/c.ts'])
    assert.deepEqual(graph.get('src/b.ts'), ['src/d.ts', 'src/e.ts'])
    assert.deepEqual(graph.get('src/sub/c.ts'), ['src/f.ts', 'src/g.ts'])
  })

  it('names a circle made only of type imports', () => {
    const graph = graphOf({
      'src/cell.ts': "import type { Host } from './host.js'",
      'src/host.ts': "import type { Cell } from './cell.js'",
      'src/leaf.ts': "import type { Cell } from './cell.js'",
    })
    assert.deepEqual(findCircles(graph), [{ path: ['src/cell.ts', 'src/host.ts', 'src/cell.ts'], knot: ['src/cell.ts', 'src/host.ts'] }])
  })

  it('names the shortest way round a knot, and finds separate knots and a file importing itself', () => {
    const graph = graphOf({
      'src/a.ts': "import './b.js'\nimport './c.js'",
      'src/b.ts': "import './c.js'",
      'src/c.ts': "import './a.js'",
      'src/x.ts': "import './y.js'",
      'src/y.ts': "import './x.js'",
      'src/self.ts': "export * from './self.js'",
      'src/ok.ts': "import './a.js'",
    })
    assert.deepEqual(describeCircles(graph), [
      'src/a.ts -> src/c.ts -> src/a.ts (knot: src/a.ts, src/b.ts, src/c.ts)',
      'src/self.ts -> src/self.ts',
      'src/x.ts -> src/y.ts -> src/x.ts',
    ])
  })

  it('finds no circle in a tree that only runs one way', () => {
    const graph = graphOf({ 'src/a.ts': "import './b.js'\nimport './c.js'", 'src/b.ts': "import './c.js'", 'src/c.ts': '' })
    assert.deepEqual(findCircles(graph), [])
  })

  it('places a file by the longest declared path, and places none that no path holds', () => {
    const layers: Layer[] = [{ name: 'low', paths: ['src/wasm/'] }, { name: 'high', paths: ['src/wasm/registry.ts'] }]
    assert.equal(layerOf('src/wasm/pool.ts', layers), 0)
    assert.equal(layerOf('src/wasm/registry.ts', layers), 1)
    assert.equal(layerOf('src/wasm-extra.ts', layers), -1, 'a folder path holds only what is inside the folder')
    assert.equal(layerOf('src/other/x.ts', layers), -1)
  })

  it('reports an import of a higher layer and accepts its own layer and lower ones', () => {
    const layers: Layer[] = [{ name: 'kernel', paths: ['src/actor/'] }, { name: 'domain', paths: ['src/services.ts', 'src/wasm/'] }]
    const graph = graphOf({
      'src/actor/types.ts': "import type { Services } from '../services.js'\nimport type { Cell } from './cell.js'",
      'src/actor/cell.ts': '',
      'src/services.ts': "import type { Registry } from './wasm/registry.js'\nimport type { Cell } from './actor/cell.js'",
      'src/wasm/registry.ts': '',
    })
    assert.deepEqual(upwardImports(graph, layers), [{ from: 'src/actor/types.ts', to: 'src/services.ts', fromLayer: 'kernel', toLayer: 'domain' }])
  })
})

describe('the source tree', () => {
  const files = sourceFiles(ROOT, ['src', 'actors', 'bridges'])
  const graph = importGraph(files, readFrom(ROOT))

  it('reads the whole tree', () => {
    // Guards the checks below against passing on an empty or half-read tree.
    assert.ok(files.includes('src/actor/cell.ts') && files.includes('actors/main.ts') && files.includes('bridges/rest/index.ts'))
    assert.ok(graph.get('src/runtime.ts')!.includes('src/actor/system.ts'))
  })

  it('has no import circle, type imports included', () => {
    assert.deepEqual(describeCircles(graph), [], 'break each circle: move the shared types down a layer, or pass an interface')
  })

  it('places every file of src/, actors/ and bridges/ in a layer', () => {
    const unplaced = files.filter((f) => layerOf(f, LAYERS) < 0)
    assert.deepEqual(unplaced, [], 'add these to LAYERS in test/src/architecture/imports.test.ts (and the README list)')
  })

  it('declares no layer path that holds no file', () => {
    const stale = LAYERS.flatMap((l) => l.paths).filter((p) => !files.some((f) => p.endsWith('/') ? f.startsWith(p) : f === p))
    assert.deepEqual(stale, [], 'a file or folder moved: update LAYERS')
  })

  it('has no import from a higher layer', () => {
    const upward = upwardImports(graph, LAYERS).map((u) => `${u.from} (${u.fromLayer}) -> ${u.to} (${u.toLayer})`)
    assert.deepEqual(upward, [], 'a layer may import only itself and the layers below it')
  })
})
