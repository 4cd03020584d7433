// The store on its own, as an app that registers @fastify/rate-limit itself
// would use it, against a real redis-server and a plain ioredis client.
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { setTimeout as sleep } from 'node:timers/promises'
import { EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { stopAllRedis } from './helpers/redis-server.js'
import { incr, QUICK, read, startStore, type StoreSetup } from './helpers/store.js'
import type { TcpProxy } from './helpers/tcp-proxy.js'
import { createFailOpenStore, type FailOpenStoreOptions } from '../src/index.js'

const SECRET = 'S3cret-Pa55word!'

t.teardown(stopAllRedis)

/** A store with startStore's patient deadlines; `quick` for tests that wait out a hang (100 ms). */
function setup (t: Test, store: Partial<FailOpenStoreOptions> = {}, quick = false): Promise<StoreSetup> {
  return startStore(t, { password: SECRET, store: { ...(quick ? QUICK.store : {}), ...store }, ...(quick ? { client: QUICK.client } : {}) })
}

t.test('counts in Redis with the window as TTL, and reads without counting', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  t.same(await incr(store, 'ip-1'), { current: 1, ttl: 10_000 })
  const second = await incr(store, 'ip-1')
  t.equal(second.current, 2)
  t.ok(second.ttl > 9_000 && second.ttl <= 10_000, `ttl ${second.ttl}`)
  t.equal(await server.command('GET', 'frr-rate-limit:ip-1'), '$1\r\n2', 'the counter is in Redis')
  t.same((await read(store, 'ip-1')).current, 2)
  t.same((await read(store, 'ip-1')).current, 2, 'read does not count')
  t.same(await read(store, 'nobody'), { current: 0, ttl: 0 })
  t.match(Store.report(), { mode: 'redis', decisionsOutsideRedis: 0, decisionsAfterTimeout: 0, decisionsAfterError: 0 })
})

t.test('continueExceeding and exponentialBackoff, as in @fastify/rate-limit', async (t) => {
  const { Store } = await setup(t)
  const continuing = new Store({ continueExceeding: true })
  for (let i = 0; i < 3; i++) await incr(continuing, 'c', 10_000, 2)
  t.same(await incr(continuing, 'c', 10_000, 2), { current: 4, ttl: 10_000 }, 'past max each request restarts the window')
  const backoff = new Store({ exponentialBackoff: true })
  for (let i = 0; i < 2; i++) await incr(backoff, 'b', 1000, 2)
  t.same(await incr(backoff, 'b', 1000, 2), { current: 3, ttl: 1000 })
  t.same(await incr(backoff, 'b', 1000, 2), { current: 4, ttl: 2000 })
  t.same(await incr(backoff, 'b', 1000, 2), { current: 5, ttl: 4000 })
})

t.test('a counter that lost its expiry gets a window again', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store()
  await incr(store, 'k')
  await server.command('PERSIST', 'frr-rate-limit:k')
  t.same(await incr(store, 'k', 5000), { current: 2, ttl: 5000 })
})

t.test('children: one key space per route and per limiter', async (t) => {
  const { server, Store } = await setup(t)
  const root = new Store()
  const login = root.child({ routeInfo: { method: 'POST', url: '/login' } })
  const both = root.child({ routeInfo: { method: ['GET', 'HEAD'], url: '/docs' } })
  const first = root.child({ routeInfo: {} })
  const second = root.child({ routeInfo: {} })
  const named = root.child({ routeInfo: {}, nameSpace: 'signup:' })
  for (const store of [root, login, both, first, second, named]) await incr(store, 'ip')
  await incr(second, 'ip')
  const keys = (await server.command('KEYS', 'frr-rate-limit:*')).split('\r\n').filter((line) => line.startsWith('frr-rate-limit:')).sort()
  t.same(keys, [
    'frr-rate-limit:GET,HEAD:/docs:ip',
    'frr-rate-limit:POST:/login:ip',
    'frr-rate-limit:ip',
    'frr-rate-limit:limiter-1:ip',
    'frr-rate-limit:limiter-2:ip',
    'frr-rate-limit:signup:ip',
  ])
  t.equal((await incr(first, 'ip')).current, 2, 'limiters do not share a counter')
})

