import { Redis, type RedisOptions } from 'ioredis'
import { DEFAULT_CLIENT } from '../client-names.js'
import type { ResolvedConnection } from '../config.js'
import { scrubError } from '../redact.js'
import { waitAtMost } from '../wait-at-most.js'
import { ioredisOptions, type Timeouts } from './client-options.js'
import type { ClientRegistry } from './client-registry.js'
import { guardCommands } from './command-guard.js'
import { ConnectionMonitor, type Logger } from './connection-monitor.js'
import type { PassThroughRedisOptions } from './redis-options.js'
import { roleSettings } from './roles.js'
import { keepSubscriptions } from './subscriptions.js'

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
  /** Where every client made, duplicates included, is listed for health and close. */
  registry: ClientRegistry
}

const monitors = new WeakMap<Redis, ConnectionMonitor>()

/** The monitor of a client this package created; undefined for any other client. */
export function monitorOf (client: Redis): ConnectionMonitor | undefined {
  return monitors.get(client)
}

/**
 * Creates an ioredis client for `connection` with its role's settings and
 * guards, that starts connecting at once, watched by a ConnectionMonitor and
 * listed in the registry. Its `duplicate()` makes another such client, of
 * the same role, named `<name>.<n>`, with the options its caller gives on top.
 */
export function createResilientClient (connection: ResolvedConnection, options: ClientFactoryOptions, override: Partial<RedisOptions> = {}, duplicate = false): ResilientClient {
  const { timeouts, logger } = options
  const monitor = new ConnectionMonitor(connection, logger, options.secrets)
  const { guard } = roleSettings(connection.role, timeouts.commandTimeout)
  // A duplicate is made while the app runs, and used at once (client.duplicate().subscribe(…)):
  // what is sent before its first ready waits for it.
  const queueUntilReady = guard.queueUntilReady || (duplicate && connection.role !== 'queue')
  const client = new Redis({
    ...ioredisOptions(connection, timeouts, (attempt) => monitor.retryDelay(attempt)),
    ...options.redisOptions,
    // Named clients keep a name of their own under an app-wide connectionName.
    connectionName: connectionNameOf(connection.name, options.redisOptions?.connectionName),
    ...(queueUntilReady ? { enableOfflineQueue: true } : {}),
    // What the caller of duplicate() asks for wins, as in ioredis (BullMQ names its connections).
    ...override,
  })
  guardCommands(client, { ...guard, queueUntilReady }, timeouts.commandTimeout)
  if (guard.resubscribe) {
    keepSubscriptions(client, (error) => {
      const { message } = scrubError(error, options.secrets)
      logger.error({ redisClient: connection.name, redisError: message }, `Redis "${connection.name}" refused a subscription (it is not retried): ${message}`)
    })
  }
  let duplicates = 0
  client.duplicate = (own?: Partial<RedisOptions>) => {
    const name = `${connection.name}.${++duplicates}`
    return createResilientClient({ ...connection, name }, options, own, true).client
  }
  const resilient = watch(client, monitor, timeouts, true)
  options.registry.add(resilient)
  // Closed for good by its owner (quit, disconnect): out of the health report.
  client.once('end', () => { options.registry.remove(resilient) })
  return resilient
}

/**
 * Watches an app's own client (the `client` option) like one of ours, without
 * changing its settings. It is closed with the app only if `closeClient`;
 * otherwise the plugin just stops listening to it.
 */
export function adoptClient (client: Redis, connection: ResolvedConnection, options: Omit<ClientFactoryOptions, 'redisOptions'>, closeClient: boolean): ResilientClient {
  const monitor = new ConnectionMonitor(connection, options.logger, options.secrets)
  const resilient = watch(client, monitor, options.timeouts, closeClient)
  options.registry.add(resilient)
  return resilient
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
