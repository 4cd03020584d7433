// (b) The status quo, as the READMEs of @fastify/redis and @fastify/rate-limit
// show it: default ioredis options, the built-in Redis store, skipOnError.
// BENCH_CLUSTER_NODES (host:port,…): an ioredis Cluster given to @fastify/redis
// as its `client`, the store on it (its script touches one key: no CROSSSLOT).
import fastifyRedis from '@fastify/redis'
import rateLimit from '@fastify/rate-limit'
import { Cluster } from 'ioredis'
import { RATE_LIMIT, serve } from './serve.js'

const nodes = process.env.BENCH_CLUSTER_NODES

await serve(async (app) => {
  if (nodes === undefined) await app.register(fastifyRedis, { url: process.env.REDIS_URL })
  else await app.register(fastifyRedis, { client: new Cluster(nodes.split(',').map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) }))) })
  await app.register(rateLimit, { ...RATE_LIMIT, redis: app.redis, skipOnError: true })
})
