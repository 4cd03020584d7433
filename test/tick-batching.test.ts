// The store counts increments in batches, one script call each: the requests
// of one poll phase of the event loop go out together at its end (past two
// batches in flight, when one answers). Each request still gets its own exact
// count, in arrival order.
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

t.test('the requests of one phase in one call: every request its own count, in order', async (t) => {
  const { server, Store } = await setup(t)
  const store = new Store({})
  await incr(store, 'warm') // the script is loaded on the connection
  await server.command('CONFIG', 'RESETSTAT')
  const a = Array.from({ length: 20 }, () => incr(store, 'a'))
  const b = Array.from({ length: 5 }, () => incr(store, 'b'))
  t.same(currents(await Promise.all(a)), oneTo(20))
  t.same(currents(await Promise.all(b)), oneTo(5))
  t.equal(await scriptCalls(server), 1, 'all 25 in one call, at the end of the phase')
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
  t.equal(await scriptCalls(server), 2, '600 counters in two calls')
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
  const inFlight = [incr(store, 'k'), incr(store, 'k')]
  await new Promise(setImmediate) // their call is written
  redis.stream.destroy() // the client stays "ready" until the close event
  // Queued behind the call in flight: it fails at once on the destroyed stream, or, once the
  // failure has opened the breaker, is decided without a call.
  const queued = incr(store, 'k')
  const counts = currents(await Promise.all([...inFlight, queued]))
  t.same(counts.slice().sort(), [1, 2, 3], 'each its own count in memory')
  const report = Store.report() as { decisionsOutsideRedis: number, decisionsAfterTimeout: number, decisionsAfterError: number }
  t.match(report, { decisionsOutsideRedis: 3, decisionsAfterTimeout: 0 }, 'all three decided outside Redis, none after waiting')
  t.ok(report.decisionsAfterError === 2 || report.decisionsAfterError === 3, `the call in flight failed (decided after an error: ${report.decisionsAfterError})`)
})

t.test('a request queued behind two batches that time out is decided in memory and never sent', async (t) => {
  const { server, Store } = await startStore(t, QUICK)
  const store = new Store({})
  await incr(store, 'warm')
  server.pause()
  const first = incr(store, 'first') // sent at the end of this phase; the paused server will not answer it in time
  await new Promise(setImmediate)
  const second = incr(store, 'second') // sent at the end of the next phase, as a second batch
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

/** The first unhandled rejection from now on. */
function nextUnhandled (): Promise<unknown> {
  return new Promise<unknown>((resolve) => { process.once('unhandledRejection', resolve) })
}
const throwing = (): void => { throw new Error('a callback that throws') }

t.test('a callback that throws does not hold back the other requests of its call, nor what queued behind it', async (t) => {
  const { Store } = await setup(t)
  const store = new Store({})
  const thrown = nextUnhandled()
  store.incr('k', throwing, 10_000, 3)
  const sameCall = incr(store, 'k') // the same counter in the same phase: the same entry of the call
  await new Promise(setImmediate)
  const queued = incr(store, 'k') // the next batch, behind the call whose callback throws
  t.match(await thrown, { message: 'a callback that throws' })
  t.equal((await sameCall).current, 2, 'the other request of the call was answered')
  t.equal((await queued).current, 3, 'the queued request was still sent and counted')
})

t.test('a callback that throws while its call is decided outside Redis: the others are still answered', async (t) => {
  const { server, redis, Store } = await setup(t)
  const store = new Store({})
  await server.command('HSET', 'frr-rate-limit:wrong', 'a', 'b')
  const refused = nextUnhandled()
  store.incr('wrong', throwing, 10_000, 3) // Redis refuses this counter (WRONGTYPE)
  const beside = incr(store, 'wrong')
  const next = incr(store, 'fine') // the next counter of the call
  t.match(await refused, { message: 'a callback that throws' })
  t.equal((await beside).current, 2, 'a refused counter: the other request decided in memory')
  t.equal((await next).current, 1, 'the next counter of the call answered')
  t.equal(await server.command('GET', 'frr-rate-limit:fine'), '$1\r\n1', 'and counted in Redis')

  await incr(store, 'warm')
  const failed = nextUnhandled()
  store.incr('lost', throwing, 10_000, 3)
  const alongside = incr(store, 'lost')
  const another = incr(store, 'another') // the next counter of the call
  await new Promise(setImmediate) // their call is written
  redis.stream.destroy()
  t.match(await failed, { message: 'a callback that throws' })
  t.equal((await alongside).current, 2, 'a failed call: the other request decided in memory')
  t.equal((await another).current, 1, 'and so was the next counter\'s')
})
