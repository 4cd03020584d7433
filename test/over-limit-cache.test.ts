// Keys over their limit are refused in process until their window ends,
// without a Redis call, and with the answer Redis counting gives: the same
// 429 body and headers, `ban` reached at the same request, the window ending
// when Redis said. continueExceeding and exponentialBackoff always count in
// Redis. Real redis-server, real @fastify/rate-limit through the plugin.
import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { incr, startStore } from './helpers/store.js'
import { OverLimitCache } from '../src/rate-limit/over-limit-cache.js'
import type { ResilientRedisOptions } from '../src/index.js'

const SECRET = 'Over-Limit-Secret-1'

t.teardown(stopAllRedis)

/** Script calls the server has run (EVALSHA and EVAL). */
async function scriptCalls (server: RedisServer): Promise<number> {
  const stats = await server.command('INFO', 'commandstats')
  return ['evalsha', 'eval'].reduce((sum, name) => sum + Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0)
}

async function limitedApp (t: Test, rateLimit: NonNullable<ResilientRedisOptions['rateLimit']>): Promise<{ server: RedisServer; hit: () => Promise<LightMyRequestResponse>; report: () => Promise<Record<string, unknown>> }> {
  const server = await startRedis({ password: SECRET })
  // A patient decision timeout: on a busy machine a healthy Redis must still count every request.
  const built = await buildApp({ url: `redis://127.0.0.1:${server.port}`, password: SECRET, rateLimit: { decisionTimeout: 2000, ...rateLimit } })
  t.teardown(() => built.app.close())
  return {
    server,
    hit: async () => built.app.inject('/plain'),
    report: async () => (await built.app.redisHealth()).rateLimit as unknown as Record<string, unknown>,
  }
}

/** The counters of the plugin's key space, as Redis holds them. */
async function counters (server: RedisServer): Promise<string[]> {
  const keys = (await server.command('KEYS', 'frr-rate-limit:*')).split('\r\n').filter((line) => line.startsWith('frr-rate-limit:') && !line.includes('__frr_'))
  return Promise.all(keys.map(async (key) => (await server.command('GET', key)).split('\r\n')[1] as string))
}

t.test('an abusive client: refused in process after Redis said it is over, the count exact, one Redis call per window', async (t) => {
  const { server, hit, report } = await limitedApp(t, { max: 5, timeWindow: '1 minute' })
  const before = await scriptCalls(server)
  const statuses: number[] = []
  for (let i = 0; i < 100; i++) statuses.push((await hit()).statusCode)
  t.same(statuses, [...Array(5).fill(200), ...Array(95).fill(429)], '5 admitted, 95 refused')
  const calls = await scriptCalls(server) - before
  t.ok(calls <= 7, `Redis counted only until the key went over (${calls} script calls for 100 requests)`)
  t.same(await counters(server), ['6'], 'Redis holds the count that went over')
  t.match(await report(), { mode: 'redis', overLimitKeys: 1, refusedWithoutRedis: 94, decisionsOutsideRedis: 0 })
})

t.test('the refusal is the one Redis counting gives: 429 body and headers', async (t) => {
  const { hit } = await limitedApp(t, { max: 2, timeWindow: '1 minute' })
  await hit()
  await hit()
  const fromRedis = await hit()
  const inProcess = await hit()
  t.equal(fromRedis.statusCode, 429)
  t.equal(inProcess.statusCode, 429)
  for (const header of ['x-ratelimit-limit', 'x-ratelimit-remaining']) t.equal(inProcess.headers[header], fromRedis.headers[header], header)
  for (const header of ['x-ratelimit-reset', 'retry-after']) {
    // Whole seconds left in the window: the same, or one less if a second boundary passed between them.
    const gap = Number(fromRedis.headers[header]) - Number(inProcess.headers[header])
    t.ok(gap === 0 || gap === 1, `${header}: ${String(fromRedis.headers[header])} then ${String(inProcess.headers[header])}`)
  }
  const body = (res: LightMyRequestResponse): unknown => ({ ...(res.json() as Record<string, unknown>), message: String(res.json().message).replace(/\d+ (second|minute)s?/, 'N') })
  t.same(body(inProcess), body(fromRedis), 'the same body')
})

