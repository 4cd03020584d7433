// The plugin on a real 3-master/3-replica Redis Cluster (test/helpers/topologies.ts),
// configured from the environment alone: app.redis is an ioredis Cluster, keys in
// every slot answer (no MOVED 500), rate limiting counts in Redis (per slot, see
// cluster-rate-limit.test.ts), named clients and duplicates are watched, a cluster that is down
// costs the boot nothing and routes 503, and no password reaches a log line.
import t from 'tap'
import { Cluster } from 'ioredis'
import { BOOT_BOUND_MS, buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { freePort, stopAllRedis } from './helpers/redis-server.js'
import { startCluster } from './helpers/topologies.js'

const SECRET = 'S3cret-Cluster-Pa55'

t.teardown(stopAllRedis)

const cluster = await startCluster(SECRET)
t.teardown(() => cluster.stop())

t.test('from REDIS_CLUSTER_NODES alone: a Cluster client, every slot served, rate limiting counted in Redis', async (t) => {
  const test = await buildApp({ env: { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PASSWORD: SECRET }, rateLimit: { max: 4, timeWindow: 60_000 } }, (app) => {
    app.get('/keys', async () => {
      // Twenty keys land in slots of all three masters: each answers from its own node.
      const keys = Array.from({ length: 20 }, (_, i) => `frr:key:${i}`)
      for (const key of keys) await app.redis.set(key, key)
      return { values: await Promise.all(keys.map((key) => app.redis.get(key))) }
    })
  })
  const { app } = test
  t.teardown(() => app.close())
  t.ok(app.redis instanceof Cluster, 'app.redis is an ioredis Cluster')
  t.equal((await app.redisHealth()).clients.default?.url, `redis+cluster://:***@${cluster.nodeList}`)

  const first = await app.inject('/keys')
  t.equal(first.statusCode, 200, 'no MOVED: each key went to the node that owns its slot')
  t.same(first.json().values, Array.from({ length: 20 }, (_, i) => `frr:key:${i}`))

  const masters = await cluster.masters()
  t.equal(masters.length, 3)
  const sizes = await Promise.all(masters.map(async (node) => Number((await node.command('DBSIZE')).slice(1))))
  t.ok(sizes.every((size) => size > 0), `every master holds some of the keys (${sizes.join(', ')})`)

  // Rate limiting counts in Redis: the third request has no remaining, the fourth is refused.
  const remaining = []
  for (let i = 0; i < 3; i++) remaining.push((await app.inject('/plain')).headers['x-ratelimit-remaining'])
  t.same(remaining, ['2', '1', '0'], 'one counter, counted exactly')
  t.equal((await app.inject('/plain')).statusCode, 429, 'the fourth request in the window is refused')
  const health = await app.redisHealth()
  t.equal(health.status, 'up')
  t.match(health.rateLimit, { mode: 'redis' }, 'decisions are made in Redis')
  const counters = (await Promise.all(cluster.nodes.map((n) => n.command('KEYS', 'frr-rate-limit:*')))).filter((reply) => !reply.startsWith('*0'))
  t.equal(counters.length > 0, true, 'the counters live under the default nameSpace')
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})

t.test('a named client on a redis+cluster:// URL, and a duplicate of app.redis, are Clusters the plugin watches', async (t) => {
  const url = `redis+cluster://:${encodeURIComponent(SECRET)}@${cluster.nodeList}`
  const test = await buildApp({ env: { REDIS_CACHE_URL: url }, clients: { cache: {} }, rateLimit: false, url, keyPrefix: 'app:' })
  const { app } = test
  t.teardown(() => app.close())
  // Named clients are typed Redis unless declared; this one is a Cluster.
  const cache = app.redis.cache as unknown as Cluster
  t.ok(cache instanceof Cluster)
  t.equal(await cache.set('frr:cache', '1'), 'OK')
  const stored = await Promise.all(cluster.nodes.map((n) => n.command('KEYS', 'app:frr:cache')))
  t.ok(stored.some((reply) => reply.includes('app:frr:cache')), 'keyPrefix reaches a Cluster (at its top level, where ioredis reads it)')
  const copy = app.redis.duplicate() as unknown as Cluster
  t.ok(copy instanceof Cluster, 'duplicate() gives another Cluster')
  t.ok(await waitFor(async () => (await app.redisHealth()).clients['default.1']?.state === 'ready', EVENTUALLY_MS), 'listed in the health report, ready')
  t.equal(await copy.get('frr:cache'), '1')
  t.throws(() => app.redis.duplicate([{ host: '127.0.0.1', port: 1 }] as never), { code: 'FRR_ERR_INVALID_SETTING', message: /^duplicate\(\) of a Cluster takes no other nodes or options here/ })
  t.throws(() => (app.redis as unknown as Cluster).duplicate([], {}), { code: 'FRR_ERR_INVALID_SETTING' })
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})

t.test('a cluster nobody answers for: the boot does not wait, routes answer 503, health says down', async (t) => {
  const ports = [await freePort(), await freePort()]
  const test = await buildApp({ env: { REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(','), REDIS_PASSWORD: SECRET } })
  const { app } = test
  t.teardown(() => app.close())
  t.ok(test.bootMs < BOOT_BOUND_MS, `boot did not wait (${Math.round(test.bootMs)} ms)`)
  t.equal((await app.inject('/plain')).statusCode, 200, 'a route without Redis answers (the limiter counts in memory)')
  const redis = await app.inject('/redis')
  t.equal(redis.statusCode, 503)
  t.equal(redis.json().code, 'FRR_ERR_REDIS_UNAVAILABLE')
  const health = await app.redisHealth()
  t.equal(health.status, 'down')
  // ioredis asks each node for its slots on a throwaway connection that swallows the refusal: what is
  // left is its last node error, "Connection is closed.", on a connection never made: refused.
  t.equal(health.clients.default?.failure, 'refused', `the last node error decides the class (${health.clients.default?.error})`)
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})

t.test('on a cluster, a rateLimit nameSpace with a hash tag puts every counter on one master', async (t) => {
  const env = { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PASSWORD: SECRET }
  const test = await buildApp({ env, rateLimit: { nameSpace: '{mine}:', max: 5 } })
  t.teardown(() => test.app.close())
  t.equal((await test.app.inject('/plain')).headers['x-ratelimit-remaining'], '4')
  const masters = await cluster.masters()
  const holding = (await Promise.all(masters.map((n) => n.command('KEYS', '{mine}:*')))).filter((reply) => !reply.startsWith('*0'))
  t.equal(holding.length, 1, 'the counters share one slot: one master holds them all')
})
