// Reference (not part of the default run): @fastify/rate-limit with its own
// in-memory store, no Redis at all. The floor any store under
// @fastify/rate-limit can reach: what the plugin's hook itself costs.
import rateLimit from '@fastify/rate-limit'
import { RATE_LIMIT, serve } from './serve.js'

await serve(async (app) => {
  await app.register(rateLimit, RATE_LIMIT)
})
