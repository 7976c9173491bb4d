import { startColony, type TestColony } from '../../helpers/runtime.js'
import { connect, type Recorder } from '../../helpers/mqtt.js'

/** A runtime shared by a `describe` block, with the MQTT clients each test opened closed after it. */
export interface BrokerUnderTest {
  readonly colony: TestColony
  readonly url: string
  readonly port: number
  /** Closed after the current test. */
  readonly opened: Array<{ close(): Promise<void> }>
  /** An mqtt.js client, closed after the current test. */
  client: (options?: Parameters<typeof connect>[1]) => Promise<Recorder>
}

/** Registers the mocha hooks: one runtime on free ports for the block, clients closed after each test. */
export function useColonyBroker (): BrokerUnderTest {
  let colony: TestColony | undefined
  const opened: Array<{ close(): Promise<void> }> = []
  const started = (): TestColony => {
    if (colony === undefined) throw new Error('the runtime is started in before()')
    return colony
  }
  before(async () => { colony = await startColony() })
  after(async () => { await colony?.close() })
  afterEach(async () => { await Promise.all(opened.splice(0).map((c) => c.close())) })
  return {
    get colony () { return started() },
    get url () { return started().rt.urls.mqtt },
    get port () { return Number(new URL(started().rt.urls.mqtt).port) },
    opened,
    client: async (options = {}) => {
      const c = await connect(started().rt.urls.mqtt, options)
      opened.push(c)
      return c
    },
  }
}
