import type { RedisOptions } from 'ioredis'
import type { ResolvedConnection } from '../config/index.js'
import { roleSettings } from './roles.js'

/** Time limits for talking to Redis, in milliseconds. */
export interface Timeouts {
  /**
   * Longest any command may wait for its reply (ioredis has no limit by
   * default, so a hanging server hangs every caller forever).
   * @default 500
   */
  commandTimeout: number
  /**
   * Longest registration waits for the first connection attempt to settle
   * before the app boots without Redis.
   * @default 1000
   */
  connectWait: number
}

export const DEFAULT_TIMEOUTS: Timeouts = { commandTimeout: 500, connectWait: 1000 }

/** Reconnect delays: quick at first, never more than this, so a returning Redis is used within a second. */
export const MAX_RECONNECT_DELAY = 500
/** After an authentication failure only a configuration change helps: retry calmly. */
export const AUTH_RETRY_DELAY = 1000

/**
 * ioredis 6.1, during a maintenance window a managed Redis announces (Smart
 * Client Handoff), gives commands and the socket the larger of their timeout
 * and these (10 s by default). 0 keeps the plugin's bounds through it (a role
 * without a timeout still gets none). ioredis 6.0 has neither option and
 * ignores them; typed loosely so that this builds against either.
 */
const MAINTENANCE_KEEPS_BOUNDS = { maintRelaxedCommandTimeout: 0, maintRelaxedSocketTimeout: 0 } as Partial<RedisOptions>

/**
 * ioredis options for one connection. The defaults that hurt during an outage
 * are replaced:
 * - `enableOfflineQueue: false`: a command sent while disconnected fails at
 *   once instead of waiting in an unbounded queue;
 * - `maxRetriesPerRequest: 0`: a command in flight when the connection drops
 *   fails instead of being resent up to 20 times;
 * - `commandTimeout`, and `socketTimeout` to drop a connection whose server
 *   stopped answering (`connectTimeout` alone only covers the TCP connect);
 * - the retry strategy is supplied by the connection monitor (capped backoff);
 * - no ready check (INFO): it needs a permission the plugin has no other use for.
 */
export function ioredisOptions (connection: ResolvedConnection, timeouts: Timeouts, retryStrategy: (attempt: number) => number): RedisOptions {
  return {
    host: connection.host,
    port: connection.port,
    db: connection.db,
    ...(connection.username === undefined ? {} : { username: connection.username }),
    ...(connection.password === undefined ? {} : { password: connection.password }),
    ...(connection.tls === undefined ? {} : { tls: connection.tls }),
    connectionName: `fastify-resilient-redis:${connection.name}`,
    clientInfoTag: 'fastify-resilient-redis',
    // For the default role (command): no offline queue, no retries, commandTimeout, and a
    // socketTimeout that drops the connection as soon as a command times out, so that the next
    // command fails at once instead of waiting its own timeout. Other roles: see roles.ts.
    ...roleSettings(connection.role, timeouts.commandTimeout).options,
    connectTimeout: timeouts.commandTimeout * 2,
    ...MAINTENANCE_KEEPS_BOUNDS,
    // How long ioredis keeps a closing socket before destroying it. Its timer
    // is not unref'd and runs in full when the socket is already gone (as in
    // every outage), so it decides how long a closed app stays alive.
    disconnectTimeout: 100,
    retryStrategy,
    // ioredis's ready check sends INFO and, where an ACL user may not, prints a warning to the
    // console, outside the app's logger. A server still loading answers LOADING, which is
    // handled like any other "cannot serve now" reply (503, the limiter counts in memory).
    enableReadyCheck: false,
    reconnectOnError: null,
    lazyConnect: false,
  }
}
