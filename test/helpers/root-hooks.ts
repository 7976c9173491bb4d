/**
 * Mocha root hooks. An unhandled rejection anywhere fails the run instead of passing silently.
 */
const rejections: unknown[] = []
process.on('unhandledRejection', (reason) => { rejections.push(reason) })

export const mochaHooks = {
  afterEach (): void {
    if (rejections.length > 0) {
      const reason = rejections.splice(0)
      throw new Error(`unhandled rejection during the test: ${String((reason[0] as Error)?.stack ?? reason[0])}`)
    }
  },
}
