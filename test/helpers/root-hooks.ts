/**
 * Mocha root hooks. An unhandled rejection anywhere fails the run instead of passing silently.
 */
import { killAll } from './cli.js'
import { killAllNats } from './nats-server.js'

const rejections: unknown[] = []
process.on('unhandledRejection', (reason) => { rejections.push(reason) })

export const mochaHooks = {
  /** A safety net: a test that failed half way must not leave a child process that keeps mocha from exiting. */
  afterAll (): void {
    killAll()
    killAllNats()
  },

  afterEach (): void {
    if (rejections.length > 0) {
      const reason = rejections.splice(0)
      throw new Error(`unhandled rejection during the test: ${String((reason[0] as Error)?.stack ?? reason[0])}`)
    }
  },
}
