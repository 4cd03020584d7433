// The plugin's contract: decorators in @fastify/redis's shape, named clients,
// the health report and route, 503 mapping beside the app's own error
// handler, and registration that fails only on bad configuration.
import t from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'
import resilientRedisDefault, { RedisUnavailableError, resilientRedis } from '../src/index.js'

const SECRET = 'S3cret-Pa55word!'

t.teardown(stopAllRedis)

t.test('default and named export are the same plugin, named for fastify-plugin', async (t) => {
  t.equal(resilientRedisDefault, resilientRedis)
  const meta = (resilientRedis as unknown as Record<symbol, { name: string; fastify: string }>)[Symbol.for('plugin-meta')]
  t.equal(meta?.name, 'fastify-resilient-redis')
  t.equal(meta?.fastify, '5.x')
})

t.test('app.redis is the default client; named clients are its properties', async (t) => {
  const main = await startRedis({ password: SECRET })
  const other = await startRedis({ password: SECRET })
  const test = await buildApp({
    env: { REDIS_URL: `redis://127.0.0.1:${main.port}`, REDIS_PASSWORD: SECRET, REDIS_BROKER_URL: `redis://127.0.0.1:${other.port}/2` },
    clients: { cache: { db: 1 }, broker: {} },
  })
  t.teardown(() => test.app.close())
  const { redis } = test.app
  t.ok(redis instanceof Redis)
  t.ok(redis.cache instanceof Redis)
  t.ok(redis.broker instanceof Redis)

  await redis.set('frr:where', 'db0')
  await redis.cache?.set('frr:where', 'db1')
  await redis.broker?.set('frr:where', 'other server, db2')
  t.equal(await redis.get('frr:where'), 'db0')
  t.equal(await redis.cache?.get('frr:where'), 'db1', 'cache uses db 1 of the default server')
  t.equal(await redis.broker?.get('frr:where'), 'other server, db2', 'broker uses REDIS_BROKER_URL, with REDIS_PASSWORD')
  t.match(await other.command('SELECT', '2'), /OK/)

  const health = await test.app.redisHealth()
  t.equal(health.status, 'up')
  t.same(Object.keys(health.clients).sort(), ['broker', 'cache', 'default'])
  t.equal(health.clients.broker?.url, `redis://:***@127.0.0.1:${other.port}/2`)
  t.type(health.clients.default?.latencyMs, 'number')

  await other.kill()
  await test.app.inject('/plain')
  const degraded = await test.app.redisHealth()
  t.equal(degraded.status, 'degraded', 'one client of three down')
  t.equal(degraded.clients.broker?.state, 'down')
})

t.test('healthRoute serves the report: 200 while up, 503 when down', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await buildApp({ healthRoute: '/health/redis', env: { REDIS_URL: server.url } })
  t.teardown(() => test.app.close())
  const up = await test.app.inject('/health/redis')
  t.equal(up.statusCode, 200)
  t.equal(up.json().status, 'up')
  await server.kill()
  const down = await test.app.inject('/health/redis')
  t.equal(down.statusCode, 503)
  t.equal(down.json().status, 'down')
  // The route's response schema keeps every field of the report.
  t.same(Object.keys(up.json().clients.default).sort(), ['latencyMs', 'since', 'state', 'url'])
  t.same(Object.keys(down.json().clients.default).sort(), ['error', 'failure', 'hint', 'since', 'state', 'url'])
  t.same(Object.keys(down.json().rateLimit).sort(), ['cause', 'decisionsAfterError', 'decisionsAfterTimeout', 'decisionsOutsideRedis', 'failMode', 'memoryKeys', 'mode', 'overLimitKeys', 'refusedWithoutRedis', 'since'])
  t.notOk(up.body.includes(SECRET) || down.body.includes(SECRET))
})

t.test('the healthRoute is never rate limited: a load balancer probe never gets 429', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await buildApp({ healthRoute: '/health/redis', env: { REDIS_URL: server.url }, rateLimit: { max: 2, timeWindow: 60_000 } })
  t.teardown(() => test.app.close())
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await test.app.inject('/health/redis')).statusCode)
  t.same(statuses, [200, 200, 200, 200, 200, 200])
  const plain = []
  for (let i = 0; i < 3; i++) plain.push((await test.app.inject('/plain')).statusCode)
  t.same(plain, [200, 200, 429], 'other routes are limited (max 2)')
})

t.test('a health check of a ready client that stops answering reports it down', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await buildApp({ env: { REDIS_URL: server.url }, commandTimeout: 200 })
  t.teardown(async () => { await test.app.close(); await server.kill() })
  server.pause()
  const health = await test.app.redisHealth()
  t.equal(health.status, 'down')
  t.equal(health.clients.default?.failure, 'hanging')
  t.equal(health.clients.default?.error, 'Command timed out')
})

