// With RedisTopology declared (module augmentation, as the README shows for a
// Redis Cluster), app.redis is an ioredis Cluster: commands keep their types,
// what only a one-server client has does not compile.
import Fastify from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { expect, test } from 'tstyche'
import { createFailOpenStore, type DefaultRedisClient } from 'fastify-resilient-redis'

declare module 'fastify-resilient-redis' {
  interface RedisTopology {
    client: Cluster
  }
  interface RedisClients {
    cache: Cluster
    local?: Redis
    other: string
  }
}

const app = Fastify()

test('app.redis is a Cluster', () => {
  expect<DefaultRedisClient>().type.toBe<Cluster>()
  expect(app.redis).type.toBeAssignableTo<Cluster>()
  expect(app.redis.get('k')).type.toBe<Promise<string | null>>()
  expect(app.redis.nodes('master')).type.toBe<Redis[]>()
})

test('named clients are what they are declared as (anything else: Redis)', () => {
  expect(app.redis.cache).type.toBe<Cluster>()
  expect(app.redis.local).type.toBe<Redis | undefined>()
  expect(app.redis.other).type.toBe<Redis>()
  expect(app.redis).type.not.toHaveProperty('unknown')
})

test('what only a one-server client has is an error', () => {
  // (app.redis itself takes any property name, as named clients by any name: see RedisClients.)
  expect<DefaultRedisClient>().type.not.toHaveProperty('connector')
  expect(app.redis).type.not.toBeAssignableTo<Redis>()
})

test('a Cluster counts for createFailOpenStore: app.redis, a named one, or one built by hand', () => {
  expect(createFailOpenStore).type.toBeCallableWith({ redis: app.redis })
  expect(createFailOpenStore).type.toBeCallableWith({ redis: app.redis.cache })
  expect(createFailOpenStore).type.toBeCallableWith({ redis: {} as Cluster, nameSpace: 'rl:' })
  expect(createFailOpenStore).type.not.toBeCallableWith({ redis: app.redis.other.get })
})
