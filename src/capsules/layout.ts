/** What every capsule looks like from inside, whichever driver runs it: one user and its home. */
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

export const CAPSULE_USER = 'user'
export const CAPSULE_UID = 1000
export const CAPSULE_HOME = '/home/user'
/** The PATH a capsule's processes start with. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Bytes a directory tree takes on disk (allocated blocks), links not followed. */
export async function diskBytes (dir: string): Promise<number> {
  let total = 0
  const walk = async (d: string): Promise<void> => {
    let entries
    try { entries = await readdir(d, { withFileTypes: true }) } catch { return }
    for (const e of entries) {
      const path = join(d, e.name)
      try {
        const st = await lstat(path)
        total += st.blocks * 512
        if (st.isDirectory()) await walk(path)
      } catch { /* removed meanwhile */ }
    }
  }
  await walk(dir)
  return total
}
