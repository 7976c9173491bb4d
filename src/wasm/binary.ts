/**
 * A bounds-checked reader over a WebAssembly binary (LEB128 integers, names, vectors), the byte level under
 * `inspect.ts`. Offsets are absolute so that errors point at the byte that is wrong.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError'
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

export class Reader {
  pos: number

  constructor (readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start
  }

  get done (): boolean { return this.pos >= this.end }

  fail (message: string, at = this.pos): never {
    throw new DecodeError(`${message} (at byte 0x${at.toString(16)})`)
  }

  private need (n: number): void {
    if (this.pos + n > this.end) this.fail('unexpected end of data')
  }

  peek (): number {
    this.need(1)
    return this.bytes[this.pos] as number
  }

  u8 (): number {
    this.need(1)
    return this.bytes[this.pos++] as number
  }

  /** Unsigned LEB128 of at most `bits` bits, as a number (callers only use it for sizes, counts and indices). */
  uleb (bits = 32): number {
    const start = this.pos
    let result = 0
    let scale = 1
    for (let shift = 0; ; shift += 7) {
      if (shift >= bits + 7) this.fail('integer representation too long', start)
      const byte = this.u8()
      result += (byte & 0x7f) * scale
      scale *= 128
      if ((byte & 0x80) === 0) break
    }
    if (bits <= 32 && result > 0xffffffff) this.fail('integer too large', start)
    return result
  }

  u32 (): number { return this.uleb(32) }

  /** Signed LEB128 (33 bits): value types use it so that primitive codes (negative) and type indices share a byte. */
  s33 (): number {
    const start = this.pos
    let result = 0
    let scale = 1
    let byte: number
    let shift = 0
    do {
      if (shift >= 35) this.fail('integer representation too long', start)
      byte = this.u8()
      result += (byte & 0x7f) * scale
      scale *= 128
      shift += 7
    } while ((byte & 0x80) !== 0)
    if ((byte & 0x40) !== 0) result -= scale
    return result
  }

  bool (): boolean {
    const b = this.u8()
    if (b > 1) this.fail(`invalid boolean 0x${b.toString(16)}`, this.pos - 1)
    return b === 1
  }

  string (): string {
    const len = this.u32()
    this.need(len)
    const start = this.pos
    this.pos += len
    try {
      return utf8.decode(this.bytes.subarray(start, start + len))
    } catch {
      return this.fail('name is not valid UTF-8', start)
    }
  }

  skip (n: number): void {
    this.need(n)
    this.pos += n
  }

  /** A reader over the next `len` bytes; this reader moves past them. */
  sub (len: number): Reader {
    this.need(len)
    const r = new Reader(this.bytes, this.pos, this.pos + len)
    this.pos += len
    return r
  }

  vec<T> (item: () => T): T[] {
    const n = this.u32()
    // Every item takes at least one byte: a count larger than what is left is malformed (and would allocate).
    if (n > this.end - this.pos) this.fail(`vector of ${n} items does not fit in what is left`)
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(item())
    return out
  }

  /** `0x00` (absent) or `0x01 <T>`. */
  optional<T> (item: () => T): T | undefined {
    const b = this.u8()
    if (b === 0) return undefined
    if (b === 1) return item()
    return this.fail(`invalid option flag 0x${b.toString(16)}`, this.pos - 1)
  }

  expectEnd (what: string): void {
    if (this.pos !== this.end) this.fail(`${what} has ${this.end - this.pos} unread bytes`)
  }
}
