// A master demoted under the app's connection (REPLICAOF while connected, so
// its connection stays and every write is refused with READONLY), under load:
// on one server the limiter counts in memory with one line and routes that
// write answer 503, no flip between Redis and memory; a Sentinel client
// reconnects through the sentinels once, with one line, and counts on the
// master they name.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RateLimitReport } from '../src/index.js'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { startSentinelSet } from './helpers/topologies.js'

const SECRET = 'Demoted-Secret-4Kp'

t.teardown(stopAllRedis)

/** `rounds` rounds of 20 requests, a counter each, yielding to timers between rounds. */
async function load (built: TestApp, rounds: number, from = 0): Promise<Record<number, number>> {
  const codes: Record<number, number> = {}
  for (let round = 0; round < rounds; round++) {
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => built.app.inject({ url: '/plain', headers: { 'x-key': `k${from + round * 20 + i}` } })))
    for (const reply of replies) codes[reply.statusCode] = (codes[reply.statusCode] ?? 0) + 1
    await sleep(5)
  }
  return codes
}

const modeLines = (built: TestApp): string[] => built.pluginLogs().filter((line) => line.rateLimitMode !== undefined).map((line) => String(line.msg))
const rateLimit = { max: 1_000_000, timeWindow: 60_000, keyGenerator: (request: { headers: Record<string, unknown> }) => String(request.headers['x-key']) }
const writeRoute = (built: { app: TestApp['app'] }): void => {
  built.app.get('/write', async () => ({ set: await built.app.redis.set('frr:demoted', '1') }))
}

t.test('one server, demoted under the connection: counting in memory with one line, writes answer 503, no flip storm', async (t) => {
  const server = await startRedis({ password: SECRET, extraArgs: ['--masterauth', SECRET] })
  const other = await startRedis({ password: SECRET })
  const built = await buildApp({ url: server.url, rateLimit }, (app) => { writeRoute({ app }) })
  t.teardown(() => built.app.close())
  t.same(await load(built, 5), { 200: 100 })
  t.equal((await built.app.inject('/write')).statusCode, 200)

  t.equal(await server.command('REPLICAOF', '127.0.0.1', String(other.port)), '+OK')
  await waitFor(async () => (await server.command('INFO', 'replication')).includes('master_link_status:up'), EVENTUALLY_MS)
  const during = await load(built, 100, 100)
  t.same(during, { 200: 2000 }, 'every request answered')
  const write = await built.app.inject('/write')
  t.equal(write.statusCode, 503, 'a write on the demoted master is refused: 503')
  t.equal(write.json().code, 'FRR_ERR_REDIS_UNAVAILABLE')
  const lines = modeLines(built)
  t.equal(lines.length, 1, `one line, no flip between Redis and memory (${lines.join(' | ')})`)
  t.match(lines[0], /^Rate limiting switched to counting in local memory \(per process\): Redis commands failing \(read-only\): READONLY /)
  const health = await built.app.redisHealth()
  t.match(health.rateLimit, { mode: 'local', cause: /\(read-only\)/ })
  t.equal((health.rateLimit as RateLimitReport).decisionsOutsideRedis >= 2000 - 3, true, 'decided in memory from the first refusals on')
  t.notOk(built.logText().includes(SECRET))
})

t.test('a Sentinel client on a master demoted under it: one reconnect through the sentinels, one line, no storm', async (t) => {
  const set = await startSentinelSet(SECRET)
  t.teardown(() => set.stop())
  const built = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET }, rateLimit }, (app) => {
    writeRoute({ app })
    app.get('/wrong-type', async () => {
      await app.redis.set('frr:string', 'x')
      return { pushed: await app.redis.lpush('frr:string', 'y') }
    })
  })
  t.teardown(() => built.app.close())
  t.same(await load(built, 5), { 200: 100 })
  // Only READONLY makes the client leave a server: another error reply is the route's own (500).
  t.equal((await built.app.inject('/wrong-type')).statusCode, 500)
  t.equal(built.connectionLogs().length, 1, 'WRONGTYPE: the connection stays (only its first "connected" line)')
  // Roles swapped by hand, behind the sentinels' back: the app's connection stays on the old master.
  t.equal(await set.replica.command('REPLICAOF', 'NO', 'ONE'), '+OK')
  t.equal(await set.master.command('REPLICAOF', '127.0.0.1', String(set.replica.port)), '+OK')
  const startedAt = Date.now()
  const during = await load(built, 150, 100)
  t.same(during, { 200: 3000 }, 'every request answered')
  const lines = built.pluginLogs().filter((line) => Number(line.time) >= startedAt)
  for (const line of lines) t.comment(`${Number(line.time) - startedAt} ms: ${String(line.msg)}`)
  const readOnly = lines.filter((line) => String(line.msg).includes('refuses writes (READONLY)'))
  t.equal(readOnly.length, 1, 'one line: the demoted master is left once')
  t.match(readOnly[0]?.msg, new RegExp(`^Redis "default": 127\\.0\\.0\\.1:${set.master.port} refuses writes \\(READONLY\\), it is no longer the master of "mymaster"; asking the sentinels for the master$`))
  const flips = lines.filter((line) => line.rateLimitMode !== undefined)
  t.ok(flips.length <= 4, `no flip storm (${flips.length} mode lines)`)
  t.equal((await built.app.inject('/write')).statusCode, 503, 'the sentinels still name the demoted master: writes answer 503')

  // Once the sentinels fail over to the server that is master now, the client follows them there.
  t.equal(await set.sentinels[0]?.command('SENTINEL', 'FAILOVER', set.masterName), '+OK')
  t.ok(await waitFor(async () => (await set.masterPort()) === set.replica.port, EVENTUALLY_MS), 'the sentinels name the new master')
  t.ok(await waitFor(async () => (await built.app.inject('/write')).statusCode === 200, EVENTUALLY_MS), 'writes succeed again')
  t.ok(await waitFor(async () => (await built.app.redisHealth()).rateLimit.mode === 'redis', EVENTUALLY_MS), 'the limiter counts in Redis again')
  await load(built, 5, 10_000)
  t.match(await set.replica.command('EXISTS', 'frr-rate-limit:k10000'), ':1', 'on the master the sentinels name')
  t.notOk(built.logText().includes(SECRET))
})
