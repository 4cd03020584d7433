// With the client names declared (module augmentation, as the README shows),
// app.redis has exactly those named clients: a misspelt name is an error.
// (@fastify/redis is not imported here: its own declaration of app.redis would
// conflict with this narrower one.)
import Fastify from 'fastify'
import type { Redis } from 'ioredis'
import { expect, test } from 'tstyche'
import type { FastifyRedis, RedisClients } from 'fastify-resilient-redis'

declare module 'fastify-resilient-redis' {
  interface RedisClients {
    cache: Redis
    broker?: Redis
  }
}

const app = Fastify()

test('declared names are ioredis clients', () => {
  expect(app.redis).type.toBe<FastifyRedis>()
  expect(app.redis.cache).type.toBe<Redis>()
  expect(app.redis.cache.get('k')).type.toBe<Promise<string | null>>()
  expect(app.redis.broker).type.toBe<Redis | undefined>()
  expect(app.redis.get('k')).type.toBe<Promise<string | null>>()
  expect<keyof RedisClients>().type.toBe<'cache' | 'broker'>()
})

test('an undeclared or misspelt name is an error', () => {
  expect(app.redis).type.toHaveProperty('cache')
  expect(app.redis).type.not.toHaveProperty('cahce')
  expect(app.redis.cahce).type.toRaiseError("Property 'cahce' does not exist on type 'FastifyRedis'. Did you mean 'cache'?")
})