t.test('ban is reached at the same request as with Redis counting', async (t) => {
  const { hit } = await limitedApp(t, { max: 3, ban: 2, timeWindow: '1 minute' })
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) statuses.push((await hit()).statusCode)
  // @fastify/rate-limit bans once current - max > ban: the 6th request on.
  t.same(statuses, [200, 200, 200, 429, 429, 403, 403, 403])
})

t.test('the window ends when Redis says: the key goes back to Redis and is admitted', async (t) => {
  const { server, hit, report } = await limitedApp(t, { max: 2, timeWindow: 1000 })
  for (let i = 0; i < 4; i++) await hit()
  t.equal((await report()).overLimitKeys, 1)
  const ended = await waitFor(async () => (await counters(server)).length === 0, EVENTUALLY_MS)
  t.ok(ended, 'Redis expired the counter')
  // Redis's window is over; the in-process refusal ended with it (its end was Redis's TTL).
  const next = await waitFor(async () => (await hit()).statusCode === 200, EVENTUALLY_MS)
  t.ok(next, 'admitted again')
  t.same(await counters(server), ['1'], 'counted in Redis again, from 1')
})

for (const option of ['continueExceeding', 'exponentialBackoff'] as const) {
  t.test(`${option}: every request is counted in Redis, the over-limit cache stays out`, async (t) => {
    const { server, hit, report } = await limitedApp(t, { max: 2, timeWindow: '1 minute', [option]: true })
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) statuses.push((await hit()).statusCode)
    t.same(statuses, [200, 200, ...Array(8).fill(429)])
    t.same(await counters(server), ['10'], 'Redis saw all 10')
    t.match(await report(), { overLimitKeys: 0, refusedWithoutRedis: 0 })
  })
}

t.test('bounded: at most `cache` keys, the oldest goes first', async (t) => {
  const { Store } = await startStore(t, { store: { cache: 3 } })
  const store = new Store()
  for (const key of ['a', 'b', 'c', 'd']) {
    for (let i = 0; i < 3; i++) await incr(store, key, 60_000, 1)
  }
  t.equal(Store.report().overLimitKeys, 3, 'three kept')
  // 'a' went first: its next request is counted in Redis again (and still refused there).
  const refusedBefore = Store.report().refusedWithoutRedis
  // Redis saw two of a's requests (the one admitted, the one that went over); the third was refused here.
  t.equal((await incr(store, 'a', 60_000, 1)).current, 3, 'a: counted in Redis again')
  t.equal(Store.report().refusedWithoutRedis, refusedBefore, 'not refused in process')
  t.equal((await incr(store, 'd', 60_000, 1)).current, 4, 'd: refused in process, the count going on')
  t.equal(Store.report().refusedWithoutRedis, refusedBefore + 1)
})

t.test('OverLimitCache: a window already over, or of no length, is not kept', async (t) => {
  const cache = new OverLimitCache(2)
  cache.remember('k', 5, 0)
  t.equal(cache.size, 0, 'ttl 0: nothing to keep')
  cache.remember('k', 5, 1)
  await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(cache.refuse('k', 1), undefined, 'ended: ask Redis')
  t.equal(cache.size, 0, 'and forgotten')
  cache.remember('x', 3, 60_000)
  cache.remember('x', 4, 60_000)
  cache.remember('y', 3, 60_000)
  t.equal(cache.size, 2, 'a key remembered twice is kept once, without evicting another')
  t.equal(cache.refuse('y', 10), undefined, 'not over a higher max (a max that depends on the request): ask Redis')
  t.equal(cache.refuse('y', 3)?.current, 4, 'over this one: refused, the count going on')
})