t.test('503 mapping leaves the app error handler and other errors alone', async (t) => {
  const port = await freePort()
  const seen: Array<{ statusCode: unknown; code: unknown }> = []
  const received: Error[] = []
  const test = await buildApp({ env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port), REDIS_PASSWORD: SECRET } }, (app) => {
    app.get('/boom', async () => { throw new Error('boom') })
    app.get('/throws-unavailable', async () => { throw new RedisUnavailableError() })
    app.register(async (scope) => {
      scope.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, _request, reply) => {
        seen.push({ statusCode: error.statusCode, code: error.code })
        received.push(error)
        return reply.code(error.statusCode ?? 500).send({ custom: true, message: error.message })
      })
      scope.get('/custom/redis', async () => scope.redis.get('k'))
      scope.get('/custom/boom', async () => { throw new Error('custom boom') })
    })
  })
  t.teardown(() => test.app.close())

  const boom = await test.app.inject('/boom')
  t.equal(boom.statusCode, 500)
  t.equal(boom.json().message, 'boom', 'other errors untouched')
  t.notOk(boom.headers['retry-after'])

  const thrown = await test.app.inject('/throws-unavailable')
  t.equal(thrown.statusCode, 503, 'a route may throw RedisUnavailableError itself')
  t.equal(thrown.headers['retry-after'], '1')
  t.equal(thrown.json().code, 'FRR_ERR_REDIS_UNAVAILABLE')

  const custom = await test.app.inject('/custom/redis')
  t.equal(custom.statusCode, 503, "the app's handler sees the 503")
  t.same(custom.json(), { custom: true, message: 'Redis is unavailable; try again shortly' })
  t.equal(custom.headers['retry-after'], '1')
  const customBoom = await test.app.inject('/custom/boom')
  t.same(customBoom.json(), { custom: true, message: 'custom boom' })
  t.same(seen, [{ statusCode: 503, code: 'FRR_ERR_REDIS_UNAVAILABLE' }, { statusCode: undefined, code: undefined }])

  // The error the app's handler gets keeps the original (scrubbed) message as its cause, and no command arguments.
  t.match((received[0]?.cause as Error | undefined)?.message, /Stream isn't writeable/)
  t.notOk(received[0] !== undefined && 'command' in received[0])
})

t.test('registration reads process.env when no env is given', async (t) => {
  const server = await startRedis({ password: SECRET })
  const saved = process.env.REDIS_URL
  process.env.REDIS_URL = server.url
  t.teardown(() => { if (saved === undefined) delete process.env.REDIS_URL; else process.env.REDIS_URL = saved })
  const app = Fastify()
  await app.register(resilientRedis)
  t.teardown(() => app.close())
  t.equal(await app.redis.ping(), 'PONG')
})

t.test('bad configuration fails registration with a coded error, before connecting', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['port', { env: { REDIS_PORT: 'abc' } }, 'FRR_ERR_INVALID_SETTING', /REDIS_PORT/],
    ['password required', { env: { NODE_ENV: 'production' } }, 'FRR_ERR_PASSWORD_REQUIRED', /REDIS_PASSWORD/],
    ['mismatch', { env: { REDIS_URL: 'redis://:one@127.0.0.1:1', REDIS_PASSWORD: 'two' } }, 'FRR_ERR_CONFLICTING_SETTINGS', /REDIS_URL and REDIS_PASSWORD/],
    ['healthRoute', { healthRoute: 'health' }, 'FRR_ERR_INVALID_SETTING', /healthRoute option/],
    ['commandTimeout', { commandTimeout: 0 }, 'FRR_ERR_INVALID_SETTING', /commandTimeout option/],
    ['connectWait', { connectWait: 'soon' }, 'FRR_ERR_INVALID_SETTING', /connectWait option/],
  ]
  for (const [name, options, code, message] of cases) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(resilientRedis, { env: {}, ...options }) }, { code, message }, name)
    t.notOk(app.hasDecorator('redis'), `${name}: nothing decorated`)
    await app.close()
  }
  const mismatch = await Fastify().register(resilientRedis, { env: { REDIS_URL: 'redis://:one-secret@127.0.0.1:1', REDIS_PASSWORD: 'two-secret' } }).then(() => undefined, (error: Error) => error)
  t.notOk(String(mismatch?.message).includes('secret'), 'the error names the settings, not the values')
})

t.test('registering twice is an error', async (t) => {
  const port = await freePort()
  const app = Fastify()
  await app.register(resilientRedis, { env: { REDIS_PORT: String(port) } })
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(resilientRedis, { env: { REDIS_PORT: String(port) } }) }, { code: 'FRR_ERR_ALREADY_REGISTERED' })
})

t.test('a client closed with the app stays closed when something connects it again (as a reconnect timer ioredis lost track of would)', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await buildApp({ env: { REDIS_URL: server.url } })
  t.equal(await test.app.redis.ping(), 'PONG')
  await test.app.close()
  t.ok(await waitFor(() => test.app.redis.status === 'end', EVENTUALLY_MS), 'ended')
  await t.rejects(test.app.redis.connect(), { message: 'Connection is closed.' }, 'the connect is dropped as it starts')
  t.equal(test.app.redis.status, 'end')
  t.notMatch(await server.command('CLIENT', 'LIST'), /name=fastify-resilient-redis/, 'no connection of the app on the server')
})
