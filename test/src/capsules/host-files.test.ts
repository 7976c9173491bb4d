/**
 * The wasi driver's capsule files against real directories: the normal operations, their error codes, and one test
 * per way a capsule's own files could try to reach the host. A second directory beside the root stands for the host.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync } from 'node:fs'
import { link, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { ColonyError } from '../../../src/errors.js'
import type { CapsuleFiles } from '../../../src/capsules/driver.js'
import { hostFiles } from '../../../src/capsules/wasi/host-files.js'

const HOME = '/home/user'
const SECRET = 'host secret\n'

/** Rejects with this Colony code, and a message that names no host path. */
function code (expected: string, root: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof ColonyError, String(err))
    assert.equal(err.code, expected, err.message)
    assert.ok(!err.message.includes(root), `the message names a host path: ${err.message}`)
    return true
  }
}

async function collect (stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function openFds (): number {
  return readdirSync('/proc/self/fd').length
}

describe('capsules: wasi host files (chroot resolution on the host)', () => {
  let base: string
  let root: string
  /** A directory outside the root with a file in it: nothing may read, change or remove them. */
  let outside: string
  let files: CapsuleFiles

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'colony-host-files-'))
    outside = join(base, 'host')
    await mkdir(outside)
    await writeFile(join(outside, 'secret.txt'), SECRET)
  })

  after(async () => {
    await rm(base, { recursive: true, force: true })
  })

  beforeEach(async () => {
    root = await mkdtemp(join(base, 'root-'))
    await mkdir(join(root, HOME), { recursive: true })
    files = hostFiles(root, HOME)
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), SECRET, 'the host file changed')
    assert.deepEqual(readdirSync(outside), ['secret.txt'], 'something was created on the host')
  })

  describe('operations', () => {
    it('writes and reads a file, a relative path from home and an absolute one, creating the parents', async () => {
      await files.write('notes/a.txt', Buffer.from('hello'))
      assert.equal(await readFile(join(root, HOME, 'notes/a.txt'), 'utf8'), 'hello')
      assert.equal((await files.read('/home/user/notes/a.txt', 100)).toString(), 'hello')
      await files.write('/notes/a.txt', Buffer.from('replaced and longer'))
      await files.write('/notes/a.txt', Buffer.from('short'))
      assert.equal((await files.read('/notes/a.txt', 100)).toString(), 'short')
    })

    it('read: a missing file is 404, a directory 400, over maxBytes 413 (exactly maxBytes is fine)', async () => {
      await assert.rejects(files.read('nope.txt', 10), code('file_not_found', root))
      await assert.rejects(files.read('/home', 10), code('file_invalid', root))
      await files.write('ten.txt', Buffer.alloc(10, 'x'))
      assert.equal((await files.read('ten.txt', 10)).length, 10)
      await assert.rejects(files.read('ten.txt', 9), code('file_too_large', root))
      await assert.rejects(files.read('ten.txt/below', 10), code('file_not_found', root))
      await assert.rejects(files.read('bad\0path', 10), code('file_invalid', root))
    })

    it('write: onto a directory is 400, under a file is 400', async () => {
      await assert.rejects(files.write('/home', Buffer.from('x')), code('file_invalid', root))
      await files.write('f', Buffer.from('x'))
      await assert.rejects(files.write('f/g', Buffer.from('x')), code('file_invalid', root))
    })

    it('lists down to depth levels, links not followed, with Wrenn\'s entry shape', async () => {
      await files.write('d/sub/deep.txt', Buffer.from('12345'))
      await files.write('d/top.txt', Buffer.from('abc'))
      await symlink('top.txt', join(root, HOME, 'd/link'))
      await symlink(outside, join(root, HOME, 'd/out'))
      const one = await files.list('d', 1)
      assert.deepEqual(one.map((e) => [e.path, e.type]), [['d/link', 'symlink'], ['d/out', 'symlink'], ['d/sub', 'directory'], ['d/top.txt', 'file']])
      const top = one.find((e) => e.name === 'top.txt')!
      const stat = await lstat(join(root, HOME, 'd/top.txt'))
      assert.deepEqual(top, {
        name: 'top.txt', path: 'd/top.txt', type: 'file', size: 3, mode: stat.mode & 0o7777, permissions: '-rw-r--r--',
        owner: 'user', group: 'user', modified_at: Math.floor(stat.mtimeMs / 1000),
      })
      assert.equal(one.find((e) => e.name === 'link')!.symlink_target, 'top.txt')
      assert.equal(one.find((e) => e.name === 'link')!.permissions, 'lrwxrwxrwx')
      assert.equal(one.find((e) => e.name === 'sub')!.permissions, 'drwxr-xr-x')
      const two = await files.list('/home/user/d', 2)
      assert.deepEqual(two.map((e) => e.path), ['/home/user/d/link', '/home/user/d/out', '/home/user/d/sub', '/home/user/d/sub/deep.txt', '/home/user/d/top.txt'])
      assert.deepEqual(await files.list('d', 0), one)
      await assert.rejects(files.list('missing', 1), code('file_not_found', root))
      await assert.rejects(files.list('d/top.txt', 1), code('file_invalid', root))
    })

    it('mkdir creates the parents and returns the entry; an existing directory is 409, a file 400', async () => {
      const made = await files.mkdir('a/b/c')
      assert.equal(made.path, 'a/b/c')
      assert.equal(made.name, 'c')
      assert.equal(made.type, 'directory')
      assert.ok(existsSync(join(root, HOME, 'a/b/c')))
      await assert.rejects(files.mkdir('a/b/c'), code('file_exists', root))
      await assert.rejects(files.mkdir('/'), code('file_exists', root))
      await files.write('file', Buffer.from('x'))
      await assert.rejects(files.mkdir('file'), code('file_invalid', root))
      await assert.rejects(files.mkdir('file/below'), code('file_invalid', root))
    })

    it('removes a file and a whole tree; a missing path is 404, the root 400', async () => {
      await files.write('t/x/y.txt', Buffer.from('y'))
      await files.write('t/z.txt', Buffer.from('z'))
      await files.remove('t/z.txt')
      assert.ok(!existsSync(join(root, HOME, 't/z.txt')))
      await files.remove('t')
      assert.ok(!existsSync(join(root, HOME, 't')))
      await assert.rejects(files.remove('t'), code('file_not_found', root))
      await assert.rejects(files.remove('/'), code('file_invalid', root))
      await assert.rejects(files.remove('/home/..'), code('file_invalid', root))
    })

    it('streams a file in and out; a missing file is 404 before any byte', async () => {
      const data = Buffer.alloc(3 * 1024 * 1024, 'q')
      await files.writeStream('s/big.bin', Readable.from([data.subarray(0, 1000), data.subarray(1000)]))
      assert.ok((await collect(await files.readStream('s/big.bin'))).equals(data))
      await assert.rejects(files.readStream('s/none'), code('file_not_found', root))
      await assert.rejects(files.readStream('s'), code('file_invalid', root))
    })

    it('writeStream onto a directory is 400, and a failing source leaves no fd open', async () => {
      await assert.rejects(files.writeStream('/home', Readable.from([Buffer.from('x')])), code('file_invalid', root))
      const before = openFds()
      const failing = new Readable({ read () { this.destroy(new Error('client went away')) } })
      await assert.rejects(files.writeStream('partial.txt', failing))
      assert.equal(openFds(), before)
      const stream = await files.readStream('partial.txt')
      stream.destroy()
      await new Promise((resolve) => stream.once('close', resolve))
      assert.equal(openFds(), before)
    })

    it('reads a hard-linked file (the capsule can only link files that are inside it)', async () => {
      await files.write('orig.txt', Buffer.from('linked'))
      await link(join(root, HOME, 'orig.txt'), join(root, HOME, 'hard.txt'))
      assert.equal((await files.read('hard.txt', 100)).toString(), 'linked')
    })
  })

  describe('escape attempts', () => {
    it('an absolute path to a host file is a path in the capsule', async () => {
      await assert.rejects(files.read('/etc/passwd', 1 << 20), code('file_not_found', root))
      await assert.rejects(files.read(join(outside, 'secret.txt'), 100), code('file_not_found', root))
      await files.write('/etc/passwd', Buffer.from('capsule passwd'))
      assert.equal((await files.read('/etc/passwd', 100)).toString(), 'capsule passwd')
      assert.equal(await readFile(join(root, 'etc/passwd'), 'utf8'), 'capsule passwd')
    })

    it('.. chains stop at the root', async () => {
      const up = '../'.repeat(30)
      await assert.rejects(files.read(`${up}etc/passwd`, 1 << 20), code('file_not_found', root))
      await assert.rejects(files.read(`/../../..${outside}/secret.txt`, 100), code('file_not_found', root))
      await files.write(`${up}landed.txt`, Buffer.from('x'))
      assert.ok(existsSync(join(root, 'landed.txt')))
      assert.deepEqual((await files.list(up, 1)).map((e) => e.name).sort(), ['home', 'landed.txt'])
    })

    it('a symlink to /etc resolves to the capsule\'s /etc', async () => {
      await symlink('/etc', join(root, HOME, 'etc'))
      await assert.rejects(files.read('etc/passwd', 1 << 20), code('file_not_found', root))
      await assert.rejects(files.list('etc', 1), code('file_not_found', root))
      await mkdir(join(root, 'etc'))
      await writeFile(join(root, 'etc/hostname'), 'capsule')
      assert.deepEqual((await files.list('etc', 1)).map((e) => e.path), ['etc/hostname'])
    })

    it('a symlink to ../../.. stops at the root', async () => {
      await symlink('../../../../../..', join(root, HOME, 'up'))
      await assert.rejects(files.read(`up${outside}/secret.txt`, 100), code('file_not_found', root))
      await assert.rejects(files.read('up/up/up/etc/passwd', 1 << 20), code('file_not_found', root))
      await files.write(`up${outside}/secret.txt`, Buffer.from('inside'))
      assert.equal(await readFile(join(root, outside, 'secret.txt'), 'utf8'), 'inside')
    })

    it('a symlink to a host file by absolute path reads and writes the capsule\'s file of that name', async () => {
      await symlink(join(outside, 'secret.txt'), join(root, HOME, 'secret'))
      await assert.rejects(files.read('secret', 100), code('file_not_found', root))
      await assert.rejects(files.readStream('secret'), code('file_not_found', root))
      await files.write('secret', Buffer.from('mine'))
      await files.writeStream('secret', Readable.from([Buffer.from('mine again')]))
      assert.equal(await readFile(join(root, outside, 'secret.txt'), 'utf8'), 'mine again')
      assert.equal(await readlink(join(root, HOME, 'secret')), join(outside, 'secret.txt'))
    })

    it('a symlink loop is 400; 40 links are followed, 41 are not', async () => {
      await symlink('b', join(root, HOME, 'a'))
      await symlink('a', join(root, HOME, 'b'))
      await symlink('self', join(root, HOME, 'self'))
      await assert.rejects(files.read('a', 100), code('file_invalid', root))
      await assert.rejects(files.write('self', Buffer.from('x')), code('file_invalid', root))
      await assert.rejects(files.list('a', 1), code('file_invalid', root))
      await assert.rejects(files.mkdir('self/x'), code('file_invalid', root))
      await files.write('end.txt', Buffer.from('end'))
      for (let i = 1; i <= 41; i++) await symlink(i === 1 ? 'end.txt' : `l${i - 1}`, join(root, HOME, `l${i}`))
      assert.equal((await files.read('l40', 100)).toString(), 'end')
      await assert.rejects(files.read('l41', 100), code('file_invalid', root))
    })

    it('writing through a symlinked parent directory lands inside the root', async () => {
      await symlink(outside, join(root, HOME, 'abs'))
      await symlink(`../../../../../../../..${outside}`, join(root, HOME, 'rel'))
      await files.write('abs/new.txt', Buffer.from('1'))
      await files.write('rel/new2.txt', Buffer.from('2'))
      await files.writeStream('abs/sub/new3.txt', Readable.from([Buffer.from('3')]))
      await files.mkdir('rel/made')
      assert.deepEqual(readdirSync(join(root, outside)).sort(), ['made', 'new.txt', 'new2.txt', 'sub'])
      await assert.rejects(files.read('abs/secret.txt', 100), code('file_not_found', root))
    })

    it('removing a symlink that points outside removes only the link', async () => {
      await symlink(outside, join(root, HOME, 'dir-link'))
      await symlink(join(outside, 'secret.txt'), join(root, HOME, 'file-link'))
      await files.remove('dir-link')
      await files.remove('file-link')
      assert.deepEqual(readdirSync(join(root, HOME)), [])
      // A link inside a removed tree is unlinked, not followed.
      await mkdir(join(root, HOME, 'tree'))
      await symlink(outside, join(root, HOME, 'tree/out'))
      await files.remove('tree')
      assert.ok(!existsSync(join(root, HOME, 'tree')))
    })

    it('a directory swapped for a link to the host while files are read, written, listed and removed: nothing reaches the host', async () => {
      const home = join(root, HOME)
      await mkdir(join(home, 'd/host'), { recursive: true })
      await symlink(base, join(home, 'link'))
      // Another process swaps the directory `d` for a link to the host's directory and back, as fast as it can (a
      // write may create a `d` of its own meanwhile: the swapper removes it). Resolved, `d/host` is inside; by the time
      // it is opened the kernel may follow `d` to the host, which only the check of the opened fd catches.
      const swapper = spawn(process.execPath, ['-e', `
        const { renameSync, rmSync } = require('node:fs'); process.chdir(process.argv[1])
        const move = (from, to) => { for (;;) { try { return renameSync(from, to) } catch { try { rmSync(to, { recursive: true, force: true }) } catch {} } } }
        for (;;) { move('d', 'dir'); move('link', 'd'); move('d', 'link'); move('dir', 'd') }`, home], { stdio: 'ignore' })
      const exited = once(swapper, 'exit')
      let done = 0
      try {
        for (let i = 0; i < 1000; i++) {
          const ops = [
            files.read('d/host/secret.txt', 100).then((b) => assert.notEqual(b.toString(), SECRET)),
            files.write('d/host/secret.txt', Buffer.from('x')),
            files.remove('d/host/secret.txt'),
            files.list('d/host', 1).then((l) => assert.ok(l.every((e) => e.name === 'secret.txt' && e.size !== SECRET.length))),
          ]
          for (const r of await Promise.allSettled(ops)) {
            if (r.status === 'fulfilled') done++
            else if (!(r.reason instanceof ColonyError)) throw r.reason
          }
        }
        assert.equal(swapper.exitCode, null, 'the swapper stopped')
      } finally {
        swapper.kill()
        await exited
      }
      assert.ok(done > 0)
    })

    it('/proc/1/root is just a path in the capsule', async () => {
      await assert.rejects(files.read('/proc/1/root/etc/passwd', 1 << 20), code('file_not_found', root))
      await assert.rejects(files.read(`/proc/self/root${outside}/secret.txt`, 100), code('file_not_found', root))
      await assert.rejects(files.list('/proc', 1), code('file_not_found', root))
      await files.write('/proc/1/root/x', Buffer.from('x'))
      assert.ok(existsSync(join(root, 'proc/1/root/x')))
    })
  })
})
