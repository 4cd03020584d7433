// The public types with no client names declared: the plugin's options,
// app.redis in @fastify/redis's shape, redisHealth, the coded errors.
import Fastify, { type FastifyInstance } from 'fastify'
import type { FastifyRedis as FastifyRedisOfFastifyRedis } from '@fastify/redis'
import type { Redis } from 'ioredis'
import { describe, expect, test } from 'tstyche'
import resilientRedis, {
  createFailOpenStore,
  InvalidSettingError,
  isResilientRedisError,
  RedisUnavailableError,
  resilientRedis as named,
  type FastifyRedis,
  type RedisHealthReport,
  type ResilientRedisError,
  type ResilientRedisErrorCode,
} from 'fastify-resilient-redis'

const app = Fastify()

describe('register', () => {
  test('the default export is the named one', () => {
    expect(named).type.toBe<typeof resilientRedis>()
  })

  test('takes the options of the contract, all optional', () => {
    expect(app.register).type.toBeCallableWith(resilientRedis)
    expect(app.register).type.toBeCallableWith(resilientRedis, {
      env: process.env,
      url: 'redis://127.0.0.1:6379/0',
      password: 'x',
      db: 0,
      tls: true,
      clients: { cache: { db: 1 }, broker: { url: 'redis://127.0.0.1:6380' } },
      rateLimit: { max: 100, timeWindow: '1 minute', failMode: 'local' },
      requirePassword: false,
      healthRoute: '/health/redis',
      commandTimeout: 500,
    })
    expect(app.register).type.toBeCallableWith(resilientRedis, { rateLimit: false, healthRoute: false })
  })

  test('takes @fastify/redis\'s client and closeClient, and the ioredis options it passes through', () => {
    const own = {} as Redis
    expect(app.register).type.toBeCallableWith(resilientRedis, { client: own, closeClient: true })
    expect(app.register).type.toBeCallableWith(resilientRedis, { keyPrefix: 'api:', family: 4, connectionName: 'api', enableAutoPipelining: true })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { client: 'redis://127.0.0.1:6379' })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { closeClient: 'yes' })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { keyPrefix: 7 })
  })

  test('rejects the ioredis options the plugin decides, and @fastify/redis\'s namespace', () => {
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { enableOfflineQueue: true })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { maxRetriesPerRequest: 20 })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { lazyConnect: true })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { namespace: 'cache' })
  })

  test('rejects options of the wrong type', () => {
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { healthRoute: 42 })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { port: '6379' })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { clients: { cache: { db: '1' } } })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { rateLimit: true })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { rateLimit: { failMode: 'sometimes' } })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { commandTimeout: '500' })
    expect(app.register).type.not.toBeCallableWith(resilientRedis, { clients: { jobs: { role: 'worker' } } })
  })

  test('takes a role per named client', () => {
    expect(app.register).type.toBeCallableWith(resilientRedis, {
      clients: { jobs: { role: 'blocking' }, channels: { role: 'subscriber' }, worker: { role: 'queue' }, cache: { role: 'command', db: 1 } },
    })
  })
})

describe('app.redis', () => {
  test('is the default ioredis client, not any', () => {
    expect(app.redis).type.toBe<FastifyRedis>()
    expect<FastifyInstance['redis']>().type.toBe<FastifyRedis>()
    expect(app.redis).type.toBeAssignableTo<Redis>()
    expect(app.redis.get('k')).type.toBe<Promise<string | null>>()
    expect(app.redis.get('k')).type.not.toBeAssignableTo<Promise<number>>()
    expect(app.redis.incr('k')).type.toBe<Promise<number>>()
    expect(app.redis.get).type.not.toBeCallableWith()
  })

  test('has named clients by any name, as with @fastify/redis', () => {
    expect(app.redis.cache).type.toBe<Redis>()
    expect(app.redis.cache.get('k')).type.toBe<Promise<string | null>>()
    // An index signature: any name is a client, so a misspelt method is a client too, and not callable.
    expect(app.redis.notAMethod).type.toBe<Redis>()
    expect(app.redis.notAMethod).type.not.toBeAssignableTo<(...args: never[]) => unknown>()
  })

  test("is @fastify/redis's FastifyRedis, both ways: code written for it keeps compiling", () => {
    expect(app.redis).type.toBeAssignableTo<FastifyRedisOfFastifyRedis>()
    expect<FastifyRedis>().type.toBeAssignableFrom<FastifyRedisOfFastifyRedis>()
  })
})

describe('app.redisHealth', () => {
  test('takes nothing and resolves to the report', () => {
    expect(app.redisHealth()).type.toBe<Promise<RedisHealthReport>>()
    expect(app.redisHealth).type.not.toBeCallableWith('default')
    expect<RedisHealthReport['status']>().type.toBe<'up' | 'degraded' | 'down'>()
  })
})

describe('errors', () => {
  test('carry their literal code and status code', () => {
    expect(new RedisUnavailableError().code).type.toBe<'FRR_ERR_REDIS_UNAVAILABLE'>()
    expect(new RedisUnavailableError().statusCode).type.toBe<503>()
    expect(RedisUnavailableError()).type.toBeAssignableTo<Error>()
    expect(new InvalidSettingError('port option', 'must be a number', 'fix it').code).type.toBe<'FRR_ERR_INVALID_SETTING'>()
    expect(new InvalidSettingError('port option', 'must be a number', 'fix it').statusCode).type.toBe<500>()
  })

  test('take the arguments of their message', () => {
    expect(RedisUnavailableError).type.toBeConstructableWith({ cause: new Error('down') })
    expect(RedisUnavailableError).type.not.toBeConstructableWith('Redis is down')
    expect(InvalidSettingError).type.toBeConstructableWith('a', 'b', 'c')
    expect(InvalidSettingError).type.not.toBeConstructableWith('a')
  })

  test('isResilientRedisError narrows to the codes', () => {
    const error: unknown = new Error('x')
    if (isResilientRedisError(error)) {
      expect(error).type.toBe<ResilientRedisError>()
      expect(error.code).type.toBe<ResilientRedisErrorCode>()
    }
    expect<ResilientRedisErrorCode>().type.toBe<
      'FRR_ERR_INVALID_SETTING' | 'FRR_ERR_CONFLICTING_SETTINGS' | 'FRR_ERR_PASSWORD_REQUIRED' |
      'FRR_ERR_PASSWORD_FILE' | 'FRR_ERR_ALREADY_REGISTERED' | 'FRR_ERR_REDIS_UNAVAILABLE'
    >()
  })
})

describe('createFailOpenStore', () => {
  test('takes app.redis or any ioredis client, and its own options only', () => {
    expect(createFailOpenStore).type.toBeCallableWith({ redis: app.redis, failMode: 'open' })
    expect(createFailOpenStore).type.toBeCallableWith({ redis: app.redis.cache })
    expect(createFailOpenStore).type.not.toBeCallableWith({})
    expect(createFailOpenStore).type.not.toBeCallableWith({ redis: app.redis, failMode: 'sometimes' })
  })
})
