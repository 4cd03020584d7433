import type { FastifyRedis } from './redis-decorator.js'
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { adoptClient, createResilientClient, type ResilientClient } from './connection/client-factory.js'
import { ClientRegistry } from './connection/client-registry.js'
import type { Logger } from './connection/connection-monitor.js'
import { AlreadyRegisteredError } from './errors.js'
import { unboundedSettings } from './connection/external-client.js'
import { buildHealthReport, type RedisHealthReport } from './health.js'
import { healthRouteSchema } from './health-schema.js'
import { resolvePluginOptions, type ResilientRedisOptions } from './plugin-options.js'
import { createFailOpenStore, type FailOpenStoreClass } from './rate-limit/fail-open-store.js'
import { createUnavailableErrorHook } from './unavailable-error.js'
import { UnavailableReplies } from './unavailable-log.js'
import { waitAtMost } from './wait-at-most.js'

export type { ResilientRedisOptions }

declare module 'fastify' {
  interface FastifyInstance {
    /** The default Redis client; named clients are its properties (`app.redis.cache`), as with @fastify/redis. */
    redis: FastifyRedis
    /** The state of every client, with a bounded PING of those that are up. Never waits on a hanging Redis. */
    redisHealth: () => Promise<RedisHealthReport>
  }
}

const resilientRedisPlugin: FastifyPluginAsync<ResilientRedisOptions> = async (app: FastifyInstance, options: ResilientRedisOptions) => {
  if (app.hasDecorator('redis')) throw new AlreadyRegisteredError()

  // Everything that can reject the options runs before any connection opens.
  const { config, limits, timeouts, healthPath, redisOptions, external, secrets } = resolvePluginOptions(options)

  const logger = app.log.child({ plugin: 'fastify-resilient-redis' })
  const registry = new ClientRegistry()
  const factory = { logger, timeouts, secrets, registry }
  const clients: ResilientClient[] = config.connections.map((connection, index) => index === 0 && external !== undefined
    ? adoptClient(external.client, connection, factory, external.closeClient)
    : createResilientClient(connection, { ...factory, redisOptions }))
  // Every client handed out, duplicates made since included.
  app.addHook('onClose', async () => { await Promise.all(registry.list().map((c) => c.close())) })
  if (external !== undefined) warnIfUnbounded(external.client, logger)

  const [main, ...named] = clients as [ResilientClient, ...ResilientClient[]]
  const redis = main.client as FastifyRedis
  for (const { client, monitor } of named) Object.assign(redis, { [monitor.connection.name]: client })
  app.decorate('redis', redis)
  const unavailableReplies = new UnavailableReplies(logger)
  app.addHook('onClose', async () => { unavailableReplies.close() })
  app.addHook('onError', createUnavailableErrorHook(secrets, unavailableReplies))

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
  app.decorate('redisHealth', () => buildHealthReport(registry.list(), { secrets, pingTimeout: timeouts.commandTimeout }, store?.report))

  if (healthPath !== undefined) {
    // Never rate limited: a load balancer's probe must not get 429.
    app.get(healthPath, { schema: healthRouteSchema, config: { rateLimit: false } }, async (_request, reply) => {
      const report = await app.redisHealth()
      return reply.code(report.status === 'down' ? 503 : 200).send(report)
    })
  }
}

/** One warning when an app's own client lets requests wait on a sick Redis (ioredis's defaults do). */
function warnIfUnbounded (client: Redis, logger: Logger): void {
  const unbounded = unboundedSettings(client)
  if (unbounded.length === 0) return
  logger.warn({ redisClient: 'default', unbounded }, `The client passed as "client" lets requests wait on a sick Redis: ${unbounded.join('; ')}. Rate limiting stays bounded (decisionTimeout); the app's own commands do not. Create it with enableOfflineQueue: false, maxRetriesPerRequest: 0 and a commandTimeout, or let the plugin create it`)
}

/** The plugin, wrapped once so its decorators reach the whole app. */
export const resilientRedis = fp(resilientRedisPlugin, {
  fastify: '5.x',
  name: 'fastify-resilient-redis',
})
