import { oneOf, section, text, type SettingsOf } from '../settings.js'

/** Where everything durable lives: the store, component bytes, the NATS host key. */
export const dataSettings = section('data', {
  dir: text('./data', { pattern: /^[^\0]+$/, hint: 'a directory path' }),
})

export const storeSettings = section('store', {
  file: text('colony.db', { pattern: /^(:memory:|[^\0/]+)$/, hint: 'a file name inside the data dir, or :memory:' }),
  synchronous: oneOf(['full', 'normal'], 'full'),
})
export type StoreSettings = SettingsOf<typeof storeSettings>
