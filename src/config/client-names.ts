import { Cluster, Redis } from 'ioredis'
import { InvalidSettingError } from '../errors.js'

/** The name of the connection behind `app.redis` itself. */
export const DEFAULT_CLIENT = 'default'

const NAME_SHAPE = /^[a-z][a-zA-Z0-9]*$/

/** Properties ioredis 6 sets on each client instance (so not found on Redis.prototype). */
const INSTANCE_PROPERTIES = new Set([
  'addedBuiltinSet', 'commandQueue', 'condition', 'connectionEpoch', 'connector', 'isCluster', 'manuallyClosing',
  'offlineQueue', 'options', 'prevCommandQueue', 'prevCondition', 'reconnectTimeout', 'retryAttempts', 'scriptsSet',
  'socketTimeoutTimer', 'status', 'stream',
  // …and on each Cluster instance (app.redis on a cluster).
  'startupNodes', 'connectionPool', 'slots', 'subscriber', 'delayQueue', 'isRefreshing', 'slotsTimer', 'shardedSubscribers',
])

/**
 * Checks a named client's name. Named clients become properties of the
 * default ioredis client (`app.redis.cache`, as in @fastify/redis), so a name
 * that is already a client method or property (`get`, `status`, …) would
 * shadow it.
 */
export function assertClientName (name: string): void {
  if (!NAME_SHAPE.test(name)) {
    throw new InvalidSettingError(`clients.${name}`, 'is not a usable client name', 'use a camelCase name of letters and digits starting with a lower-case letter, such as cache or sessionStore')
  }
  if (name === DEFAULT_CLIENT || name in Redis.prototype || name in Cluster.prototype || INSTANCE_PROPERTIES.has(name)) {
    throw new InvalidSettingError(`clients.${name}`, `would hide app.redis.${name} of the Redis client`, 'pick another name, such as cache or broker')
  }
}

/** `cache`, `URL` → `REDIS_CACHE_URL`; `sessionStore`, `ROLE` → `REDIS_SESSION_STORE_ROLE`. */
export function clientVariable (name: string, suffix: 'URL' | 'ROLE'): string {
  return `REDIS_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_${suffix}`
}

/** `cache` → `REDIS_CACHE_URL`, `sessionStore` → `REDIS_SESSION_STORE_URL`. */
export function clientUrlVariable (name: string): string {
  return clientVariable(name, 'URL')
}

/** The named clients an environment configures: `REDIS_CACHE_URL` → `cache`. */
export function clientNamesFromEnv (env: Record<string, string | undefined>): string[] {
  const names: string[] = []
  for (const [key, value] of Object.entries(env)) {
    const match = /^REDIS_([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_URL$/.exec(key)
    if (match?.[1] === undefined || value === undefined || value === '') continue
    const name = match[1].toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
    // REDIS_CACHE_2_URL would give cache2, which reads REDIS_CACHE2_URL: not a client name.
    if (clientUrlVariable(name) === key) names.push(name)
  }
  return names.sort()
}
