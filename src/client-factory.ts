import { Redis } from 'ioredis'
import { ioredisOptions, type Timeouts } from './client-options.js'
import type { ResolvedConnection } from './config.js'
import { ConnectionMonitor, type Logger } from './connection-monitor.js'
import { waitAtMost } from './wait-at-most.js'

export interface ResilientClient {
  readonly client: Redis
  readonly monitor: ConnectionMonitor
  /** Quits politely when the server answers, and never waits longer than the command timeout. */
  close: () => Promise<void>
}

export interface ClientFactoryOptions {
  logger: Logger
  timeouts: Timeouts
  /** Every configured password, to scrub from whatever we log. */
  secrets: readonly string[]
}

const monitors = new WeakMap<Redis, ConnectionMonitor>()

/** The monitor of a client this package created; undefined for any other client. */
export function monitorOf (client: Redis): ConnectionMonitor | undefined {
  return monitors.get(client)
}

/** Creates an ioredis client for `connection` that starts connecting at once, watched by a ConnectionMonitor. */
export function createResilientClient (connection: ResolvedConnection, options: ClientFactoryOptions): ResilientClient {
  const monitor = new ConnectionMonitor(connection, options.logger, options.secrets)
  const client = new Redis(ioredisOptions(connection, options.timeouts, (attempt) => monitor.retryDelay(attempt)))
  monitor.attach(client)
  monitors.set(client, monitor)

  const close = async (): Promise<void> => {
    monitor.close()
    if (client.status === 'ready') await waitAtMost(client.quit().catch(() => {}), options.timeouts.commandTimeout)
    // Ends any reconnect timer and a socket quit did not close.
    client.disconnect()
  }
  return { client, monitor, close }
}
