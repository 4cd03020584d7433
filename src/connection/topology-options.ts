import type { ClusterOptions, RedisOptions } from 'ioredis'
import type { ResolvedConnection } from '../config/index.js'
import type { Timeouts } from './client-options.js'
import type { PassThroughRedisOptions } from './redis-options.js'

/*
 * What Sentinel and Cluster add to a connection's ioredis options. The
 * fail-fast settings of client-options.ts stay: every node connection has
 * them; here is only what each topology needs on top.
 */

/**
 * Sentinel: ioredis asks the sentinels for the master of `masterName` at
 * each connect; a MasterFollower (master-follower.ts) makes it reconnect when
 * they announce a failover, and its `reconnectOnError` when a demoted master
 * refuses a write. Asking the sentinels is bounded too
 * (sentinelCommandTimeout; a hanging sentinel would otherwise stall every
 * reconnect), and retried with the plugin's backoff. ioredis's own
 * failoverDetector stays off (see master-follower.ts).
 */
export function sentinelOptions (connection: ResolvedConnection, timeouts: Timeouts, retryStrategy: (attempt: number) => number, reconnectOnError: RedisOptions['reconnectOnError'] = null): Partial<RedisOptions> {
  const { topology } = connection
  if (topology.kind !== 'sentinel') return {}
  return {
    reconnectOnError,
    sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
    name: topology.masterName,
    ...(topology.sentinelUsername === undefined ? {} : { sentinelUsername: topology.sentinelUsername }),
    ...(topology.sentinelPassword === undefined ? {} : { sentinelPassword: topology.sentinelPassword }),
    sentinelCommandTimeout: timeouts.commandTimeout,
    sentinelRetryStrategy: retryStrategy,
  }
}

/** Pass-through options a Cluster takes at its top level (ioredis reads them there, not from redisOptions). */
const CLUSTER_TOP_LEVEL = ['keyPrefix', 'scripts', 'enableAutoPipelining', 'autoPipeliningIgnoredCommands'] as const

/**
 * Cluster: the node options (credentials, timeouts, no offline queue, no
 * retries per request) go to every node connection; the cluster itself
 * fails a command at once while it is not ready (no offline queue), retries
 * discovery with the plugin's backoff, and follows few redirections:
 * MOVED and ASK cost nothing, but every retry after a closed connection,
 * CLUSTERDOWN or TRYAGAIN waits retryDelayOnFailover (100 ms), and four of
 * them keep a request's worst wait under a second.
 */
export function clusterOptions (nodeOptions: RedisOptions, passThrough: PassThroughRedisOptions, retryStrategy: (attempt: number) => number, commandTimeout: number): ClusterOptions {
  const { host: _host, port: _port, retryStrategy: _retry, enableOfflineQueue, readOnly: _readOnly, ...redisOptions } = nodeOptions
  const top: Record<string, unknown> = {}
  for (const key of CLUSTER_TOP_LEVEL) if (passThrough[key] !== undefined) top[key] = passThrough[key]
  return {
    ...top,
    redisOptions,
    // Off, except for a duplicate until its first ready (client-factory.ts), as on one server.
    enableOfflineQueue: enableOfflineQueue === true,
    clusterRetryStrategy: retryStrategy,
    maxRedirections: 4,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2 * commandTimeout,
    // CLUSTER INFO before ready: a cluster that says cluster_state:fail is not ready for the app.
    enableReadyCheck: true,
    lazyConnect: false,
  }
}
