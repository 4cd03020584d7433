// Code that runs on one server in development and on a Cluster in production
// declares both: commands common to both compile, the rest needs a check.
import Fastify from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { expect, test } from 'tstyche'
import type { DefaultRedisClient } from 'fastify-resilient-redis'

declare module 'fastify-resilient-redis' {
  interface RedisTopology {
    client: Redis | Cluster
  }
}

const app = Fastify()

test('commands of both compile', () => {
  expect(app.redis.get('k')).type.toBe<Promise<string | null>>()
  expect(app.redis.set('k', 'v')).type.toBe<Promise<'OK'>>()
  expect(app.redis.isCluster).type.toBe<boolean>()
})

test('what only one of them has does not', () => {
  // (app.redis itself takes any property name, as named clients by any name: see RedisClients.)
  expect<DefaultRedisClient>().type.toBe<Redis | Cluster>()
  expect<DefaultRedisClient>().type.not.toHaveProperty('connector')
  expect<DefaultRedisClient>().type.not.toHaveProperty('nodes')
})
