// The store counts increments in batches, one script call each: a request is
// sent at once when no call is in flight, and what queues behind a call goes
// out at the end of the event loop's poll phase as a second batch (or, past two
// in flight, when one answers). Each request still gets its own exact count,
// in arrival order.
import t, { type Test } from 'tap'
import { stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { incr, QUICK, startStore, type Count, type StoreSetup } from './helpers/store.js'

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

t.test('one call in flight, the rest queued for the next: every request its own count, in order', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  await incr(store, 'warm') // the script is loaded on the connection
  await server.command('CONFIG', 'RESETSTAT')
  const a = Array.from({ length: 20 }, () => incr(store, 'a'))
  const b = Array.from({ length: 5 }, () => incr(store, 'b'))
  t.same(currents(await Promise.all(a)), oneTo(20))
  t.same(currents(await Promise.all(b)), oneTo(5))
  t.equal(await scriptCalls(server), 2, 'the first request alone, the 24 queued behind it in one call (at the end of the phase)')
  t.equal(await server.command('GET', 'frr-rate-limit:a'), '$2\r\n20', 'the counter holds every request')
  t.equal(await server.command('PTTL', 'frr-rate-limit:b').then((reply) => Number(reply.slice(1)) > 9000), true, 'a fresh counter gets the window')
})

t.test('requests of a later batch go on from where the last batch left the counter', async (t) => {
  const { Store } = await setup(t)
  const store = new Store({})
  t.same(currents(await Promise.all([incr(store, 'k'), incr(store, 'k')])), [1, 2])
  const later = await Promise.all([incr(store, 'k'), incr(store, 'k'), incr(store, 'k')])
  t.same(currents(later), [3, 4, 5])
  t.ok(later.every((c) => c.ttl > 9000 && c.ttl <= 10_000), 'the window was not restarted')
})

t.test('another limit for the same key in the same batch keeps the arrival order', async (t) => {
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
  // Up to max the window runs down (the second request may come a batch later); past it, it grows.
  t.same(counts.slice(2).map((c) => c.ttl), [1000, 2000], 'the backoff grows with each request past max')
  t.ok((counts[1] as Count).ttl <= 1000 && (counts[1] as Count).ttl > 0, 'within max: what is left of the window')
  const continuing = new Store({ continueExceeding: true, exponentialBackoff: true })
  const both = await Promise.all(Array.from({ length: 4 }, () => incr(continuing, 'c', 1000, 2)))
  t.same(both.slice(2).map((c) => c.ttl), [1000, 1000], 'continueExceeding wins over exponentialBackoff, as in @fastify/rate-limit')
})

t.test('more counters queued than one call takes', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  await incr(store, 'warm')
  await server.command('CONFIG', 'RESETSTAT')
  const counts = await Promise.all(Array.from({ length: 1200 }, (_, i) => incr(store, `ip-${i % 600}`)))
  t.same(currents(counts), [...Array.from({ length: 600 }, () => 1), ...Array.from({ length: 600 }, () => 2)])
  t.equal(await scriptCalls(server), 3, 'the first request alone, then 600 queued counters in two calls')
})

t.test('a key Redis cannot count in a batch with others: only its requests leave Redis', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  await server.command('HSET', 'frr-rate-limit:wrong', 'a', 'b')
  const counts = await Promise.all([incr(store, 'fine'), incr(store, 'wrong'), incr(store, 'wrong'), incr(store, 'fine')])
  t.same(currents(counts), [1, 1, 2, 2])
  t.equal(await server.command('GET', 'frr-rate-limit:fine'), '$1\r\n2', 'the other counter is in Redis')
  t.match(Store.report(), { mode: 'redis', decisionsOutsideRedis: 2, decisionsAfterError: 2 }, 'the WRONGTYPE requests were decided in memory, after the call')
})

t.test('the connection is lost with a call in flight: it fails at once, its requests and those queued behind it are decided in memory', async (t) => {
  const { redis, Store } = await setup(t)
  const store = new Store({})
  const pending = [incr(store, 'k'), incr(store, 'k')]
  redis.stream.destroy() // the client stays "ready" until the close event
  // The second batch goes out at the end of the phase, before the close event, and fails at once
  // on the destroyed stream: it may be decided before the first.
  t.same(currents(await Promise.all(pending)).sort(), [1, 2], 'each its own count in memory')
  t.match(Store.report(), { decisionsOutsideRedis: 2, decisionsAfterTimeout: 0, decisionsAfterError: 2 }, 'decided outside Redis: both calls failed')
})

t.test('a request queued behind two batches that time out is decided in memory and never sent', async (t) => {
  const { server, Store } = await startStore(t, QUICK)
  const store = new Store({})
  await incr(store, 'warm')
  server.pause()
  const first = incr(store, 'first') // sent at once; the paused server will not answer it in time
  const second = incr(store, 'second') // sent at the end of this poll phase, as a second batch
  await new Promise(setImmediate)
  const queued = incr(store, 'queued') // two batches in flight: waits for them
  t.equal((await first).current, 1, 'the first batch timed out (decisionTimeout) and was decided in memory')
  t.equal((await second).current, 1, 'so did the second')
  t.equal((await queued).current, 1, 'the queued request was decided in memory too')
  t.same(Store.report().mode, 'local', 'the timeout opened the breaker')
  // Sent, the queued request would have timed out (or failed) too, and been counted as such.
  t.match(Store.report(), { decisionsOutsideRedis: 3, decisionsAfterTimeout: 2, decisionsAfterError: 0 }, 'only the batches in flight waited on Redis')
  server.resume()
  // The batches in flight were written before the pause: Redis runs them once resumed.
  t.ok(await waitFor(async () => await server.command('EXISTS', 'frr-rate-limit:second') === ':1', EVENTUALLY_MS), 'the batches in flight reached Redis late')
  t.equal(await server.command('EXISTS', 'frr-rate-limit:queued'), ':0', 'the queued request never reached Redis')
})

t.test('a callback that throws does not hold back what queued behind its call', async (t) => {
  const { Store } = await setup(t)
  const store = new Store({})
  const thrown = new Promise<unknown>((resolve) => { process.once('unhandledRejection', resolve) })
  store.incr('k', () => { throw new Error('a callback that throws') }, 10_000, 3)
  const queued = incr(store, 'k') // queued behind the call whose callback throws
  t.match(await thrown, { message: 'a callback that throws' })
  t.equal((await queued).current, 2, 'the queued request was still sent and counted')
})
