// A lookup read through a Redis cache that works without it.
import { isRedisUnavailableError } from 'fastify-resilient-redis'
import { badRequest, tooManyRequests } from '../schemas.js'

/** How long a cached product stays in Redis, in seconds. */
const CACHE_TTL_SECONDS = 60

/**
 * The "expensive" computation the cache saves (deterministic, for the demo).
 * @param {number} id
 */
export function computeProduct (id) {
  return { id, name: `Product ${id}`, priceCents: 100 + ((id * 7919) % 9900) }
}

/** @param {import('fastify').FastifyInstance} app */
export function addCatalogRoutes (app) {
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
    const cache = /** @type {import('ioredis').Redis} */ (app.redis.cache)
    const key = `example:product:${id}`
    try {
      const cached = await cache.get(key)
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
    await cache.set(key, JSON.stringify(product), 'EX', CACHE_TTL_SECONDS).catch(() => {})
    return { ...product, cache: 'miss' }
  })
}
