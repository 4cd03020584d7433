// GET /notifications (server-sent events) and POST /notifications (publish).
import { NOTIFICATIONS_CHANNEL } from '../notification-hub.js'
import { badRequest, serviceUnavailable, tooManyRequests } from '../schemas.js'

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {ReturnType<typeof import('../notification-hub.js').createNotificationHub>} hub
 */
export function addNotificationRoutes (app, hub) {
  app.get('/notifications', {
    schema: {
      tags: ['notifications'],
      summary: 'Live notifications (server-sent events)',
      description: 'A stream of server-sent events, for `new EventSource(\'/notifications\')`: `notification` (a finished report, ' +
        'or a message from `POST /notifications`, published by any instance of the app through Redis pub/sub) and `status` ' +
        '(`{"live": true|false}`: whether this instance is subscribed right now). While Redis is unavailable the stream stays ' +
        'open and says `live: false`; notifications resume when Redis is back (what was published meanwhile is lost: pub/sub ' +
        'keeps nothing). The stream never ends by itself, so "Try it out" here waits: use `curl -N` or a browser.',
      response: {
        200: {
          description: 'An endless `text/event-stream`.',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        429: tooManyRequests,
      },
    },
  }, async (request, reply) => {
    const stream = hub.open()
    // The response's 'close': the browser went away (or the stream ended).
    // Not the request's, which Node emits once the request itself is read.
    reply.raw.once('close', () => { stream.destroy() })
    reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache')
    return reply.send(stream)
  })

  app.post('/notifications', {
    schema: {
      tags: ['notifications'],
      summary: 'Publish a notification (needs Redis)',
      description: 'Publishes a message on the Redis channel every instance listens to (`app.redis.channels`, role `subscriber`). ' +
        '`listeners` is how many instances received it. While Redis is unavailable: 503 with `retry-after`.',
      body: {
        type: 'object',
        required: ['message'],
        properties: { message: { type: 'string', minLength: 1, maxLength: 200 } },
        examples: [{ message: 'Hello, everyone' }],
      },
      response: {
        200: {
          description: 'Published.',
          type: 'object',
          properties: { listeners: { type: 'integer', description: 'Instances subscribed (0 if none is).' } },
        },
        400: badRequest,
        429: tooManyRequests,
        503: serviceUnavailable,
      },
    },
  }, async (request) => {
    const { message } = /** @type {{ message: string }} */ (request.body)
    const channels = /** @type {import('ioredis').Redis} */ (app.redis.channels)
    const listeners = await channels.publish(NOTIFICATIONS_CHANNEL, JSON.stringify({ type: 'message', message, at: new Date().toISOString() }))
    return { listeners }
  })
}
