// Issue 11, item 5, through the plugin: Redis killed, so the memory limiter
// decides; `trustProxy: true`, so whoever sends X-Forwarded-For chooses the
// key; a flood of one-shot values between the requests of one client. With a
// plain LRU of `cache` keys (5000, the default), 5000 new keys between two of
// the client's requests pushed its count out, and it was never limited.
//
// The flood is sized by keys between the client's requests, the only thing the
// limiter sees; wall time does not matter. Date alone is faked, to give the
// client's 120 requests their 3-a-second pace (40 s, inside one minute's
// window) however long the machine takes; every timer stays real.
import t from 'tap'
import Fastify from 'fastify'
import { mock } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { resilientRedis, type RateLimitReport } from '../src/index.js'
import { COMPACT_SLOTS } from '../src/rate-limit/compact-windows.js'

const SECRET = 'Key-Flood-S3cret-w5Tz!'
const CACHE = 5000
const MAX = 100
const CLIENT_REQUESTS = 120
/** New keys between two requests of the client: more than a plain LRU of CACHE keys survives. */
const FLOOD_BETWEEN = CACHE + 500
const CLIENT = '198.51.100.7'

// 660,000 requests through app.inject: about 40 s on a 2-core machine running another suite beside it.
// This bound is only for a run that hangs.
t.setTimeout(600_000)
t.teardown(stopAllRedis)

t.test(`a flood of ${FLOOD_BETWEEN} one-shot X-Forwarded-For keys between each request of a client does not lift its limit`, async (t) => {
  const server = await startRedis({ password: SECRET })
  const app = Fastify({ trustProxy: true, logger: false })
  await app.register(resilientRedis, {
    env: {},
    host: server.host,
    port: server.port,
    password: SECRET,
    rateLimit: { max: MAX, timeWindow: 60_000, cache: CACHE },
  })
  app.get('/', async () => 'ok')
  await app.ready()
  t.teardown(() => app.close())
  const report = async (): Promise<RateLimitReport> => {
    const { rateLimit } = await app.redisHealth()
    if (rateLimit.mode === 'disabled') throw new Error('rate limiting is disabled')
    return rateLimit
  }
  t.equal((await report()).mode, 'redis', 'counting in Redis before the outage')

  await server.kill()
  t.ok(await waitFor(async () => (await report()).mode === 'local', EVENTUALLY_MS), 'counting in memory once Redis is killed')
  const before = await report()

  const client: number[] = []
  const remaining: unknown[] = []
  let flooded = 0
  let floodRefused = 0
  let maxKeys = 0
  // node:test's mock of Date: @sinonjs/fake-timers' Date costs 20 µs a request here (its `new Date()`).
  const start = Date.now()
  mock.timers.enable({ apis: ['Date'], now: start })
  try {
    for (let i = 0; i < CLIENT_REQUESTS; i++) {
      for (let f = 0; f < FLOOD_BETWEEN; f++, flooded++) {
        const res = await app.inject({ url: '/', headers: { 'x-forwarded-for': `10.${flooded >>> 16}.${(flooded >>> 8) & 255}.${flooded & 255}` } })
        if (res.statusCode !== 200) floodRefused++
        // Awaiting inject() after inject() never reaches the event loop's check phase: let the
        // setImmediate callbacks of answered requests run, or each request stays in memory.
        if (f % 1000 === 999) await nextTurn()
      }
      mock.timers.setTime(start + Math.round((i * 1000) / 3))
      const res = await app.inject({ url: '/', headers: { 'x-forwarded-for': CLIENT } })
      client.push(res.statusCode)
      remaining.push(res.headers['x-ratelimit-remaining'])
      if (i % 10 === 9) maxKeys = Math.max(maxKeys, (await report()).memoryKeys)
    }
  } finally {
    mock.timers.reset()
  }
  const after = await report()

  t.same({ 200: client.filter((s) => s === 200).length, 429: client.filter((s) => s === 429).length }, { 200: MAX, 429: CLIENT_REQUESTS - MAX }, 'the client is limited exactly')
  t.same(client, [...Array<number>(MAX).fill(200), ...Array<number>(CLIENT_REQUESTS - MAX).fill(429)], 'its first 100 requests admitted, the rest refused')
  t.same(remaining.slice(0, MAX), Array.from({ length: MAX }, (_, i) => String(MAX - 1 - i)), 'x-ratelimit-remaining counts down, never reset by the flood')
  t.equal(floodRefused, 0, 'every flood key, seen once, admitted')
  t.equal(after.mode, 'local', 'still counting in memory')
  t.equal(after.decisionsOutsideRedis - before.decisionsOutsideRedis, flooded + CLIENT_REQUESTS, 'every request decided in memory')
  t.ok(maxKeys <= CACHE + COMPACT_SLOTS && after.memoryKeys <= CACHE + COMPACT_SLOTS, `memoryKeys within cache + ${COMPACT_SLOTS} (at most ${Math.max(maxKeys, after.memoryKeys)})`)
  t.equal(after.memoryKeys, COMPACT_SLOTS + 1, 'the table of keys seen once is full; the client alone has a full window')
})
