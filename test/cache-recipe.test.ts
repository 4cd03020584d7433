// The cache recipe of README ("A cache that fails open"): async-cache-dedupe's
// Redis storage on a plugin client, against a real redis-server that is
// healthy, killed, hanging and restarted empty. A read during an outage is a
// miss (the value is computed) within the command timeout, a write is skipped,
// the app writes no try/catch, and caching resumes after the outage.
import t, { type Test } from 'tap'
import { createCache } from 'async-cache-dedupe'
import type { Redis } from 'ioredis'
import { buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'Cache-Secret-3Vb'

t.teardown(stopAllRedis)

async function setup (t: Test) {
  const server = await startRedis({ password: SECRET })
  let computed = 0
  const built = await buildApp({ url: server.url, rateLimit: false, clients: { cache: { db: 1 } } }, (app) => {
    // As in README: the storage logs what fails with the app's logger, and the app computes instead.
    const cache = createCache({ ttl: 60, storage: { type: 'redis', options: { client: app.redis.cache as Redis, log: app.log } } })
      .define('product', async (id: number) => {
        computed++
        return { id, name: `product ${id}` }
      })
    app.get('/products/:id', async (request) => cache.product(Number((request.params as { id: string }).id)))
  })
  t.teardown(() => built.app.close())
  return { server, built, computed: () => computed }
}

t.test('healthy: the second read is a hit', async (t) => {
  const { built, computed } = await setup(t)
  t.same((await built.app.inject('/products/1')).json(), { id: 1, name: 'product 1' })
  t.same((await built.app.inject('/products/1')).json(), { id: 1, name: 'product 1' })
  t.equal(computed(), 1)
})

t.test('killed, then restarted empty: every read answered (a miss), then cached again', async (t) => {
  const { server, built, computed } = await setup(t)
  await built.app.inject('/products/1')
  await server.kill()
  await waitFor(() => (built.app.redis.cache as Redis).status !== 'ready', EVENTUALLY_MS)
  for (let i = 0; i < 5; i++) {
    const reply = await built.app.inject('/products/1')
    t.equal(reply.statusCode, 200, 'no 503, no 500: a miss')
  }
  t.equal(computed(), 6, 'computed each time Redis could not answer')
  await server.restart()
  t.ok(await waitFor(async () => (await built.app.redisHealth()).clients.cache?.state === 'ready', EVENTUALLY_MS))
  const before = computed()
  await built.app.inject('/products/2')
  await built.app.inject('/products/2')
  t.equal(computed(), before + 1, 'writes and hits again')
  t.notOk(built.logText().includes(SECRET))
})

t.test('hanging: a read is a miss after at most the command timeout, not a hang', async (t) => {
  const { server, built } = await setup(t)
  await built.app.inject('/products/1')
  server.pause()
  t.teardown(() => { server.resume() })
  const reply = await built.app.inject('/products/3')
  t.equal(reply.statusCode, 200)
  t.same(reply.json(), { id: 3, name: 'product 3' })
  t.ok(await waitFor(() => built.connectionLogs().some((line) => line.redisClient === 'cache' && line.redisState === 'down'), EVENTUALLY_MS), 'the outage is in the log, not in the reply')
})
