// The health probe: always 200 while the app serves, Redis's state in the body.
import { tooManyRequests } from '../schemas.js'

/** @param {import('fastify').FastifyInstance} app */
export function addHealthRoute (app) {
  // A load balancer's or orchestrator's probe must never get 429: no limit here.
  app.get('/health', {
    config: { rateLimit: false },
    schema: {
      tags: ['health'],
      summary: 'Health of Redis and the rate limiter',
      description: 'Always 200 while the app serves, because the app works without Redis: `redis.status` says how Redis is doing ' +
        '(`up`, `degraded`, `down`), per connection (`default`, `cache`, `queue`, `queueProducer`, `channels`, and the ones BullMQ and the ' +
        'notifications made from them: `queue.1`, `channels.1`) with the failure and what to check. Alert on it; do not take ' +
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
}
