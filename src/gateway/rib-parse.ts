/**
 * A subset of Golem's Rib, the scripting language of Worker Gateway bindings, parsed once when a definition is
 * accepted. What is understood (README, "Worker Gateway"):
 *
 *   script   := item (';' item)* ';'?            the value is the last item, an expression
 *   item     := 'let' name (':' type)? '=' expr   |   expr
 *   expr     := primary ('.' field | '.' name '(' args ')' | '[' index ']')*
 *   primary  := string with ${expr} parts | number (optional suffix: 200u64, 1.5f64) | true | false | none
 *             | '{' key ':' expr, ... '}' | '[' expr, ... ']' | '(' expr ')'
 *             | request.path.<var> | request.query.<var> | request.headers.<name> | request.body(.<field>)*
 *             | <function>(args)   e.g. golem:it/api.{get-cart}(x), api.get(), get()
 *             | instance(name?) | some(x) | ok(x) | err(x) | a let-bound name
 *
 * Names may contain `-` (`request.path.user-id`, `Content-Type`), as in Rib; there are no operators.
 */

export type Expr =
  | { k: 'lit', value: unknown }
  | { k: 'str', parts: Array<string | Expr> }
  | { k: 'name', name: string, at: number }
  | { k: 'request', part: 'path' | 'query' | 'headers' | 'body', name?: string, at: number }
  | { k: 'select', of: Expr, field: string | number, at: number }
  | { k: 'record', fields: Array<[string, Expr]> }
  | { k: 'list', items: Expr[] }
  | { k: 'call', fn: string, args: Expr[], at: number }
  | { k: 'method', on: Expr, fn: string, args: Expr[], at: number }
  | { k: 'builtin', fn: 'instance' | 'some' | 'ok' | 'err', args: Expr[], at: number }

export type Item = { k: 'let', name: string, type: string | undefined, value: Expr, at: number } | { k: 'expr', value: Expr }

export interface Script { source: string, items: Item[] }

/** A syntax error at an offset of the script. */
export class RibError extends Error {
  constructor (message: string, readonly offset: number) { super(message) }
}

/** Line and column (both from 1) of an offset. */
export function lineColumn (source: string, offset: number): { line: number, column: number } {
  const before = source.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}

