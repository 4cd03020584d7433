// A route that cannot answer without Redis, and says so with a 503.
import { serviceUnavailable, tooManyRequests } from '../schemas.js'

/** @param {import('fastify').FastifyInstance} app */
export function addVisitRoutes (app) {
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
}
