import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { DEFAULT_CLIENT } from '../config/client-names.js'
import { InvalidSettingError } from '../errors.js'
import type { ResolvedConnection } from '../config/index.js'
import { scrubError } from '../redact.js'
import { waitAtMost } from '../wait-at-most.js'
import { ioredisOptions, type Timeouts } from './client-options.js'
import type { ClientRegistry } from './client-registry.js'
import { ClusterNodeWatch } from './cluster-nodes.js'
import { guardCommands } from './command-guard.js'
import { MasterFollower } from './master-follower.js'
import { ConnectionMonitor, type Logger } from './connection-monitor.js'
import type { PassThroughRedisOptions } from './redis-options.js'
import { roleSettings } from './roles.js'
import { keepSubscriberAlive } from './subscriber-heartbeat.js'
import { keepSubscriptions } from './subscriptions.js'
import { clusterOptions, sentinelOptions } from './topology-options.js'

/** A client the plugin hands out: one server or Sentinel (a `Redis`), or a `Cluster`. */
export type AnyRedisClient = Redis | Cluster

export interface ResilientClient {
  readonly client: AnyRedisClient
  readonly monitor: ConnectionMonitor
  /** On a cluster: its masters one by one (a lost master while the rest serve). */
  readonly nodes?: ClusterNodeWatch
  /** Quits politely when the server answers, and never waits longer than the command timeout. */
  close: () => Promise<void>
}

export interface ClientFactoryOptions {
  logger: Logger
  timeouts: Timeouts
  /** Every configured password, to scrub from whatever we log. */
  secrets: readonly string[]
  /** ioredis options the app passed through (keyPrefix, family, connectionName…). */
  redisOptions: PassThroughRedisOptions
  /** Where every client made, duplicates included, is listed for health and close. */
  registry: ClientRegistry
}

const monitors = new WeakMap<AnyRedisClient, ConnectionMonitor>()

/** The monitor of a client this package created; undefined for any other client. */
export function monitorOf (client: AnyRedisClient): ConnectionMonitor | undefined {
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
  const retry = (attempt: number): number => monitor.retryDelay(attempt)
  const passThrough = options.redisOptions
  const { topology } = connection
  // Sentinel: the failovers the sentinels announce are followed at once, not at the next reconnect.
  const follower = topology.kind === 'sentinel' ? new MasterFollower(topology, connection.name, logger) : undefined
  const reconnectDelay = follower === undefined ? retry : (attempt: number): number => follower.reconnectDelay(retry(attempt))
  const redisOptions: RedisOptions = {
    ...ioredisOptions(connection, timeouts, reconnectDelay),
    ...sentinelOptions(connection, timeouts, retry, follower?.onErrorReply),
    ...passThrough,
    // Named clients keep a name of their own under an app-wide connectionName.
    connectionName: connectionNameOf(connection.name, passThrough.connectionName),
    ...(queueUntilReady ? { enableOfflineQueue: true } : {}),
    // What the caller of duplicate() asks for wins, as in ioredis (BullMQ names its connections).
    ...override,
  }
  const client: AnyRedisClient = topology.kind === 'cluster'
    ? new Cluster(topology.nodes.map(({ host, port }) => ({ host, port })), clusterOptions(redisOptions, passThrough, retry, timeouts.commandTimeout))
    : new Redis(redisOptions)
  const onFirstLongBlock = connection.role !== 'command' ? undefined : (command: string) => {
    logger.warn({ redisClient: connection.name, redisCommand: command },
      `Redis "${connection.name}" was sent ${command}, which blocks: on a client of role command it fails at the command timeout ` +
      `(${timeouts.commandTimeout} ms) and its connection is dropped. Give this job a client of role 'blocking' (BLPOP, XREAD BLOCK…) ` +
      `or 'queue' (BullMQ's Worker and QueueEvents).`)
  }
  guardCommands(client, { ...guard, queueUntilReady }, timeouts.commandTimeout, onFirstLongBlock, topology.kind === 'single')
  // Roles other than command are refused on a cluster (config/named-clients.ts): only a Redis subscribes.
  if (guard.resubscribe && client instanceof Redis) {
    const subscriptions = keepSubscriptions(client, (error) => {
      const { message } = scrubError(error, options.secrets)
      logger.error({ redisClient: connection.name, redisError: message }, `Redis "${connection.name}" refused a subscription (it is not retried): ${message}`)
    })
    keepSubscriberAlive(client, subscriptions)
  }
  let duplicates = 0
  // Another client of the same kind, also watched: duplicate(options) on a Redis, duplicate(nodes, options) on a Cluster.
  const another = (own?: Partial<RedisOptions>): AnyRedisClient => {
    const name = `${connection.name}.${++duplicates}`
    return createResilientClient({ ...connection, name }, options, own, true).client
  }
  if (client instanceof Cluster) {
    client.duplicate = (nodes?: unknown[], own?: unknown) => {
      // ioredis takes other startup nodes and Cluster options here; a watched copy is one like this one.
      if ((nodes !== undefined && nodes.length > 0) || own !== undefined) {
        throw new InvalidSettingError('duplicate() of a Cluster', 'takes no other nodes or options here', 'call duplicate() without arguments: it makes another Cluster on the same nodes, watched like this one')
      }
      return another() as Cluster
    }
  }
  else client.duplicate = (own?: Partial<RedisOptions>) => another(own) as Redis
  if (follower !== undefined) follower.attach(client as Redis)
  const watched = watch(client, monitor, timeouts, true)
  const resilient: ResilientClient = {
    ...watched,
    ...(client instanceof Cluster ? { nodes: new ClusterNodeWatch(client, connection, monitor, logger, options.secrets) } : {}),
    close: async () => {
      await watched.close()
      // ioredis emits no 'end' for a client closed while it waits to reconnect (status
      // 'reconnecting', no socket): the follower's sentinel subscribers are closed here too.
      follower?.close()
    },
  }
  options.registry.add(resilient)
  // Closed for good by its owner (quit, disconnect): out of the health report.
  client.once('end', () => {
    options.registry.remove(resilient)
    follower?.close()
  })
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

function watch (client: AnyRedisClient, monitor: ConnectionMonitor, timeouts: Timeouts, closeClient: boolean): ResilientClient {
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
    // Closed with the app, it stays closed: a connect after this (a reconnect timer ioredis
    // lost track of fires, say) is dropped as it starts, so it cannot keep the process alive.
    if (client instanceof Redis) client.on('connecting', () => { client.disconnect() })
  }
  return { client, monitor, close }
}

/** `fastify-resilient-redis:cache`, or with an app's connectionName `api` and `api:cache`. */
function connectionNameOf (name: string, appName: string | undefined): string {
  const base = appName ?? 'fastify-resilient-redis'
  return name === DEFAULT_CLIENT && appName !== undefined ? base : `${base}:${name}`
}
