import type { Redis } from 'ioredis'
import { DEFAULT_TIMEOUTS, type Timeouts } from './connection/client-options.js'
import { resolveConfig, type ConfigInput, type Env, type ResolvedConfig, type ResolvedConnection } from './config/index.js'
import { InvalidSettingError, PasswordRequiredError } from './errors.js'
import { assertIoredisClient, externalConnection } from './connection/external-client.js'
import { resolveRateLimit, type RateLimitSettings, type ResolvedRateLimit } from './rate-limit/settings.js'
import { pickRedisOptions, type PassThroughRedisOptions } from './connection/redis-options.js'

/*
 * The plugin's options, validated once and turned into one fully defaulted
 * object before anything connects. Every key is accounted for: the plugin's
 * own, the configuration's, ioredis options it passes through; anything else
 * is a coded error naming it.
 */

export interface ResilientRedisOptions extends ConfigInput, Partial<Timeouts>, PassThroughRedisOptions {
  /**
   * Rate limiting with @fastify/rate-limit, counted in Redis and failing open
   * (see `failMode`) while Redis cannot count. `false` to leave it off; the
   * environment's `DISABLE_THROTTLING=true` also turns it off.
   * @default {} (on, with @fastify/rate-limit's defaults: 1000 requests a minute per IP)
   */
  rateLimit?: RateLimitSettings | false
  /**
   * Serve the health report at this path (GET): 200 while any client is
   * ready, 503 when none is. Never rate limited. `false` for none.
   * @default false
   */
  healthRoute?: string | false
  /**
   * An ioredis client of your own for `app.redis` (as with @fastify/redis).
   * The plugin monitors it (log lines, health, 503 mapping) but leaves its
   * settings as they are; connection options (`url`, `host`, …) cannot be
   * combined with it. Named clients are still created by the plugin, on the
   * same server unless they have a URL of their own.
   */
  client?: Redis
  /**
   * Close the `client` you passed when the app closes.
   * @default false
   */
  closeClient?: boolean
}

export interface ResolvedPluginOptions {
  config: ResolvedConfig
  limits: ResolvedRateLimit
  timeouts: Timeouts
  healthPath: string | undefined
  /** ioredis options for every client the plugin creates. */
  redisOptions: PassThroughRedisOptions
  /** The app's own client for `app.redis`, when one was passed. */
  external: { client: Redis; closeClient: boolean } | undefined
  /** Every password in use, to scrub from whatever the plugin logs or returns. */
  secrets: string[]
}

/** Settings that place the default connection: meaningless beside an app's own client. */
const CONNECTION_SETTINGS = ['url', 'host', 'port', 'username', 'password', 'db', 'tls', 'sentinels', 'sentinelName', 'sentinelUsername', 'sentinelPassword', 'clusterNodes'] as const

function positiveMs (value: unknown, setting: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 60_000) {
    throw new InvalidSettingError(`${setting} option`, `must be a whole number of milliseconds from 1 to 60000 (got ${String(value)})`, `leave it out for the default (${fallback})`)
  }
  return value
}

function healthPath (value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw new InvalidSettingError('healthRoute option', `must be a path starting with / or false (got ${JSON.stringify(value)})`, "use a path such as '/health/redis'")
  }
  return value
}

/** Validates every option; throws a coded FRR_ERR_* error for the first bad one. */
export function resolvePluginOptions (options: ResilientRedisOptions): ResolvedPluginOptions {
  const {
    env = process.env as Env, healthRoute, commandTimeout, connectWait, rateLimit, client, closeClient,
    url, host, port, username, password, db, tls, clients, requirePassword,
    sentinels, sentinelName, sentinelUsername, sentinelPassword, clusterNodes, ...rest
  } = options
  const redisOptions = pickRedisOptions(rest)
  const settings: ConfigInput = {
    url, host, port, username, password, db, tls, clients, requirePassword, sentinels, sentinelName, sentinelUsername, sentinelPassword, clusterNodes,
  }
  const external = resolveExternal(client, closeClient, settings, redisOptions)

  let config: ResolvedConfig
  if (external === undefined) {
    config = resolveConfig({ ...settings, env })
  } else {
    // Named clients without a URL of their own go to the app's client's server.
    const own = externalConnection(external.client)
    const serverOfClient = { host: own.host, port: own.port, db: own.db, username: own.username, password: own.password, tls: own.tls }
    const resolved = resolveConfig({ clients, requirePassword, env, ...serverOfClient })
    if (resolved.requirePassword && own.password === undefined) {
      throw new PasswordRequiredError(own.name, 'create the client with a password (and username for an ACL user)')
    }
    config = { ...resolved, connections: [own, ...resolved.connections.slice(1)] }
  }
  if (redisOptions.readOnly !== undefined && config.connections.some((c) => c.topology.kind === 'cluster')) {
    throw new InvalidSettingError('readOnly option', 'does not apply to a Redis Cluster (ioredis reads from replicas there with scaleReads)', 'leave it out; the plugin reads from the masters')
  }
  const limits = resolveRateLimit(rateLimit, env)
  return {
    config,
    limits,
    timeouts: {
      commandTimeout: positiveMs(commandTimeout, 'commandTimeout', DEFAULT_TIMEOUTS.commandTimeout),
      connectWait: positiveMs(connectWait, 'connectWait', DEFAULT_TIMEOUTS.connectWait),
    },
    healthPath: healthPath(healthRoute),
    redisOptions,
    external,
    secrets: config.connections.flatMap((c) => [c.password, c.topology.kind === 'sentinel' ? c.topology.sentinelPassword : undefined])
      .filter((secret): secret is string => secret !== undefined),
  }
}

function resolveExternal (client: unknown, closeClient: unknown, settings: ConfigInput, redisOptions: PassThroughRedisOptions): ResolvedPluginOptions['external'] {
  if (closeClient !== undefined && typeof closeClient !== 'boolean') {
    throw new InvalidSettingError('closeClient option', `must be true or false (got ${typeof closeClient})`, 'pass true to close your client with the app')
  }
  if (client === undefined) {
    if (closeClient !== undefined) {
      throw new InvalidSettingError('closeClient option', 'applies only to a client passed with the client option (the plugin always closes the clients it creates)', 'leave it out, or pass your client as client')
    }
    return undefined
  }
  assertIoredisClient(client)
  const beside = [...CONNECTION_SETTINGS.filter((key) => settings[key] !== undefined), ...Object.keys(redisOptions)]
  if (beside.length > 0) {
    throw new InvalidSettingError(`${beside[0] as string} option`, 'cannot be combined with the client option: a client you pass is used with its own settings', 'set it where you create that client, or leave client out and let the plugin create one')
  }
  return { client, closeClient: closeClient === true }
}
