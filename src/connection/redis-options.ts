import type { RedisOptions } from 'ioredis'
import { InvalidSettingError } from '../errors.js'

/*
 * ioredis options given to the plugin, as code written for @fastify/redis
 * passes them. Each is either passed through to every client the plugin
 * opens, or owned by the plugin (it decides them to keep every wait bounded)
 * and then an error that says why. None is ever dropped without a word.
 */

/** ioredis options that change nothing the plugin guarantees: handed to every client it opens. */
export const PASS_THROUGH_OPTIONS = [
  'keyPrefix', 'family', 'connectionName', 'keepAlive', 'noDelay', 'clientInfoTag', 'disableClientInfo',
  'stringNumbers', 'protocol', 'replyMapping', 'enableAutoPipelining', 'autoPipeliningIgnoredCommands',
  'showFriendlyErrorStack', 'readOnly', 'scripts', 'autoResubscribe', 'himportFieldsets',
] as const

export type PassThroughOptionName = (typeof PASS_THROUGH_OPTIONS)[number]

/** The ioredis options the plugin passes through to every client it opens. */
export type PassThroughRedisOptions = Pick<RedisOptions, PassThroughOptionName>

const BOUNDED = 'the plugin sets it so that no request waits on a sick Redis for longer than commandTimeout'

/** ioredis options the plugin decides itself, and what to do instead. */
const OWNED_OPTIONS: Record<string, string> = {
  enableOfflineQueue: `${BOUNDED}: commands sent while disconnected fail at once (503) instead of queueing without bound`,
  maxRetriesPerRequest: `${BOUNDED}: a command in flight when the connection drops fails instead of being resent`,
  retryStrategy: 'the plugin reconnects quickly (backoff capped at 500 ms, calmer after an authentication failure) so Redis is used again within a second',
  reconnectOnError: 'the plugin decides when to reconnect',
  autoResendUnfulfilledCommands: `${BOUNDED}: commands in flight when the connection drops fail instead of being resent`,
  socketTimeout: 'it follows commandTimeout: set the plugin\'s commandTimeout option',
  connectTimeout: 'it follows commandTimeout: set the plugin\'s commandTimeout option',
  blockingTimeout: 'the plugin bounds every command with commandTimeout',
  blockingTimeoutGrace: 'the plugin bounds every command with commandTimeout',
  maxLoadingRetryTime: 'the plugin bounds how long registration waits with connectWait',
  enableReadyCheck: 'the plugin turns it off: INFO needs an ACL permission the plugin has no other use for, and a server still loading answers LOADING, which the plugin already handles',
  lazyConnect: 'the plugin connects at registration and waits at most connectWait: a healthy Redis is ready for the first request',
  disconnectTimeout: 'the plugin bounds how long closing the app waits',
  Connector: 'the plugin chooses how to connect',
  monitor: 'it is ioredis-internal: call redis.monitor() on a client instead',
  offlineQueue: 'it is ioredis-internal; the plugin turns the offline queue off',
  commandQueue: 'it is ioredis-internal',
  path: 'the plugin connects over TCP: give host and port, or url',
  maintRelaxedCommandTimeout: `${BOUNDED}: a maintenance window a managed Redis announces does not lift it`,
  maintRelaxedSocketTimeout: `${BOUNDED}: a maintenance window a managed Redis announces does not lift it`,
  maintNotifications: 'the plugin leaves Smart Client Handoff at ioredis\'s default (\'auto\': on where the server offers it); to set it, pass a client of your own (the client option)',
  maintEndpointType: 'the plugin leaves Smart Client Handoff at ioredis\'s default (\'auto\'); to set it, pass a client of your own (the client option)',
}

/** ioredis Sentinel options the plugin decides itself (it takes sentinels, sentinelName and their credentials as options of its own). */
const SENTINEL_OPTIONS = new Set([
  'role', 'sentinelRetryStrategy', 'sentinelReconnectStrategy', 'preferredSlaves', 'sentinelCommandTimeout',
  'enableTLSForSentinelMode', 'sentinelTLS', 'updateSentinels', 'sentinelMaxConnections', 'failoverDetector', 'natMap', 'dnsLookup',
])

const PASS_THROUGH = new Set<string>(PASS_THROUGH_OPTIONS)

/**
 * Separates the ioredis options in `rest` (the plugin's options less those it
 * knows) from anything else, which is an error: an option that fights the
 * plugin's guarantees says why, one it has never heard of says so.
 */
export function pickRedisOptions (rest: Record<string, unknown>): PassThroughRedisOptions {
  const picked: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue
    if (PASS_THROUGH.has(key)) {
      picked[key] = value
      continue
    }
    throw unsupportedOption(key)
  }
  if (picked.connectionName !== undefined && typeof picked.connectionName !== 'string') {
    throw new InvalidSettingError('connectionName option', `must be a string (got ${typeof picked.connectionName})`, 'pass a name such as "api", or leave it out')
  }
  if (picked.keyPrefix !== undefined && typeof picked.keyPrefix !== 'string') {
    throw new InvalidSettingError('keyPrefix option', `must be a string (got ${typeof picked.keyPrefix})`, 'pass a prefix such as "app:", or leave it out')
  }
  return picked as PassThroughRedisOptions
}

function unsupportedOption (key: string): Error {
  const owned = OWNED_OPTIONS[key]
  if (owned !== undefined) {
    return new InvalidSettingError(`${key} option`, `is decided by fastify-resilient-redis (${owned})`, 'leave it out')
  }
  if (key === 'namespace') {
    return new InvalidSettingError('namespace option', 'is @fastify/redis\'s way to name a client; here named clients are declared together', 'register once with clients: { <name>: { url?, db? } } (or REDIS_<NAME>_URL), and use app.redis.<name>')
  }
  if (key === 'name') {
    return new InvalidSettingError('name option', "is ioredis's name of the Sentinel master set; here it is sentinelName", "pass sentinelName (env REDIS_SENTINEL_NAME) beside sentinels; it defaults to 'mymaster'")
  }
  if (SENTINEL_OPTIONS.has(key)) {
    return new InvalidSettingError(`${key} option`, 'is decided by fastify-resilient-redis (it sets Sentinel connections up itself)', 'leave it out; give sentinels, sentinelName, sentinelUsername and sentinelPassword (or REDIS_SENTINELS and friends)')
  }
  return new InvalidSettingError(`${key} option`, 'is not an option of fastify-resilient-redis', 'check its spelling against the README\'s options table, or leave it out')
}