t.test('scripts flushed (NOSCRIPT) and server restarted empty: still counts in Redis', async (t) => {
  const { server, redis, Store } = await setup(t)
  const store = new Store()
  await incr(store, 'k')
  await server.command('SCRIPT', 'FLUSH')
  t.equal((await incr(store, 'k')).current, 2, 'after SCRIPT FLUSH')
  t.equal(Store.report().decisionsOutsideRedis, 0, 'no decision left Redis')
  await server.restart()
  t.ok(await waitFor(() => redis.status === 'ready', EVENTUALLY_MS))
  t.same(await incr(store, 'k'), { current: 1, ttl: 10_000 }, 'counting starts over on the empty server')
  t.equal(await server.command('EXISTS', 'frr-rate-limit:k'), ':1')
})

t.test('a lazy client (lazyConnect) is connected by the store, which then counts in Redis', async (t) => {
  const { server } = await setup(t)
  const redis = new Redis({ host: '127.0.0.1', port: server.port, password: SECRET, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 })
  redis.on('error', () => {})
  t.equal(redis.status, 'wait')
  const Store = createFailOpenStore({ redis })
  t.teardown(() => { Store.close(); redis.disconnect() })
  t.ok(await waitFor(() => Store.report().mode === 'redis' && redis.status === 'ready', EVENTUALLY_MS), 'connected and counting in Redis')
  t.same((await incr(new Store({}), 'lazy')).current, 1)
  t.equal(await server.command('GET', 'frr-rate-limit:lazy'), '$1\r\n1', 'the counter is in Redis')
  t.equal(Store.report().decisionsOutsideRedis, 0)
})

t.test('client not ready: decides locally, without the network', async (t) => {
  const { server, redis, Store } = await setup(t, { cache: 10 })
  const store = new Store()
  await server.kill()
  t.ok(await waitFor(() => redis.status !== 'ready', EVENTUALLY_MS))
  t.same((await incr(store, 'k')).current, 1)
  t.same((await incr(store, 'k')).current, 2)
  t.equal((await read(store, 'k')).current, 2, 'read from memory too')
  // A call sent to the closed connection would fail ("Stream isn't writeable") and count as an error.
  t.match(Store.report(), { mode: 'local', decisionsOutsideRedis: 2, decisionsAfterTimeout: 0, decisionsAfterError: 0 }, 'no decision waited on Redis')
  t.equal(Store.report().memoryKeys, 1)
})

t.test('failMode open: counts for honest headers but never exceeds max', async (t) => {
  const { server, redis, Store } = await setup(t, { failMode: 'open' })
  const store = new Store()
  await server.kill()
  t.ok(await waitFor(() => redis.status !== 'ready', EVENTUALLY_MS))
  const counts = []
  for (let i = 0; i < 5; i++) counts.push((await incr(store, 'k', 10_000, 3)).current)
  t.same(counts, [1, 2, 3, 3, 3])
  t.equal((await read(store, 'k')).current, 3, 'read is capped like incr: never reported over the limit')
})

t.test('failMode closed: a coded 503 error with Retry-After', async (t) => {
  const { server, redis, Store } = await setup(t, { failMode: 'closed' })
  const store = new Store()
  await server.kill()
  t.ok(await waitFor(() => redis.status !== 'ready', EVENTUALLY_MS))
  await t.rejects(incr(store, 'k'), { code: 'FRR_ERR_REDIS_UNAVAILABLE', statusCode: 503, headers: { 'retry-after': '1' } })
  await t.rejects(read(store, 'k'), { code: 'FRR_ERR_REDIS_UNAVAILABLE' })
})

t.test('a hanging server: one request waits the decision timeout, the next ones do not; a probe brings Redis back', async (t) => {
  const { server, Store } = await setup(t, {}, true)
  const store = new Store()
  await incr(store, 'k')
  server.pause()
  t.equal((await incr(store, 'k')).current, 1, 'decided locally after the timeout')
  // The client's command timeout (200 ms) would count as an error: this one waited decisionTimeout.
  t.match(Store.report(), { mode: 'local', decisionsOutsideRedis: 1, decisionsAfterTimeout: 1, decisionsAfterError: 0 }, 'the first request waited the decision timeout')
  await incr(store, 'k')
  t.match(Store.report(), { mode: 'local', decisionsOutsideRedis: 2, decisionsAfterTimeout: 1, decisionsAfterError: 0 }, 'the breaker is open: the next one did not wait')
  server.resume()
  t.ok(await waitFor(() => Store.report().mode === 'redis', EVENTUALLY_MS), 'back in Redis')
  // The timed-out INCR reaches the server when it resumes, so it may count too.
  const after = (await incr(store, 'k')).current
  t.ok(after === 2 || after === 3, `the Redis counter went on where it was (${after})`)
})

