// The store counts the increments of one tick with one script call: each
// request still gets its own exact count, in arrival order.
import t, { type Test } from 'tap'
import { stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { incr, startStore, type Count, type StoreSetup } from './helpers/store.js'

t.teardown(stopAllRedis)

function setup (t: Test): Promise<StoreSetup> {
  return startStore(t)
}

/** Script calls (EVAL and EVALSHA) the server ran since the last CONFIG RESETSTAT. */
async function scriptCalls (server: RedisServer): Promise<number> {
  const info = await server.command('INFO', 'commandstats')
  return [...info.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0)
}

const currents = (counts: Count[]): number[] => counts.map((c) => c.current)
const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

t.test('one tick, one script call: every request its own count, in order', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  await incr(store, 'warm') // the script is loaded on the connection
  await server.command('CONFIG', 'RESETSTAT')
  const a = Array.from({ length: 20 }, () => incr(store, 'a'))
  const b = Array.from({ length: 5 }, () => incr(store, 'b'))
  t.same(currents(await Promise.all(a)), oneTo(20))
  t.same(currents(await Promise.all(b)), oneTo(5))
  t.equal(await scriptCalls(server), 1, 'one call for 25 requests and two keys')
  t.equal(await server.command('GET', 'frr-rate-limit:a'), '$2\r\n20', 'the counter holds every request')
  t.equal(await server.command('PTTL', 'frr-rate-limit:b').then((reply) => Number(reply.slice(1)) > 9000), true, 'a fresh counter gets the window')
})

t.test('requests of the next tick go on from where the last tick left the counter', async (t) => {
  const { Store } = await setup(t)
  const store = new Store({})
  t.same(currents(await Promise.all([incr(store, 'k'), incr(store, 'k')])), [1, 2])
  const later = await Promise.all([incr(store, 'k'), incr(store, 'k'), incr(store, 'k')])
  t.same(currents(later), [3, 4, 5])
  t.ok(later.every((c) => c.ttl > 9000 && c.ttl <= 10_000), 'the window was not restarted')
})

t.test('another limit for the same key in the same tick keeps the arrival order', async (t) => {
  const { Store } = await setup(t)
  const store = new Store({})
  const counts = await Promise.all([incr(store, 'k', 10_000, 100), incr(store, 'k', 10_000, 5), incr(store, 'k', 10_000, 100), incr(store, 'k', 20_000, 100)])
  t.same(currents(counts), [1, 2, 3, 4])
})

t.test('limiters of one key space with different options: arrival order across them', async (t) => {
  const { Store } = await setup(t)
  const plain = new Store({})
  const continuing = new Store({ continueExceeding: true })
  const counts = await Promise.all([incr(plain, 'k', 10_000, 1), incr(continuing, 'k', 10_000, 1), incr(plain, 'k', 10_000, 1), incr(plain, 'k', 10_000, 1)])
  t.same(currents(counts), [1, 2, 3, 4], 'the third request did not join the first one ahead of the second')
})

t.test('continueExceeding and exponentialBackoff: one entry per request, each its own expiry', async (t) => {
  const { Store } = await setup(t)
  const backoff = new Store({ exponentialBackoff: true })
  const counts = await Promise.all(Array.from({ length: 4 }, () => incr(backoff, 'b', 1000, 2)))
  t.same(currents(counts), oneTo(4))
  t.same(counts.map((c) => c.ttl), [1000, 1000, 1000, 2000], 'the backoff grows with each request past max')
  const continuing = new Store({ continueExceeding: true, exponentialBackoff: true })
  const both = await Promise.all(Array.from({ length: 4 }, () => incr(continuing, 'c', 1000, 2)))
  t.same(both.map((c) => c.ttl), [1000, 1000, 1000, 1000], 'continueExceeding wins over exponentialBackoff, as in @fastify/rate-limit')
})

t.test('more counters in a tick than one call takes', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  await incr(store, 'warm')
  await server.command('CONFIG', 'RESETSTAT')
  const counts = await Promise.all(Array.from({ length: 1200 }, (_, i) => incr(store, `ip-${i % 600}`)))
  t.same(currents(counts), [...Array.from({ length: 600 }, () => 1), ...Array.from({ length: 600 }, () => 2)])
  t.equal(await scriptCalls(server), 2, '600 counters: two calls')
})

t.test('a key Redis cannot count in a tick with others: only its requests leave Redis', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  await server.command('HSET', 'frr-rate-limit:wrong', 'a', 'b')
  const counts = await Promise.all([incr(store, 'fine'), incr(store, 'wrong'), incr(store, 'wrong'), incr(store, 'fine')])
  t.same(currents(counts), [1, 1, 2, 2])
  t.equal(await server.command('GET', 'frr-rate-limit:fine'), '$1\r\n2', 'the other counter is in Redis')
  t.equal(Store.report().decisionsOutsideRedis, 2, 'the WRONGTYPE requests were decided in memory')
  t.equal(Store.report().mode, 'redis')
})

t.test('the connection is lost before the end of the tick: the call fails at once, its requests are decided in memory', async (t) => {
  const { redis, Store } = await setup(t)
  const store = new Store({})
  const pending = [incr(store, 'k'), incr(store, 'k')]
  redis.stream.destroy() // the client stays "ready" until the close event, after the flush
  t.same(currents(await Promise.all(pending)), [1, 2])
  t.equal(Store.report().decisionsOutsideRedis, 2, 'decided outside Redis')
})

t.test('Redis found hanging between a request and the end of its tick: the request is not sent', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  await incr(store, 'warm')
  server.pause()
  // The read's deadline (decisionTimeout, 100 ms) and this timer fire in one loop iteration, in
  // the order they were created; each then waits one setImmediate. So the read's timeout opens the
  // breaker after this timer queued a request but before that request's tick ends.
  const reading = new Promise<Count>((resolve) => { store.read('r', (_error, result) => { resolve(result as Count) }) })
  const late = new Promise<{ count: Count; ms: number }>((resolve) => {
    setTimeout(() => {
      const started = performance.now()
      resolve(incr(store, 'k').then((count) => ({ count, ms: performance.now() - started })))
    }, 100)
  })
  t.same(await reading, { current: 0, ttl: 0 }, 'the read timed out and was answered from memory')
  const { count, ms } = await late
  t.equal(count.current, 1, 'decided in memory')
  t.ok(ms < 50, `without waiting for the hanging server (${Math.round(ms)} ms)`)
  t.equal(Store.report().mode, 'local')
  server.resume()
})
