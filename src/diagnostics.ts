import diagnosticsChannel from 'node:diagnostics_channel'

/*
 * Events anyone can subscribe to with node:diagnostics_channel, without a
 * reference to the app:
 *
 *   import diagnosticsChannel from 'node:diagnostics_channel'
 *   diagnosticsChannel.subscribe('fastify-resilient-redis:rate-limit', (event) => { … })
 */

/** A connection changed state: `{ client, state, previous }` (ConnectionState objects, no secrets). */
export const CONNECTION_CHANNEL = 'fastify-resilient-redis:connection'
/** The rate limiter changed where it counts: `{ mode, previous, cause, decisionsOutsideRedis }`. */
export const RATE_LIMIT_CHANNEL = 'fastify-resilient-redis:rate-limit'

export const connectionChannel = diagnosticsChannel.channel(CONNECTION_CHANNEL)
export const rateLimitChannel = diagnosticsChannel.channel(RATE_LIMIT_CHANNEL)