const SUFFIX = /^(?:u8|u16|u32|u64|s8|s16|s32|s64|f32|f64)$/
const NUMBER = /-?\d+(?:\.\d+)?(?:e[+-]?\d+)?([a-z]\w*)?/iy
const NAME = /[A-Za-z_][\w-]*/y
/** A worker function name directly followed by `(`: `ns:pkg/iface.{fn}`, `ns:pkg/iface@1.0.0.{fn}`, `iface.fn`, `fn`. */
const FUNCTION = /(?:[a-z][\w-]*:[a-z][\w-]*\/[a-z][\w-]*(?:@[\w.+-]*\w)?(?:\.\{[a-z][\w-]*\}|\.[a-z][\w-]*|#[a-z][\w-]*)|[a-z][\w-]*(?:\.\{[a-z][\w-]*\}|\.[a-z][\w-]*|#[a-z][\w-]*)?)(?=\s*\()/iy
const BUILTINS = new Set(['instance', 'some', 'ok', 'err'])
const REQUEST_PARTS: Record<string, 'path' | 'query' | 'headers' | 'body'> = { path: 'path', query: 'query', headers: 'headers', header: 'headers', body: 'body' }

export function parseRib (source: string): Script {
  const p = new Parser(source)
  const items = p.script()
  return { source, items }
}

class Parser {
  private pos = 0
  private readonly scopes: Array<Set<string>> = [new Set()]

  constructor (private readonly src: string, private readonly base = 0, private readonly end = src.length) {
    this.pos = base
  }

  script (): Item[] {
    const items: Item[] = []
    this.skip()
    while (this.pos < this.end) {
      items.push(this.item())
      this.skip()
      if (this.pos >= this.end) break
      this.expect(';')
      this.skip()
    }
    if (items.length === 0) throw new RibError('the script is empty: it needs an expression', this.pos)
    const last = items[items.length - 1] as Item
    if (last.k === 'let') throw new RibError(`the script ends with "let ${last.name}": its value is its last expression`, last.at)
    return items
  }

  private item (): Item {
    const at = this.pos
    if (this.word('let')) {
      this.skip()
      const name = this.name('a name after "let"')
      this.skip()
      let type: string | undefined
      if (this.peek() === ':') {
        this.pos++
        this.skip()
        type = this.type()
        this.skip()
      }
      this.expect('=')
      const value = this.expr()
      ;(this.scopes[0] as Set<string>).add(name)
      return { k: 'let', name, type, value, at }
    }
    return { k: 'expr', value: this.expr() }
  }

  /** A type annotation: a name with optional `<...>` arguments (kept as text; numbers and bools convert). */
  private type (): string {
    const start = this.pos
    this.name('a type')
    if (this.peek() === '<') {
      let depth = 0
      do {
        const c = this.src[this.pos]
        if (c === '<') depth++
        else if (c === '>') depth--
        this.pos++
      } while (depth > 0 && this.pos < this.end)
      if (depth > 0) throw new RibError('an unclosed "<" in a type', start)
    }
    return this.src.slice(start, this.pos)
  }

  private expr (): Expr {
    this.skip()
    let e = this.primary()
    for (;;) {
      const save = this.pos
      this.skip()
      const c = this.peek()
      if (c === '.') {
        this.pos++
        this.skip()
        const at = this.pos
        const field = this.name('a field name after "."')
        if (this.lookingAtCall()) {
          e = { k: 'method', on: e, fn: field, args: this.args(), at }
        } else {
          e = { k: 'select', of: e, field, at }
        }
      } else if (c === '[') {
        const at = this.pos
        this.pos++
        this.skip()
        NUMBER.lastIndex = this.pos
        const m = NUMBER.exec(this.src)
        if (m === null || m[0].includes('.') || m[0].startsWith('-')) throw new RibError('an index is a whole number', this.pos)
        this.pos += m[0].length
        this.skip()
        this.expect(']')
        e = { k: 'select', of: e, field: Number(m[0]), at }
      } else {
        this.pos = save
        return e
      }
    }
  }

  private primary (): Expr {
    const at = this.pos
    const c = this.peek()
    if (c === undefined) throw new RibError('an expression is missing', at)
    if (c === '"') return this.string()
    if (c === '{') return this.record()
    if (c === '[') {
      this.pos++
      const items = this.list(']')
      return { k: 'list', items }
    }
    if (c === '(') {
      this.pos++
      const e = this.expr()
      this.skip()
      this.expect(')')
      return e
    }
    if (/[-\d]/.test(c)) return this.number()
    FUNCTION.lastIndex = this.pos
    const fn = FUNCTION.exec(this.src)
    if (fn !== null && this.pos + fn[0].length <= this.end) {
      const name = fn[0]
      const dot = name.indexOf('.')
      // `worker.get(...)` on a let-bound name is a method call, not the interface `worker`.
      if (dot === -1 || !this.bound(name.slice(0, dot))) {
        this.pos += name.length
        if (BUILTINS.has(name)) return { k: 'builtin', fn: name as 'instance', args: this.args(), at }
        return { k: 'call', fn: name, args: this.args(), at }
      }
    }
    const name = this.name('an expression')
    if (name === 'true' || name === 'false') return { k: 'lit', value: name === 'true' }
    if (name === 'none') return { k: 'lit', value: null }
    if (name === 'request' && !this.bound('request')) return this.request(at)
    if (!this.bound(name)) throw new RibError(`"${name}" is not defined (a let-bound name or request)`, at)
    return { k: 'name', name, at }
  }

  private request (at: number): Expr {
    this.skip()
    this.expect('.', 'request is read as request.path.<name>, request.query.<name>, request.headers.<name> or request.body')
    this.skip()
    const partAt = this.pos
    const word = this.name('path, query, headers or body')
    const part = REQUEST_PARTS[word]
    if (part === undefined) throw new RibError(`request.${word} is not known: use request.path, request.query, request.headers or request.body`, partAt)
    if (part === 'body') return { k: 'request', part, at }
    this.skip()
    this.expect('.', `request.${word} is followed by .<name>`)
    this.skip()
    return { k: 'request', part, name: this.name('a name'), at }
  }

  private string (): Expr {
    const start = this.pos
    this.pos++
    const parts: Array<string | Expr> = []
    let text = ''
    for (;;) {
      if (this.pos >= this.end) throw new RibError('an unclosed string', start)
      const c = this.src[this.pos] as string
      if (c === '"') {
        this.pos++
        break
      }
      if (c === '\\') {
        const n = this.src[this.pos + 1]
        const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', $: '$' }
        if (n === undefined || escapes[n] === undefined) throw new RibError(`an unknown escape "\\${n ?? ''}"`, this.pos)
        text += escapes[n]
        this.pos += 2
        continue
      }
      if (c === '$' && this.src[this.pos + 1] === '{') {
        if (text !== '') parts.push(text)
        text = ''
        const close = this.closing(this.pos + 2)
        const inner = new Parser(this.src, this.pos + 2, close)
        inner.scopes[0] = this.scopes[0] as Set<string>
        const e = inner.expr()
        inner.skip()
        if (inner.pos !== close) throw new RibError('one expression inside ${...}', inner.pos)
        parts.push(e)
        this.pos = close + 1
        continue
      }
      text += c
      this.pos++
    }
    if (text !== '' || parts.length === 0) parts.push(text)
    if (parts.length === 1 && typeof parts[0] === 'string') return { k: 'lit', value: parts[0] }
    return { k: 'str', parts }
  }

  /** The offset of the `}` closing an interpolation that starts at `from` (strings and braces inside skipped). */
  private closing (from: number): number {
    let depth = 0
    let inString = false
    for (let i = from; i < this.end; i++) {
      const c = this.src[i]
      if (inString) {
        if (c === '\\') i++
        else if (c === '"') inString = false
      } else if (c === '"') inString = true
      else if (c === '{') depth++
      else if (c === '}') {
        if (depth === 0) return i
        depth--
      }
    }
    throw new RibError('an unclosed "${"', from - 2)
  }

  private record (): Expr {
    this.pos++
    const fields: Array<[string, Expr]> = []
    const seen = new Set<string>()
    this.skip()
    while (this.peek() !== '}') {
      const at = this.pos
      let key: string
      if (this.peek() === '"') {
        const s = this.string()
        if (s.k !== 'lit') throw new RibError('a record key is a plain name or string', at)
        key = s.value as string
      } else {
        key = this.name('a field name (or "}")')
      }
      if (seen.has(key)) throw new RibError(`the field "${key}" appears twice`, at)
      seen.add(key)
      this.skip()
      this.expect(':')
      fields.push([key, this.expr()])
      this.skip()
      if (this.peek() === ',') {
        this.pos++
        this.skip()
      } else if (this.peek() !== '}') {
        throw new RibError('expected "," or "}" in a record', this.pos)
      }
    }
    this.pos++
    return { k: 'record', fields }
  }

  private number (): Expr {
    const at = this.pos
    NUMBER.lastIndex = this.pos
    const m = NUMBER.exec(this.src)
    if (m === null) throw new RibError('an expression is missing', at)
    const suffix = m[1]
    if (suffix !== undefined && !SUFFIX.test(suffix)) throw new RibError(`"${suffix}" is not a number type (u8..u64, s8..s64, f32, f64)`, at + m[0].length - suffix.length)
    this.pos += m[0].length
    const digits = suffix === undefined ? m[0] : m[0].slice(0, -suffix.length)
    return { k: 'lit', value: Number(digits) }
  }

  private args (): Expr[] {
    this.skip()
    this.expect('(')
    return this.list(')')
  }

  private list (close: string): Expr[] {
    const items: Expr[] = []
    this.skip()
    while (this.peek() !== close) {
      items.push(this.expr())
      this.skip()
      if (this.peek() === ',') {
        this.pos++
        this.skip()
      } else if (this.peek() !== close) {
        throw new RibError(`expected "," or "${close}"`, this.pos)
      }
    }
    this.pos++
    return items
  }

  private lookingAtCall (): boolean {
    let i = this.pos
    while (i < this.end && /\s/.test(this.src[i] as string)) i++
    return this.src[i] === '('
  }

  private bound (name: string): boolean {
    return this.scopes.some((s) => s.has(name))
  }

  private name (what: string): string {
    NAME.lastIndex = this.pos
    const m = NAME.exec(this.src)
    if (m === null || this.pos >= this.end) throw new RibError(`expected ${what}`, this.pos)
    this.pos += m[0].length
    return m[0]
  }

  private word (w: string): boolean {
    if (!this.src.startsWith(w, this.pos) || /[\w-]/.test(this.src[this.pos + w.length] ?? '')) return false
    this.pos += w.length
    return true
  }

  private expect (c: string, hint?: string): void {
    if (this.peek() !== c) throw new RibError(hint ?? `expected "${c}"`, this.pos)
    this.pos++
  }

  private peek (): string | undefined {
    return this.pos < this.end ? this.src[this.pos] : undefined
  }

  private skip (): void {
    while (this.pos < this.end) {
      const c = this.src[this.pos] as string
      if (c === ' ' || c === '\n' || c === '\t' || c === '\r') this.pos++
      else if (c === '/' && this.src[this.pos + 1] === '/') {
        while (this.pos < this.end && this.src[this.pos] !== '\n') this.pos++
      } else break
    }
  }
}
