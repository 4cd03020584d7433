// Failovers of a real Sentinel set (a master, its replica, three sentinels)
// under load on a rate-limited route, one counter per request: every request
// is answered (in memory while no master answers), counting goes on on the
// promoted master once the sentinels announce it (+switch-master, heard here
// on every sentinel), and after that announcement no write reaches the old
// master, which a planned SENTINEL FAILOVER leaves taking writes for ~10 s
// before the sentinels demote it. Each write a server executes is heard
// through keyspace notifications (test/helpers/server-watch.ts); the times are
// printed as comments, the assertions are on what landed where.
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RateLimitReport } from '../src/index.js'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { runLoad, type LoadResult } from './helpers/load.js'
import { stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { watchSwitchMaster, watchWrites, type SwitchWatch, type WriteWatch } from './helpers/server-watch.js'
import { startSentinelSet, type TestSentinelSet } from './helpers/topologies.js'

const SECRET = 'Failover-Secret-7Qx'
/** Requests in flight at once: also the most counters one script call carries. */
const CONCURRENCY = 20

t.teardown(stopAllRedis)

interface Run {
  built: TestApp
  switches: SwitchWatch
  oldWrites: WriteWatch
  newWrites: WriteWatch
  result: LoadResult
}

/** The app on the set, under load (a counter per request), through `fault`; the load ends once `settled` holds. */
async function throughFailover (t: Test, set: TestSentinelSet, fault: () => Promise<unknown>, settled: (run: Omit<Run, 'result'>) => Promise<boolean>): Promise<Run> {
  const built = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET }, rateLimit: { max: 1000, timeWindow: 60_000, keyGenerator: (request) => String(request.headers['x-key']) } })
  t.teardown(() => built.app.close())
  const switches = await watchSwitchMaster(set.sentinels.map((s) => s.port))
  const oldWrites = await watchWrites(set.master.port, SECRET)
  const newWrites = await watchWrites(set.replica.port, SECRET)
  t.teardown(() => { switches.stop(); oldWrites.stop(); newWrites.stop() })
  let stop = false
  const load = runLoad(built.app, { total: 200_000, concurrency: CONCURRENCY, stop: () => stop, request: (i) => ({ url: '/plain', headers: { 'x-key': `k${i}` } }) })
  await sleep(1000)
  await fault()
  const watching = { built, switches, oldWrites, newWrites }
  const done = await waitFor(() => settled(watching), 30_000)
  // A while of counting on the new master.
  await sleep(1000)
  stop = true
  const result = await load
  t.ok(done, 'the failover ended, and the limiter counts in Redis again')
  return { ...watching, result }
}

/** The request counters a server holds. */
async function counters (server: RedisServer): Promise<Set<string>> {
  const reply = await server.command('KEYS', 'frr-rate-limit:k*')
  return new Set(reply.split('\r\n').filter((line) => line.startsWith('frr-rate-limit:k')))
}

const modeIsRedis = async ({ built }: { built: TestApp }): Promise<boolean> => (await built.app.redisHealth()).rateLimit.mode === 'redis'

t.test('master killed under load: every request answered, counting goes on on the promoted master after +switch-master', async (t) => {
  const set = await startSentinelSet(SECRET)
  t.teardown(() => set.stop())
  const run = await throughFailover(t, set, () => set.master.kill(), async (w) => w.switches.first() !== undefined && await modeIsRedis(w))
  const { built, switches, oldWrites, newWrites, result } = run
  t.equal(result.count(200), result.samples.length, `every request answered (${result.samples.length})`)
  const switchedAt = switches.first() as number
  const resumedAt = newWrites.writes.find((w) => w.at > switchedAt)?.at
  t.ok(resumedAt !== undefined, 'the app wrote on the promoted master after the announcement')
  t.comment(`first count on the promoted master ${String((resumedAt as number) - switchedAt)} ms after the first +switch-master`)

  // Each request was decided once: counted in Redis (on the master, then replicated, or on the
  // promoted one), or in memory. A write on the master the kill cut before it was replicated is gone with it.
  const promoted = await counters(set.replica)
  const cutByKill = oldWrites.writes.filter((w) => !promoted.has(w.key)).length
  const report = (await built.app.redisHealth()).rateLimit as RateLimitReport
  // A decision made in memory after its call was sent (it timed out, or its connection went before the
  // reply: the master killed after it ran the script and replicated it) may have been counted by Redis too.
  const sent = report.decisionsAfterTimeout + report.decisionsAfterError
  const twice = promoted.size + cutByKill + report.decisionsOutsideRedis - result.samples.length
  t.ok(twice >= 0 && twice <= sent, `in Redis ${promoted.size} (+${cutByKill} lost with the killed master), in memory ${report.decisionsOutsideRedis} (${sent} after their call was sent, ${twice} of them counted in Redis too)`)
  t.ok(report.decisionsOutsideRedis > 0, 'in memory while no master answered')
  const after = result.samples.filter((s) => s.at > 0).length
  t.ok(promoted.size > after / 10, 'most counting happened in Redis')

  const follow = built.pluginLogs().filter((line) => typeof line.msg === 'string' && line.msg.includes('the sentinels moved master'))
  t.equal(follow.length, 1, 'one line for the failover, though every sentinel announces it')
  t.match(follow[0]?.msg, new RegExp(`moved master "mymaster" from 127\\.0\\.0\\.1:${set.master.port} to 127\\.0\\.0\\.1:${set.replica.port}; following it$`))
  const modeLines = built.pluginLogs().filter((line) => line.rateLimitMode !== undefined)
  t.ok(modeLines.length <= 4, `a few mode lines, no storm (${modeLines.length})`)
  t.notOk(built.logText().includes(SECRET))
})

