import type { Context } from 'koa'
import busboy from 'busboy'
import { ColonyError } from '../../src/index.js'

export interface Multipart { fields: Record<string, string>, files: Record<string, Buffer> }

/**
 * Reads a multipart/form-data body (Golem's component upload: fields `name`, file `component`). A file over
 * `maxFileBytes` is 413 `component_too_large` as soon as it crosses the limit, without buffering the rest.
 */
export function readMultipart (ctx: Context, maxFileBytes: number, tooLarge: 'component_too_large' | 'file_too_large' = 'component_too_large'): Promise<Multipart> {
  const type = ctx.get('content-type')
  if (!/^multipart\/form-data/i.test(type)) {
    return Promise.reject(new ColonyError('unsupported_media_type', 'the upload must be multipart/form-data with a "component" file'))
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy
    try {
      // busboy signals `limit` when a file reaches fileSize (it cannot know whether more follows): one byte more,
      // so a component of exactly maxFileBytes is accepted.
      parser = busboy({ headers: ctx.req.headers, limits: { fileSize: maxFileBytes + 1, files: 2, fields: 16, fieldSize: 4096, parts: 20 } })
    } catch (err) {
      reject(new ColonyError('invalid_body', `the multipart body cannot be read: ${(err as Error).message}`))
      return
    }
    const out: Multipart = { fields: {}, files: {} }
    let failed = false
    const fail = (err: ColonyError): void => {
      if (failed) return
      failed = true
      ctx.set('Connection', 'close')
      ctx.req.unpipe(parser)
      ctx.req.resume()
      reject(err)
    }
    parser.on('field', (name, value) => { out.fields[name] = value })
    parser.on('file', (name, stream) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('limit', () => fail(new ColonyError(tooLarge, `the ${tooLarge === 'file_too_large' ? 'file' : 'component'} is larger than the limit of ${maxFileBytes} bytes`, { details: { limit: maxFileBytes } })))
      stream.on('close', () => { if (!failed) out.files[name] = Buffer.concat(chunks) })
    })
    parser.on('partsLimit', () => fail(new ColonyError('invalid_body', 'too many parts in the multipart body')))
    parser.on('error', (err: Error) => fail(new ColonyError('invalid_body', `the multipart body cannot be read: ${err.message}`)))
    parser.on('close', () => { if (!failed) resolve(out) })
    // A cut-off upload (client gone, or http.bodyTimeoutMs passed) never closes the parser: settle here instead.
    ctx.req.once('error', (err: Error) => fail(new ColonyError('invalid_body', `the upload was cut off: ${err.message}`)))
    ctx.req.pipe(parser)
  })
}
