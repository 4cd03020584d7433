import type { FastifyRedis } from './redis-decorator.js'
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { createResilientClient, type ResilientClient } from './client-factory.js'
import { DEFAULT_TIMEOUTS, type Timeouts } from './client-options.js'
import { resolveConfig, type ConfigInput } from './config.js'
import { AlreadyRegisteredError, InvalidSettingError } from './errors.js'
import { buildHealthReport, type RedisHealthReport } from './health.js'
import { healthRouteSchema } from './health-schema.js'
import { createFailOpenStore, type FailOpenStoreClass } from './rate-limit/fail-open-store.js'
import { resolveRateLimit, type RateLimitSettings } from './rate-limit/settings.js'
import { createUnavailableErrorHook } from './unavailable-error.js'
import { waitAtMost } from './wait-at-most.js'

export type { FastifyRedis }

export interface ResilientRedisOptions extends ConfigInput, Partial<Timeouts> {
  /**
   * Rate limiting with @fastify/rate-limit, counted in Redis and failing open
   * (see `failMode`) while Redis cannot count. `false` to leave it off; the
   * environment's `DISABLE_THROTTLING=true` also turns it off.
   * @default {} (on, with @fastify/rate-limit's defaults: 1000 requests a minute per IP)
   */
  rateLimit?: RateLimitSettings | false
  /**
   * Serve the health report at this path (GET): 200 while any client is
   * ready, 503 when none is. `false` for none.
   * @default false
   */
  healthRoute?: string | false
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The default Redis client; named clients are its properties (`app.redis.cache`), as with @fastify/redis. */
    redis: FastifyRedis
    /** The state of every client, with a bounded PING of those that are up. Never waits on a hanging Redis. */
    redisHealth: () => Promise<RedisHealthReport>
  }
}

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

const resilientRedisPlugin: FastifyPluginAsync<ResilientRedisOptions> = async (app: FastifyInstance, options: ResilientRedisOptions) => {
  if (app.hasDecorator('redis')) throw new AlreadyRegisteredError()

  // Everything that can reject the options runs before any connection opens.
  const { env = process.env, healthRoute, commandTimeout, connectWait, rateLimit, ...settings } = options
  const config = resolveConfig({ ...settings, env })
  const limits = resolveRateLimit(rateLimit, env)
  const timeouts: Timeouts = {
    commandTimeout: positiveMs(commandTimeout, 'commandTimeout', DEFAULT_TIMEOUTS.commandTimeout),
    connectWait: positiveMs(connectWait, 'connectWait', DEFAULT_TIMEOUTS.connectWait),
  }
  const path = healthPath(healthRoute)
  const secrets = config.connections.flatMap((c) => c.password === undefined ? [] : [c.password])

  const logger = app.log.child({ plugin: 'fastify-resilient-redis' })
  const clients: ResilientClient[] = config.connections.map((connection) => createResilientClient(connection, { logger, timeouts, secrets }))
  app.addHook('onClose', async () => { await Promise.all(clients.map((c) => c.close())) })

  const [main, ...named] = clients as [ResilientClient, ...ResilientClient[]]
  const redis = main.client as FastifyRedis
  for (const { client, monitor } of named) Object.assign(redis, { [monitor.connection.name]: client })
  app.decorate('redis', redis)
  app.addHook('onError', createUnavailableErrorHook(secrets))

  // Like @fastify/redis, a healthy Redis is ready for the first request; unlike
  // it, a sick one costs registration at most `connectWait`, never the boot.
  await waitAtMost(Promise.all(clients.map((c) => c.monitor.firstAttemptSettled())), timeouts.connectWait)

  let store: FailOpenStoreClass | undefined
  if (limits.enabled) {
    store = createFailOpenStore({ redis: main.client, failMode: limits.failMode, failureThreshold: limits.failureThreshold, decisionTimeout: limits.decisionTimeout, cache: limits.cache, nameSpace: limits.nameSpace, logger })
    app.addHook('onClose', async () => { store?.close() })
    // skipOnError stays false: the store only fails a request in failMode 'closed', where a 503 is the point.
    await app.register(fastifyRateLimit, { ...limits.pluginOptions, store, skipOnError: false })
  } else if (limits.reason === 'DISABLE_THROTTLING') {
    logger.warn({ rateLimitMode: 'disabled' }, 'Rate limiting is off: DISABLE_THROTTLING is set')
  }
  app.decorate('redisHealth', () => buildHealthReport(clients, secrets, store?.report))

  if (path !== undefined) {
    app.get(path, { schema: healthRouteSchema }, async (_request, reply) => {
      const report = await app.redisHealth()
      return reply.code(report.status === 'down' ? 503 : 200).send(report)
    })
  }
}

/** The plugin, wrapped once so its decorators reach the whole app. */
export const resilientRedis = fp(resilientRedisPlugin, {
  fastify: '5.x',
  name: 'fastify-resilient-redis',
})
