// A minimal app using the package by its public name, as an app would.
// Configure Redis through the environment (see the README's table), e.g.
//   REDIS_URL=redis://127.0.0.1:6379 REDIS_PASSWORD=... npm run example
// It starts and serves with Redis up, down, hanging or rejecting the password.
import Fastify from 'fastify'
import resilientRedis from 'fastify-resilient-redis'

const app = Fastify({ logger: true })

await app.register(resilientRedis, { healthRoute: '/health' })

app.get('/', async () => ({ hello: 'world' }))

// A Redis-backed counter: 503 with Retry-After while Redis is unavailable.
app.post('/visits', async () => ({ visits: await app.redis.incr('example:visits') }))

const port = Number(process.env.PORT ?? 3000)
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' })

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