t.test('planned SENTINEL FAILOVER under load: no write reaches the old master after +switch-master', async (t) => {
  const set = await startSentinelSet(SECRET)
  t.teardown(() => set.stop())
  const run = await throughFailover(t, set,
    () => set.sentinels[0]?.command('SENTINEL', 'FAILOVER', set.masterName) as Promise<string>,
    async (w) => w.switches.first() !== undefined && await modeIsRedis(w) && w.built.connectionLogs().length > 1)
  const { built, switches, oldWrites, newWrites, result } = run
  t.equal(result.count(200), result.samples.length, `every request answered (${result.samples.length})`)
  t.match(await set.master.command('ROLE'), /^\*3\r\n\$6\r\nmaster/, 'the old master is still a master (the sentinels demote it ~10 s later): it would take every write sent to it')
  const switchedAt = switches.first() as number

  // Writes the old master took that the new one does not have are lost: they landed after the
  // replica was promoted. Before the announcement nothing tells a client; after it, only the one
  // script call already on its way may land there (at most CONCURRENCY counters).
  const promoted = await counters(set.replica)
  const lost = oldWrites.writes.filter((w) => !promoted.has(w.key))
  const lostAfter = lost.filter((w) => w.at > switchedAt)
  t.comment(`lost: ${lost.length} between the promotion and the announcement, ${lostAfter.length} after it`)
  t.ok(lostAfter.length <= CONCURRENCY + 1, `at most the call in flight lands on the old master after the announcement (${lostAfter.length})`)
  const reconnected = built.connectionLogs().find((line) => Number(line.time) >= switchedAt && line.redisState === 'ready')
  t.ok(reconnected !== undefined, 'the connection was re-established')
  const reconnectedAt = Number(reconnected?.time)
  t.same(oldWrites.writes.filter((w) => w.at > reconnectedAt && !promoted.has(w.key)), [], 'nothing written on the old master once the app reconnected')
  const resumedAt = newWrites.writes.find((w) => w.at > switchedAt)?.at as number
  t.comment(`reconnected ${reconnectedAt - switchedAt} ms, first count on the new master ${resumedAt - switchedAt} ms after the first +switch-master`)

  const report = (await built.app.redisHealth()).rateLimit as RateLimitReport
  t.equal(report.mode, 'redis')
  // As above: a decision made in memory after its call was sent may have been counted by Redis too.
  const twice = promoted.size + lost.length + report.decisionsOutsideRedis - result.samples.length
  t.ok(twice >= 0 && twice <= report.decisionsAfterTimeout + report.decisionsAfterError, `each request decided once: on the new master (replicated or counted there), lost on the old one, or in memory (of those after their call was sent, ${twice} counted in Redis too)`)
  const follow = built.pluginLogs().filter((line) => typeof line.msg === 'string' && line.msg.includes('the sentinels moved master'))
  t.equal(follow.length, 1, 'one line for the failover')
  t.notOk(built.logText().includes(SECRET))
})

t.test('a client the app disconnected while it waited to reconnect is not connected again by the failover that follows', async (t) => {
  const set = await startSentinelSet(SECRET)
  t.teardown(() => set.stop())
  const built = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET } })
  t.teardown(() => built.app.close())
  const { app } = built
  t.equal((await app.inject('/redis')).statusCode, 200)
  await set.master.kill()
  t.ok(await waitFor(() => app.redis.status === 'reconnecting', EVENTUALLY_MS), 'waiting out a reconnect backoff')
  const readyLines = (): number => built.connectionLogs().filter((line) => line.redisState === 'ready').length
  const readyBefore = readyLines()
  // ioredis leaves a client disconnected in this state 'reconnecting', its timer gone, and emits no 'end'.
  app.redis.disconnect()
  const followed = (): boolean => built.pluginLogs().some((line) => typeof line.msg === 'string' && line.msg.includes('the sentinels moved master'))
  t.ok(await waitFor(followed, 30_000), 'the failover was announced and heard')
  // A reconnect started on the announcement would be connecting by now, and ready soon after.
  await sleep(1000)
  t.equal(app.redis.status, 'reconnecting', 'still disconnected')
  t.equal(readyLines(), readyBefore, 'no ready line since')
})
