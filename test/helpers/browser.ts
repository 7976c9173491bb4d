import { existsSync, mkdirSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Debian's Chromium (installed by scripts/setup.sh), driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium'

/** Where tests leave what a person may want to look at afterwards (screenshots); ignored by git. */
export const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url).pathname

export async function launchBrowser (): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run npm run setup (it installs Debian's chromium)`)
  mkdirSync(ARTIFACTS, { recursive: true })
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  })
}
