// Settings of one server (REDIS_URL) pointed at a Redis Cluster node or at a Sentinel, against a
// real 3-master cluster and a real sentinel set: the plugin says so once, at error level, with the
// settings to use; the health report says so; routes answer 503, not 500 MOVED / "unknown command";
// the rate limiter's report never says `redis` while it decides in memory; and a store given such a
// client by hand opens its breaker once and keeps it open under load (no flip storm), whether or
// not the probe key's slot is on that node. Asserts on decisions (log lines, health, status codes,
// report), never on timing.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { startCluster, startSentinelSet } from './helpers/topologies.js'
import { createFailOpenStore } from '../src/index.js'

const SECRET = 'S3cret-Misconfigured-Pa55'
const PROBE_KEY = 'frr-rate-limit:__frr_probe__'

t.teardown(stopAllRedis)

const cluster = await startCluster(SECRET)
t.teardown(() => cluster.stop())
// The sentinels share the data password, so the AUTH check passes there: only the server's kind tells.
const sentinelSet = await startSentinelSet(SECRET, { sentinelPassword: SECRET })
t.teardown(() => sentinelSet.stop())

const masters = await cluster.masters()
/** The master whose slots hold the probe key (it answers the probe), and one whose slots do not (MOVED). */
let owner: RedisServer | undefined
let stranger: RedisServer | undefined
for (const node of masters) {
  if ((await node.command('GET', PROBE_KEY)).startsWith('-MOVED')) stranger ??= node
  else owner ??= node
}

const KEYS = Array.from({ length: 12 }, (_, i) => `frr:misconfigured:${i}`)

function errorLines (test: TestApp): Array<Record<string, unknown>> {
  return test.pluginLogs().filter((line) => line.level === 50)
}

function routes (app: TestApp['app']): void {
  app.get('/key/:key', async (request) => ({ value: await app.redis.get((request.params as { key: string }).key) }))
  app.get('/many', async () => ({ values: await app.redis.mget(...KEYS) }))
}

/** Reconnects the monitor made (each one asks the server again), counted by 'connect' events. */
function countConnects (app: TestApp['app']): () => number {
  let connects = 0
  app.redis.on('connect', () => { connects++ })
  return () => connects
}

t.test('REDIS_URL at a cluster node: one error line naming REDIS_CLUSTER_NODES, health says so, routes 503, limiter in memory', async (t) => {
  const node = masters[0] as RedisServer
  const test = await buildApp({ env: { REDIS_URL: `redis://:${encodeURIComponent(SECRET)}@127.0.0.1:${node.port}` } }, routes)
  const { app } = test
  t.teardown(() => app.close())
  const connects = countConnects(app)

  const health = await app.redisHealth()
  t.not(health.status, 'up', 'not up')
  t.match(health.clients.default, { state: 'down', failure: 'cluster-node' })
  t.match(health.clients.default?.hint, `use REDIS_CLUSTER_NODES=127.0.0.1:${node.port}`)
  t.match(health.clients.default?.hint, 'instead of REDIS_URL')
  t.match(health.rateLimit, { mode: 'local' }, 'the limiter does not claim Redis')
  t.match((health.rateLimit as { cause?: string }).cause, 'cluster-node')

  for (const key of KEYS) {
    const reply = await app.inject(`/key/${key}`)
    t.equal(reply.statusCode, 503, `GET ${key}: 503, never 500 MOVED`)
    t.equal(reply.json().code, 'FRR_ERR_REDIS_UNAVAILABLE')
  }
  t.equal((await app.inject('/many')).statusCode, 503, 'MGET of keys in several slots: 503, never 500 CROSSSLOT')
  const plain = await app.inject('/plain')
  t.equal(plain.statusCode, 200, 'rate limited in memory')

  // Each reconnect asks again and finds the same: still one line.
  t.ok(await waitFor(() => connects() >= 2, EVENTUALLY_MS), `reconnected and asked again (${connects()} connects)`)
  const errors = errorLines(test)
  t.equal(errors.length, 1, 'one error line')
  t.match(errors[0]?.msg, /\(cluster-node\).*is a Redis Cluster node.*use REDIS_CLUSTER_NODES=/)
  t.equal(errors[0]?.redisFailure, 'cluster-node')
  t.equal((await app.redisHealth()).clients.default?.failure, 'cluster-node')
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})