t.test('a read that times out is decided from memory and opens the breaker', async (t) => {
  const { server, Store } = await setup(t, {}, true)
  const store = new Store()
  server.pause()
  t.same(await read(store, 'k'), { current: 0, ttl: 0 }, 'read from memory after the timeout')
  t.equal(Store.report().mode, 'local')
  server.resume()
  t.ok(await waitFor(() => Store.report().mode === 'redis', EVENTUALLY_MS), 'back in Redis')
})

t.test('an error about one key falls back for that request only; the breaker stays closed', async (t) => {
  const { server, Store } = await setup(t, { failureThreshold: 2 })
  const store = new Store()
  await server.command('HSET', 'frr-rate-limit:wrong', 'a', 'b')
  for (let i = 0; i < 3; i++) t.equal((await incr(store, 'wrong')).current, i + 1, 'WRONGTYPE: decided in memory')
  t.equal((await read(store, 'wrong')).current, 3, 'and read from memory')
  t.match(Store.report(), { mode: 'redis', decisionsOutsideRedis: 3, decisionsAfterTimeout: 0, decisionsAfterError: 3 }, 'the breaker did not open; each increment waited on a call that failed for its key')
  t.equal((await incr(store, 'fine')).current, 1)
  t.equal(await server.command('EXISTS', 'frr-rate-limit:fine'), ':1', 'other keys are still counted in Redis')
})

t.test('Redis out of memory (noeviction): the breaker opens, the probe closes it when writes work again', async (t) => {
  const { server, Store } = await setup(t, { failureThreshold: 2 })
  const store = new Store()
  t.equal((await incr(store, 'k')).current, 1)
  await server.command('CONFIG', 'SET', 'maxmemory', '1')
  await incr(store, 'k')
  await incr(store, 'k')
  t.match(Store.report(), { mode: 'local', decisionsAfterError: 2 }, 'two OOM replies opened the breaker')
  t.equal((await read(store, 'k')).current, 2, 'reads come from memory while it is open')
  await server.command('CONFIG', 'SET', 'maxmemory', '0')
  t.ok(await waitFor(() => Store.report().mode === 'redis', EVENTUALLY_MS), 'the probe closes it')
  t.equal((await read(store, 'k')).current, 1, 'the Redis counter is read again')
})

t.test('stores share the scripts defined on one client', async (t) => {
  const { redis } = await setup(t)
  const Again = createFailOpenStore({ redis, nameSpace: 'other:' })
  t.teardown(() => Again.close())
  t.equal((await incr(new Again(), 'k')).current, 1)
  await sleep(1)
})

t.test('a client without a command timeout (ioredis default): a hanging server still costs a request at most decisionTimeout', async (t) => {
  const { server, Store } = await startStore(t, { password: SECRET, store: { decisionTimeout: 150 }, client: { commandTimeout: undefined, enableOfflineQueue: true } })
  const store = new Store()
  await incr(store, 'k')
  server.pause()
  // Without decisionTimeout this request would wait until the server resumes: here, forever.
  const decided = await Promise.race([incr(store, 'k'), sleep(EVENTUALLY_MS).then(() => 'still waiting')])
  t.same(decided, { current: 1, ttl: 10_000 }, 'decided in memory')
  t.match(Store.report(), { mode: 'local', decisionsAfterTimeout: 1, decisionsAfterError: 0 }, 'after waiting decisionTimeout')
  t.equal((await read(store, 'k')).current, 1, 'the breaker is open: reads come from memory')
  server.resume()
  t.ok(await waitFor(() => Store.report().mode === 'redis', EVENTUALLY_MS), 'the probe closes the breaker')
})

