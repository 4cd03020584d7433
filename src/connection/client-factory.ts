import { Redis } from 'ioredis'
import { DEFAULT_CLIENT } from '../client-names.js'
import { ioredisOptions, type Timeouts } from './client-options.js'
import type { ResolvedConnection } from '../config.js'
import { ConnectionMonitor, type Logger } from './connection-monitor.js'
import type { PassThroughRedisOptions } from './redis-options.js'
import { waitAtMost } from '../wait-at-most.js'

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
  /** ioredis options the app passed through (keyPrefix, family, connectionName…). */
  redisOptions?: PassThroughRedisOptions
}

const monitors = new WeakMap<Redis, ConnectionMonitor>()

/** The monitor of a client this package created; undefined for any other client. */
export function monitorOf (client: Redis): ConnectionMonitor | undefined {
  return monitors.get(client)
}

/** Creates an ioredis client for `connection` that starts connecting at once, watched by a ConnectionMonitor. */
export function createResilientClient (connection: ResolvedConnection, options: ClientFactoryOptions): ResilientClient {
  const monitor = new ConnectionMonitor(connection, options.logger, options.secrets)
  const client = new Redis({
    ...ioredisOptions(connection, options.timeouts, (attempt) => monitor.retryDelay(attempt)),
    ...options.redisOptions,
    // Named clients keep a name of their own under an app-wide connectionName.
    connectionName: connectionNameOf(connection.name, options.redisOptions?.connectionName),
  })
  return watch(client, monitor, options.timeouts, true)
}

/**
 * Watches an app's own client (the `client` option) like one of ours, without
 * changing its settings. It is closed with the app only if `closeClient`;
 * otherwise the plugin just stops listening to it.
 */
export function adoptClient (client: Redis, connection: ResolvedConnection, options: Omit<ClientFactoryOptions, 'redisOptions'>, closeClient: boolean): ResilientClient {
  const monitor = new ConnectionMonitor(connection, options.logger, options.secrets)
  return watch(client, monitor, options.timeouts, closeClient)
}

function watch (client: Redis, monitor: ConnectionMonitor, timeouts: Timeouts, closeClient: boolean): ResilientClient {
  monitor.attach(client)
  monitors.set(client, monitor)
  const close = async (): Promise<void> => {
    if (!closeClient) {
      monitor.detach()
      monitors.delete(client)
      return
    }
    monitor.close()
    if (client.status === 'ready') await waitAtMost(client.quit().catch(() => {}), timeouts.commandTimeout)
    // Ends any reconnect timer and a socket quit did not close.
    client.disconnect()
  }
  return { client, monitor, close }
}

/** `fastify-resilient-redis:cache`, or with an app's connectionName `api` and `api:cache`. */
function connectionNameOf (name: string, appName: string | undefined): string {
  const base = appName ?? 'fastify-resilient-redis'
  return name === DEFAULT_CLIENT && appName !== undefined ? base : `${base}:${name}`
}
