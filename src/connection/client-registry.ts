import type { ResilientClient } from './client-factory.js'

/**
 * Every client the plugin hands out, the ones it creates at registration and
 * every duplicate made of them later (by the app, BullMQ, a pub/sub adapter):
 * the health report lists them, and closing the app closes them. A duplicate
 * its owner closed for good leaves the list.
 */
export class ClientRegistry {
  readonly #clients = new Set<ResilientClient>()

  add (client: ResilientClient): void {
    this.#clients.add(client)
  }

  remove (client: ResilientClient): void {
    this.#clients.delete(client)
  }

  /** A copy: closing a client removes it while the caller goes through the list. */
  list (): ResilientClient[] {
    return [...this.#clients]
  }
}