t.test('an event loop blocked past decisionTimeout while Redis answered: the answer counts, the breaker stays closed', async (t) => {
  // The client's own command timeout stays far out of the way (its timer would also fire late).
  const { Store } = await startStore(t, { password: SECRET, store: { decisionTimeout: 50 }, client: { commandTimeout: 5000 } })
  const store = new Store()
  await incr(store, 'k')
  const counted = incr(store, 'k')
  await new Promise((resolve) => setImmediate(resolve)) // the call is sent at the end of this tick
  // A long synchronous task, 20 times decisionTimeout: long enough for Redis's reply to be waiting
  // in the socket even on a machine busy with other test processes.
  const until = performance.now() + 1000
  while (performance.now() < until) {}
  t.equal((await counted).current, 2, 'counted in Redis')
  t.equal(Store.report().mode, 'redis', 'the app\'s own stall is not taken for a hanging Redis')
  t.match(Store.report(), { decisionsOutsideRedis: 0, decisionsAfterTimeout: 0, decisionsAfterError: 0 })
})

t.test('bad options: a coded error that names the setting, before anything is defined on the client', async (t) => {
  const redis = new Redis({ lazyConnect: true })
  const cases: Array<[string, Partial<FailOpenStoreOptions>]> = [
    ['createFailOpenStore failMode option', { failMode: 'sometimes' as FailOpenStoreOptions['failMode'] }],
    ['createFailOpenStore decisionTimeout option', { decisionTimeout: 0 }],
    ['createFailOpenStore decisionTimeout option', { decisionTimeout: 2 ** 31 }],
    ['createFailOpenStore cache option', { cache: 1.5 }],
    ['createFailOpenStore failureThreshold option', { failureThreshold: -1 }],
    ['createFailOpenStore nameSpace option', { nameSpace: 5 as unknown as string }],
  ]
  for (const [setting, options] of cases) {
    t.throws(() => createFailOpenStore({ redis, ...options }), { code: 'FRR_ERR_INVALID_SETTING', message: new RegExp(`^${setting} `) }, JSON.stringify(options))
  }
  t.equal(typeof (redis as unknown as Record<string, unknown>).frrRateLimitIncrementMany, 'undefined', 'no script was defined')
  t.equal(redis.status, 'wait', 'the client was not touched')
})

t.test('Redis slower than decisionTimeout: decided locally, and it stays so (one switch, no flapping) until Redis is fast again', async (t) => {
  const lines: string[] = []
  const logger = { info: (_: object, msg: string) => { lines.push(msg) }, warn: (_: object, msg: string) => { lines.push(msg) }, error: (_: object, msg: string) => { lines.push(msg) } }
  // Replies are held at the proxy and let through late, each only after the deadline of the call
  // it answers has passed: a Redis slower than decisionTimeout, whatever the machine's load. A probe
  // goes out only once the one before it failed, so as each probe passes the proxy, every reply
  // held before it answers a call that already timed out: that is when they are let through.
  let probes = 0
  let proxy: TcpProxy | undefined
  const forward = (chunk: Buffer): boolean => {
    if (chunk.includes('__frr_probe__')) {
      probes++
      proxy?.releaseReplies()
    }
    return true
  }
  // The client's own command timeout stays out of the way: only decisionTimeout stands between.
  const setup = await startStore(t, { password: SECRET, proxy: { forward }, store: { decisionTimeout: 100, logger }, client: { commandTimeout: 60_000 } })
  const { Store } = setup
  proxy = setup.proxy as TcpProxy
  const store = new Store()
  t.equal((await incr(store, 'k')).current, 1)
  proxy.holdReplies()
  t.equal((await incr(store, 'k')).current, 1, 'decided in memory after decisionTimeout')
  t.match(Store.report(), { mode: 'local', decisionsOutsideRedis: 1, decisionsAfterTimeout: 1, decisionsAfterError: 0 })
  t.ok(await waitFor(() => probes >= 4, EVENTUALLY_MS), `probes 1 to 3 timed out, each answered after its deadline (${probes} probes)`)
  t.equal(Store.report().mode, 'local', 'the probes, held to decisionTimeout too, did not let the slow Redis back in')
  t.equal(lines.length, 1, `one switch: ${lines.join(' | ')}`)
  t.match(lines[0], /switched to counting in local memory.*\(hanging\)/)
  proxy.holdReplies(false)
  t.ok(await waitFor(() => Store.report().mode === 'redis', EVENTUALLY_MS), 'back in Redis once it answers in time')
  t.equal(lines.length, 2, `and one switch back: ${lines.join(' | ')}`)
  t.equal(Store.report().decisionsAfterTimeout, 1, 'probes are not decisions')
})
