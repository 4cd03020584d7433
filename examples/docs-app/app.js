// The example app: a small documented API with the whole stack of the failure
// this package exists for — rate limiting, a cache, a job queue (BullMQ) and
// live notifications (Redis pub/sub) — whose docs page and routes keep working
// whatever state Redis is in. It uses fastify-resilient-redis by its public
// name, exactly as your app would.
//
// buildApp() returns the Fastify instance without listening (server.js
// listens; the tests start it on port 0). Connection settings come from the
// environment: see .env.example and the README's table.
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import resilientRedis from 'fastify-resilient-redis'
import { createNotificationHub } from './notification-hub.js'
import { createReportsQueue } from './reports-queue.js'
import { addCatalogRoutes } from './routes/catalog.js'
import { addHealthRoute } from './routes/health.js'
import { addNotificationRoutes } from './routes/notifications.js'
import { addPublicRoutes } from './routes/public.js'
import { addReportRoutes } from './routes/reports.js'
import { addVisitRoutes } from './routes/visits.js'

/**
 * @typedef {object} BuildOptions
 * @property {Record<string, string | undefined>} [env] The environment to read Redis settings from. Default: `process.env`.
 * @property {import('fastify').FastifyServerOptions['logger']} [logger] Fastify's `logger` option. Default: JSON lines at `LOG_LEVEL` (info).
 */

/**
 * Builds the app (not listening).
 * @param {BuildOptions} [opts]
 * @returns {Promise<import('fastify').FastifyInstance>}
 */
export async function buildApp (opts = {}) {
  const env = opts.env ?? process.env
  const app = Fastify({ logger: opts.logger ?? { level: env.LOG_LEVEL || 'info' } })

  // 1. The OpenAPI document: registered first, so it sees every route below.
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'fastify-resilient-redis example',
        version: '1.0.0',
        description: 'Every route here, these docs included, is rate limited in Redis. While Redis is down, hanging or ' +
          'rejecting the password, the limiter counts in memory instead: nothing answers 500, nothing hangs. Stop Redis and reload.',
      },
      tags: [
        { name: 'public', description: 'Open to everyone, under the global limit (100 requests a minute per IP).' },
        { name: 'auth', description: 'A login-style route with its own, stricter limit.' },
        { name: 'catalog', description: 'Reads through a Redis cache (`app.redis.cache`); works without it.' },
        { name: 'counter', description: 'Needs Redis; answers 503 with `retry-after` while Redis is unavailable.' },
        { name: 'queue', description: 'A BullMQ job queue (`REDIS_QUEUE_URL`): jobs added by routes, built by a worker.' },
        { name: 'notifications', description: 'Live notifications over Redis pub/sub (`REDIS_CHANNELS_URL`), as server-sent events.' },
        { name: 'health', description: 'The state of every Redis connection and of the rate limiter.' },
      ],
    },
  })

  // 2. Redis and rate limiting. One password, written once (REDIS_PASSWORD);
  //    a client per job, each on the settings its job needs (its role):
  //    REDIS_URL (db 0): rate-limit counters and the visit counter;
  //    REDIS_CACHE_URL (db 1): the product cache;
  //    REDIS_QUEUE_URL (db 2): BullMQ — `queue` for the worker (role queue),
  //      `queueProducer` on the same server for the routes (fail fast);
  //    REDIS_CHANNELS_URL: pub/sub for the notifications (role subscriber;
  //      pub/sub ignores the db).
  //    Without REDIS_<NAME>_URL a client uses the default server, in the db
  //    above; with it, the URL decides (a `db` given here would override the
  //    URL's, so it is given only without one). Registration waits at most
  //    about a second for Redis and never fails because of it; only a bad
  //    configuration stops the boot.
  const ownDb = (/** @type {string} */ variable, /** @type {number} */ db) => env[variable] ? {} : { db }
  const queueServer = env.REDIS_QUEUE_URL ? { url: env.REDIS_QUEUE_URL } : { db: 2 }
  await app.register(resilientRedis, {
    env,
    clients: {
      cache: ownDb('REDIS_CACHE_URL', 1),
      queue: { role: 'queue', ...ownDb('REDIS_QUEUE_URL', 2) },
      queueProducer: queueServer,
      channels: { role: 'subscriber' },
    },
    rateLimit: { max: 100, timeWindow: '1 minute' },
  })

  // 3. The docs, registered after the limiter: /docs and /docs/json are rate
  //    limited like everything else, and survive an outage because the
  //    limiter fails open, not because they are excluded.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No top bar: this page documents this API only (no "Explore" box for other specs).
    uiConfig: { layout: 'BaseLayout' },
  })

  // 4. The jobs behind the routes: the queue and its worker, the notifications.
  const reports = createReportsQueue(app)
  const hub = createNotificationHub(/** @type {import('ioredis').Redis} */ (app.redis.channels), app.log)
  // The open event streams end first (the server waits for open responses),
  // then the worker and the queue stop; the plugin closes the connections last.
  app.addHook('preClose', async () => { hub.close() })
  app.addHook('onClose', async () => { await reports.close() })

  addPublicRoutes(app)
  addCatalogRoutes(app)
  addVisitRoutes(app)
  addReportRoutes(app, reports.queue)
  addNotificationRoutes(app, hub)
  addHealthRoute(app)

  return app
}
