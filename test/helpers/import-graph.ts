import { readdirSync, readFileSync } from 'node:fs'
import { join, posix, relative, sep } from 'node:path'
import ts from 'typescript'

/** Which files each file imports, as repository-relative paths (`src/actor/cell.ts`). */
export type ImportGraph = Map<string, string[]>

/** Every `.ts` file under `dirs` of `root`, as sorted repository-relative posix paths. */
export function sourceFiles (root: string, dirs: string[]): string[] {
  const files: string[] = []
  for (const dir of dirs) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
      files.push(relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    }
  }
  return files.sort()
}

export function readFrom (root: string): (file: string) => string {
  return (file) => readFileSync(join(root, file), 'utf8')
}

/**
 * The relative imports among `files`. TypeScript's pre-processor reads every form the compiler would follow:
 * `import`, `import type` (a circle of types is still a circle), `export ... from` and `import()`. A specifier
 * names the emitted `.js`; it resolves to the `.ts` beside it. Packages and files outside the set are left out.
 */
export function importGraph (files: string[], read: (file: string) => string): ImportGraph {
  const known = new Set(files)
  const graph: ImportGraph = new Map()
  for (const file of files) {
    const targets = new Set<string>()
    for (const { fileName } of ts.preProcessFile(read(file), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue
      const target = posix.join(posix.dirname(file), fileName).replace(/\.js$/, '.ts')
      if (known.has(target)) targets.add(target)
    }
    graph.set(file, [...targets].sort())
  }
  return graph
}

/** One circle per knot of mutually reachable files: the shortest way round from the knot's first file, and the knot. */
export interface Circle {
  path: string[]
  knot: string[]
}

/** Every circle in the graph (Tarjan's strongly connected components; a file importing itself counts). */
export function findCircles (graph: ImportGraph): Circle[] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const circles: Circle[] = []
  let next = 0
  const visit = (file: string): void => {
    index.set(file, next)
    low.set(file, next)
    next++
    stack.push(file)
    onStack.add(file)
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target)
        low.set(file, Math.min(low.get(file)!, low.get(target)!))
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!))
      }
    }
    if (low.get(file) !== index.get(file)) return
    const knot: string[] = []
    let member: string
    do {
      member = stack.pop()!
      onStack.delete(member)
      knot.push(member)
    } while (member !== file)
    if (knot.length > 1 || (graph.get(file) ?? []).includes(file)) {
      knot.sort()
      circles.push({ path: shortestWayRound(graph, knot), knot })
    }
  }
  for (const file of graph.keys()) if (!index.has(file)) visit(file)
  return circles.sort((a, b) => a.knot[0]!.localeCompare(b.knot[0]!))
}

/** Breadth-first from the knot's first file back to itself, staying inside the knot. */
function shortestWayRound (graph: ImportGraph, knot: string[]): string[] {
  const start = knot[0]!
  const inKnot = new Set(knot)
  const cameFrom = new Map<string, string>()
  const queue = [start]
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i]!
    for (const target of graph.get(file) ?? []) {
      if (target === start) {
        const path = [start]
        for (let at: string | undefined = file; at !== start && at !== undefined; at = cameFrom.get(at)) path.splice(1, 0, at)
        return [...path, start]
      }
      if (!inKnot.has(target) || cameFrom.has(target)) continue
      cameFrom.set(target, file)
      queue.push(target)
    }
  }
  return [start, start]
}

/** A named layer of the tree and the paths it holds: a folder ends with `/`, anything else is one file. */
export interface Layer {
  name: string
  paths: string[]
}

/** The index of the layer holding `file`: the longest declared path that contains it decides. -1: none does. */
export function layerOf (file: string, layers: Layer[]): number {
  let best = -1
  let bestLength = -1
  layers.forEach((layer, i) => {
    for (const path of layer.paths) {
      const holds = path.endsWith('/') ? file.startsWith(path) : file === path
      if (holds && path.length > bestLength) {
        best = i
        bestLength = path.length
      }
    }
  })
  return best
}

export interface UpwardImport {
  from: string
  to: string
  fromLayer: string
  toLayer: string
}

/** Imports that reach a higher layer than the importer's own (the same layer or a lower one is fine). */
export function upwardImports (graph: ImportGraph, layers: Layer[]): UpwardImport[] {
  const found: UpwardImport[] = []
  for (const [from, targets] of graph) {
    const own = layerOf(from, layers)
    if (own < 0) continue
    for (const to of targets) {
      const theirs = layerOf(to, layers)
      if (theirs > own) found.push({ from, to, fromLayer: layers[own]!.name, toLayer: layers[theirs]!.name })
    }
  }
  return found
}
