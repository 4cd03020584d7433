// (d) The peer users pick instead: rate-limiter-flexible's RateLimiterRedis on
// an ioredis client made as its docs make it (`enableOfflineQueue: false`),
// with an insurance RateLimiterMemory of the same limits (used whenever a
// Redis call fails) and `inMemoryBlockOnConsumed` at the limit (its answer to
// an abusive client: a key over its limit is refused in process until its
// window ends). Called from an onRequest hook; headers as its README shows
// (X-RateLimit-Limit/Remaining/Reset, Retry-After on a refusal as its
// examples round it), 429 "Too Many Requests" as its middleware examples.
// One limiter per rule: the global one for /, another for /own.
import { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'
import { OWN_RATE_LIMIT, RATE_LIMIT, serve } from './serve.js'

// BENCH_CLUSTER_NODES is not used here: the cluster scenario runs this package and the status quo only.
const storeClient = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false })

function limiter (keyPrefix, { max, timeWindow }) {
  const limits = { points: max, duration: timeWindow / 1000 }
  return {
    points: max,
    limiter: new RateLimiterRedis({
      storeClient,
      keyPrefix,
      ...limits,
      inMemoryBlockOnConsumed: max,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, ...limits }),
    }),
  }
}

const global = limiter('rlf-global', RATE_LIMIT)
const own = limiter('rlf-own', OWN_RATE_LIMIT)

function rateHeaders (reply, points, res) {
  reply.header('X-RateLimit-Limit', points)
  reply.header('X-RateLimit-Remaining', res.remainingPoints)
  reply.header('X-RateLimit-Reset', Math.ceil((Date.now() + res.msBeforeNext) / 1000))
}

await serve(async (app) => {
  app.addHook('onRequest', async (request, reply) => {
    const { limiter, points } = request.routeOptions.url === '/own' ? own : global
    try {
      rateHeaders(reply, points, await limiter.consume(request.ip))
    } catch (rejection) {
      // A store error with no insurance to decide (never here: the insurance limiter takes it).
      if (rejection instanceof Error) throw rejection
      rateHeaders(reply, points, rejection)
      reply.header('Retry-After', Math.round(rejection.msBeforeNext / 1000) || 1)
      return reply.code(429).send('Too Many Requests')
    }
  })
})
