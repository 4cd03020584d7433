// The example app: a small documented API whose docs page keeps working
// whatever state Redis is in. It uses fastify-resilient-redis by its public
// name, exactly as your app would.
//
// buildApp() returns the Fastify instance without listening (server.js
// listens; the tests start it on port 0). Connection settings come from the
// environment: see .env.example and the README's table.
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import resilientRedis, { isRedisUnavailableError } from 'fastify-resilient-redis'

/**
 * @typedef {object} BuildOptions
 * @property {Record<string, string | undefined>} [env] The environment to read Redis settings from. Default: `process.env`.
 * @property {import('fastify').FastifyServerOptions['logger']} [logger] Fastify's `logger` option. Default: JSON lines at `LOG_LEVEL` (info).
 */

/** How long a cached product stays in Redis, in seconds. */
const CACHE_TTL_SECONDS = 60

/** The error body of every 4xx/5xx answer (Fastify's, @fastify/rate-limit's and the plugin's 503). */
const errorBody = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
}

const tooManyRequests = { ...errorBody, description: 'Rate limit exceeded: wait for the time in `retry-after` (seconds). Counted in Redis, or in process memory while Redis is unavailable.' }
const serviceUnavailable = { ...errorBody, description: 'Redis is unavailable: try again after `retry-after` (seconds). Body code `FRR_ERR_REDIS_UNAVAILABLE`.' }
const badRequest = { ...errorBody, description: 'The request does not match its schema.' }

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
        { name: 'health', description: 'The state of every Redis connection and of the rate limiter.' },
      ],
    },
  })

  // 2. Redis and rate limiting. One password, a database per client:
  //    REDIS_URL (db 0), REDIS_CACHE_URL (db 1), REDIS_BROKER_URL (db 2).
  //    Without REDIS_<NAME>_URL a client uses the default server, in db 1
  //    (cache) or 2 (broker); with it, the URL decides (a `db` given here
  //    would override the URL's, so it is given only without one).
  //    Registration waits at most about a second for Redis and never fails
  //    because of it; only a bad configuration stops the boot.
  const ownDb = (/** @type {string} */ variable, /** @type {number} */ db) => env[variable] ? {} : { db }
  await app.register(resilientRedis, {
    env,
    clients: { cache: ownDb('REDIS_CACHE_URL', 1), broker: ownDb('REDIS_BROKER_URL', 2) },
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

  app.get('/greeting', {
    schema: {
      tags: ['public'],
      summary: 'Say hello',
      description: 'A public route under the global rate limit (100 requests a minute per IP). Never touches Redis itself; only the limiter does.',
      querystring: {
        type: 'object',
        properties: { name: { type: 'string', maxLength: 50, default: 'world', description: 'Whom to greet.' } },
      },
      response: {
        200: {
          description: 'The greeting.',
          type: 'object',
          properties: { greeting: { type: 'string' } },
        },
        400: badRequest,
        429: tooManyRequests,
      },
    },
  }, async (request) => {
    const { name } = /** @type {{ name: string }} */ (request.query)
    return { greeting: `Hello, ${name}!` }
  })

  app.post('/login', {
    // A stricter limit of its own: 5 attempts a minute per IP.
    config: { rateLimit: { max: 5, timeWindow: '1 minute' } },
    schema: {
      tags: ['auth'],
      summary: 'Log in (demo)',
      description: 'A login-style route limited to 5 attempts a minute per IP, counted separately from the global limit. ' +
        'The demo account is `demo` / `demo`.',
      body: {
        type: 'object',
        required: ['username', 'password'],
        properties: {
          username: { type: 'string', minLength: 1, maxLength: 100 },
          password: { type: 'string', minLength: 1, maxLength: 100 },
        },
        examples: [{ username: 'demo', password: 'demo' }],
      },
      response: {
        200: {
          description: 'Logged in.',
          type: 'object',
          properties: { token: { type: 'string' } },
        },
        400: badRequest,
        401: { ...errorBody, description: 'Wrong username or password.' },
        429: { ...tooManyRequests, description: 'More than 5 attempts in a minute: wait for `retry-after` (seconds).' },
      },
    },
  }, async (request, reply) => {
    const { username, password } = /** @type {{ username: string, password: string }} */ (request.body)
    if (username !== 'demo' || password !== 'demo') {
      return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'Wrong username or password' })
    }
    return { token: 'demo-token' }
  })

  app.get('/products/:id', {
    schema: {
      tags: ['catalog'],
      summary: 'Look up a product (cached in Redis)',
      description: 'Reads the product from the Redis cache (`app.redis.cache`, db 1). On a miss it computes the product and stores it for ' +
        `${CACHE_TTL_SECONDS} s. While Redis is unavailable it computes the product on every request and still answers 200: ` +
        '`cache` tells which happened (`hit`, `miss` or `unavailable`). It never answers 503 for a Redis outage.',
      params: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'integer', minimum: 1, maximum: 1000, description: 'Product id, 1 to 1000.', examples: [42] } },
      },
      response: {
        200: {
          description: 'The product, and whether it came from the cache.',
          type: 'object',
          properties: {
            id: { type: 'integer' },
            name: { type: 'string' },
            priceCents: { type: 'integer' },
            cache: { type: 'string', enum: ['hit', 'miss', 'unavailable'] },
          },
        },
        400: badRequest,
        429: tooManyRequests,
      },
    },
  }, async (request) => {
    const { id } = /** @type {{ id: number }} */ (request.params)
    const key = `example:product:${id}`
    try {
      const cached = await app.redis.cache.get(key)
      if (cached !== null) return { ...JSON.parse(cached), cache: 'hit' }
    } catch (error) {
      // Redis down, hanging (at most the command timeout, 500 ms) or
      // rejecting the password: serve without the cache. Anything else is a bug.
      if (!isRedisUnavailableError(error)) throw error
      request.log.debug({ err: error }, 'cache unavailable, computing the product')
      return { ...computeProduct(id), cache: 'unavailable' }
    }
    const product = computeProduct(id)
    // Storing is best effort: a failure here must not fail the request.
    await app.redis.cache.set(key, JSON.stringify(product), 'EX', CACHE_TTL_SECONDS).catch(() => {})
    return { ...product, cache: 'miss' }
  })

  app.post('/visits', {
    schema: {
      tags: ['counter'],
      summary: 'Count a visit (needs Redis)',
      description: 'Increments a counter in Redis (db 0) and returns it. There is no sensible answer without Redis, so while Redis is ' +
        'unavailable this route answers 503 with `retry-after: 1`: the plugin turns the ioredis error into that 503 (never a 500, never a hang).',
      response: {
        200: {
          description: 'The number of visits so far.',
          type: 'object',
          properties: { visits: { type: 'integer' } },
        },
        429: tooManyRequests,
        503: serviceUnavailable,
      },
    },
  }, async () => ({ visits: await app.redis.incr('example:visits') }))

  // A load balancer's or orchestrator's probe must never get 429: no limit here.
  app.get('/health', {
    config: { rateLimit: false },
    schema: {
      tags: ['health'],
      summary: 'Health of Redis and the rate limiter',
      description: 'Always 200 while the app serves, because the app works without Redis: `redis.status` says how Redis is doing ' +
        '(`up`, `degraded`, `down`), per client (`default`, `cache`, `broker`) with the failure and what to check. Alert on it; do not take ' +
        'the instance out of a load balancer for it. Answers quickly even while Redis hangs.',
      response: {
        200: {
          description: 'The health report (URLs with the password redacted).',
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['ok'] },
            redis: {
              type: 'object',
              properties: {
                status: { type: 'string', enum: ['up', 'degraded', 'down'] },
                clients: {
                  type: 'object',
                  additionalProperties: {
                    type: 'object',
                    properties: {
                      state: { type: 'string', enum: ['ready', 'connecting', 'down'] },
                      url: { type: 'string' },
                      since: { type: 'string' },
                      latencyMs: { type: 'number' },
                      failure: { type: 'string' },
                      hint: { type: 'string' },
                      error: { type: 'string' },
                    },
                  },
                },
                rateLimit: {
                  type: 'object',
                  description: 'Where rate-limit decisions are made now (`mode`: `redis`, or `local` while Redis cannot count).',
                  additionalProperties: true,
                },
              },
            },
          },
        },
        429: tooManyRequests,
      },
    },
  }, async () => ({ status: 'ok', redis: await app.redisHealth() }))

  return app
}

/**
 * The "expensive" computation the cache saves (deterministic, for the demo).
 * @param {number} id
 */
function computeProduct (id) {
  return { id, name: `Product ${id}`, priceCents: 100 + ((id * 7919) % 9900) }
}
