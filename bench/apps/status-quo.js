// (b) The status quo, as the READMEs of @fastify/redis and @fastify/rate-limit
// show it: default ioredis options, the built-in Redis store, skipOnError.
import fastifyRedis from '@fastify/redis'
import rateLimit from '@fastify/rate-limit'
import { RATE_LIMIT, serve } from './serve.js'

await serve(async (app) => {
  await app.register(fastifyRedis, { url: process.env.REDIS_URL })
  await app.register(rateLimit, { ...RATE_LIMIT, redis: app.redis, skipOnError: true })
})