t.test('REDIS_URL at a sentinel port: one error line naming REDIS_SENTINELS, health says so, routes 503', async (t) => {
  const sentinel = sentinelSet.sentinels[0] as RedisServer
  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${sentinel.port}`, REDIS_PASSWORD: SECRET } }, routes)
  const { app } = test
  t.teardown(() => app.close())
  const connects = countConnects(app)

  const health = await app.redisHealth()
  t.equal(health.status, 'down')
  t.match(health.clients.default, { state: 'down', failure: 'sentinel-port' })
  t.match(health.clients.default?.hint, `use REDIS_SENTINELS=127.0.0.1:${sentinel.port}`)
  t.match(health.clients.default?.hint, 'REDIS_SENTINEL_NAME')
  t.match(health.rateLimit, { mode: 'local' })

  const reply = await app.inject('/redis')
  t.equal(reply.statusCode, 503, 'never 500 "ERR unknown command"')
  t.equal(reply.json().code, 'FRR_ERR_REDIS_UNAVAILABLE')
  t.equal((await app.inject('/plain')).statusCode, 200)

  t.ok(await waitFor(() => connects() >= 2, EVENTUALLY_MS), `reconnected and asked again (${connects()} connects)`)
  const errors = errorLines(test)
  t.equal(errors.length, 1, 'one error line')
  t.match(errors[0]?.msg, /\(sentinel-port\).*is a Redis Sentinel.*use REDIS_SENTINELS=/)
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})

t.test('a sentinel without a password: the kind of server is the news, not the password it does not need', async (t) => {
  const open = await startSentinelSet(SECRET)
  t.teardown(() => open.stop())
  const test = await buildApp({ env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(open.sentinels[0]?.port), REDIS_PASSWORD: SECRET } })
  const { app } = test
  t.teardown(() => app.close())
  const health = await app.redisHealth()
  t.match(health.clients.default, { state: 'down', failure: 'sentinel-port' }, 'not password-not-required')
  t.match(health.clients.default?.hint, 'instead of REDIS_HOST')
  t.equal(errorLines(test).length, 1)
  t.equal(test.connectionLogs().length, 1, 'and no other connection line')
})

t.test('a db other than 0 at a cluster node: its refused SELECT says cluster-node too, one line in all', async (t) => {
  const node = masters[1] as RedisServer
  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${node.port}/1`, REDIS_PASSWORD: SECRET } })
  const { app } = test
  t.teardown(() => app.close())
  t.match((await app.redisHealth()).clients.default, { state: 'down', failure: 'cluster-node' })
  t.same(test.connectionLogs().map((line) => `${String(line.level)} ${String(line.redisFailure)}`), ['50 cluster-node'], 'one line, at error level')
  t.equal((await app.inject('/redis')).statusCode, 503)
})

t.test('Sentinel and Cluster clients find their servers themselves: not asked what they reached', async (t) => {
  // An ACL user (here the default one, named): no AUTH check either, so nothing stands between connect and ready.
  const test = await buildApp({ env: { REDIS_SENTINELS: sentinelSet.sentinelList, REDIS_USERNAME: 'default', REDIS_PASSWORD: SECRET } })
  const { app } = test
  t.teardown(() => app.close())
  t.ok(await waitFor(async () => (await app.redisHealth()).status === 'up', EVENTUALLY_MS), 'up')
  t.equal((await app.inject('/redis')).statusCode, 200)
})

t.test('a standalone server that cannot say what it is (HELLO renamed away) is used as before', async (t) => {
  const server = await startRedis({ password: SECRET, extraArgs: ['--rename-command', 'HELLO', ''] })
  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${server.port}`, REDIS_PASSWORD: SECRET } })
  const { app } = test
  t.teardown(() => app.close())
  const health = await app.redisHealth()
  t.equal(health.status, 'up')
  t.equal(health.clients.default?.state, 'ready')
  t.equal((await app.inject('/redis')).statusCode, 200)
})

/** An app that registers @fastify/rate-limit itself with a store on a hand-built client of one server. */
async function handBuilt (t: Test, port: number) {
  const lines: Array<{ level: string; msg: string }> = []
  const record = (level: string) => (_fields: object, msg: string) => { lines.push({ level, msg }) }
  const redis = new Redis({ host: '127.0.0.1', port, password: SECRET, maxRetriesPerRequest: 0, enableOfflineQueue: false })
  t.teardown(() => { redis.disconnect() })
  await new Promise((resolve) => { redis.once('ready', resolve) })
  const Store = createFailOpenStore({ redis, decisionTimeout: 2000, logger: { info: record('info'), warn: record('warn'), error: record('error') } })
  t.teardown(() => { Store.close() })
  const app = Fastify()
  await app.register(fastifyRateLimit, { store: Store, max: 1000, timeWindow: 60_000, skipOnError: false, keyGenerator: (request) => String(request.headers['x-user']) })
  app.get('/', async () => ({ ok: true }))
  await app.ready()
  t.teardown(() => app.close())
  /** 32 concurrent requests at a time, each from one of 64 users (keys in every slot). */
  const load = async (rounds: number): Promise<number[]> => {
    const codes: number[] = []
    for (let round = 0; round < rounds; round++) {
      const replies = await Promise.all(Array.from({ length: 32 }, (_, i) => app.inject({ url: '/', headers: { 'x-user': `user-${(round * 32 + i) % 64}` } })))
      codes.push(...replies.map((reply) => reply.statusCode))
    }
    return codes
  }
  return { lines, Store, load }
}

/** Script calls a server has seen (answered or refused): how the test knows probes ran. */
async function scriptCalls (server: RedisServer): Promise<number> {
  const stats = await server.command('INFO', 'commandstats')
  let calls = 0
  for (const match of stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+),.*?rejected_calls=(\d+)/g)) calls += Number(match[1]) + Number(match[2])
  return calls
}

/** Error replies a server has sent (a sentinel counts its "unknown command" replies too). */
async function errorReplies (server: RedisServer): Promise<number> {
  return Number(/total_error_replies:(\d+)/.exec(await server.command('INFO', 'stats'))?.[1])
}

for (const [label, node] of [['owns the probe key', owner], ['does not own the probe key', stranger]] as const) {
  t.test(`a hand-built client of one server at a cluster node that ${label}: the breaker opens once and stays open under load`, async (t) => {
    const server = node as RedisServer
    const { lines, Store, load } = await handBuilt(t, server.port)
    const first = await load(10)
    t.ok(first.every((code) => code === 200), 'every request answered')
    const report = Store.report()
    t.equal(report.mode, 'local', 'the report does not say redis while decisions go to memory')
    t.match(report.cause, /cluster-node.*use REDIS_CLUSTER_NODES/)
    // Probes run every 100 ms while the breaker is open; let several run, under more load.
    const before = await scriptCalls(server)
    t.ok(await waitFor(async () => (await scriptCalls(server)) >= before + 5, EVENTUALLY_MS), 'probes ran')
    t.ok((await load(10)).every((code) => code === 200))
    t.equal(Store.report().mode, 'local', 'still outside Redis')
    t.same(lines.map((line) => line.level), ['error'], `one line, at error level: ${lines.map((line) => line.msg).join(' | ')}`)
    t.match(lines[0]?.msg, /switched to counting in local memory.*cluster-node/)
    t.equal(lines.filter((line) => line.msg.includes('counts in Redis again')).length, 0, 'no flip back')
  })
}

t.test('a hand-built client of one server at a sentinel: the breaker opens once, at error level, naming REDIS_SENTINELS', async (t) => {
  const sentinel = sentinelSet.sentinels[1] as RedisServer
  const { lines, Store, load } = await handBuilt(t, sentinel.port)
  t.ok((await load(5)).every((code) => code === 200), 'every request answered')
  t.match(Store.report(), { mode: 'local' })
  t.match(Store.report().cause, /sentinel-port.*use REDIS_SENTINELS/)
  const before = await errorReplies(sentinel)
  t.ok(await waitFor(async () => (await errorReplies(sentinel)) >= before + 5, EVENTUALLY_MS), 'probes ran (each refused)')
  t.ok((await load(5)).every((code) => code === 200))
  t.same(lines.map((line) => line.level), ['error'], `one line: ${lines.map((line) => line.msg).join(' | ')}`)
})
