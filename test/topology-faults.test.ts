// The fault list against Sentinel and Cluster, each on real servers: a wrong and a missing data
// password, a master that hangs (SIGSTOP) while the app serves, and on a cluster one master lost
// while the others serve, then every node. What is asserted: what a route gets, the class in the
// health report, and the lines. (Sentinels' own password, sentinels stopped or killed, and every
// cluster node killed: topology-lookup-failures.test.ts; failovers: sentinel-failover,
// cluster-failover, demoted-master.)
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Redis, type Cluster } from 'ioredis'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { stateLinesByClient } from './helpers/outage.js'
import { stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { startCluster, startSentinelSet } from './helpers/topologies.js'

const SECRET = 'S3cret-Topology-Faults'
const SENTINEL_SECRET = 'S3cret-Topology-Sentinels'

t.teardown(stopAllRedis)

const keyRoute = (app: FastifyInstance): void => {
  app.get('/key/:key', async (request) => ({ value: await app.redis.get((request.params as { key: string }).key) }))
}

function stateLines (test: TestApp): string[] {
  return stateLinesByClient(test.connectionLogs(), 0).default ?? []
}

function nodeLines (test: TestApp): Array<Record<string, unknown>> {
  return test.pluginLogs().filter((line) => line.redisNode !== undefined)
}

function noSecret (t: Test, test: TestApp): void {
  t.notOk(test.logText().includes(SECRET) || test.logText().includes(SENTINEL_SECRET), 'no password in the logs')
}

type Health = Awaited<ReturnType<FastifyInstance['redisHealth']>>
async function healthOf (test: TestApp): Promise<Health> {
  return test.app.redisHealth()
}

t.test('Cluster', async (t) => {
  const cluster = await startCluster(SECRET)
  t.teardown(() => cluster.stop())
  const env = { REDIS_CLUSTER_NODES: cluster.nodeList }

  /** Whether replicas may take over a master that stops answering (`cluster-replica-no-failover`, on every node). */
  async function noFailover (on: boolean): Promise<void> {
    for (const node of cluster.nodes) await node.command('CONFIG', 'SET', 'cluster-replica-no-failover', on ? 'yes' : 'no')
  }

  /** 30 keys written through the app, the first master, and which of the keys it holds. */
  async function keysOnOneMaster (test: TestApp, prefix: string): Promise<{ keys: string[]; victim: RedisServer; onVictim: string[] }> {
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}${i}`)
    for (const key of keys) await test.app.redis.set(key, key)
    const victim = (await cluster.masters())[0] as RedisServer
    const onVictim: string[] = []
    for (const key of keys) if ((await victim.command('EXISTS', key)) === ':1') onVictim.push(key)
    return { keys, victim, onVictim }
  }

  for (const [label, password, failure, hint] of [
    ['a wrong data password', 'not-the-password', 'password-wrong', /rejected the password from REDIS_PASSWORD: set REDIS_PASSWORD/],
    ['no data password', undefined, 'password-missing', /requires a password and none is sent: set REDIS_PASSWORD/],
  ] as const) {
    t.test(`${label}: ${failure}, one error line, routes 503`, async (t) => {
      const test = await buildApp({ env: { ...env, ...(password === undefined ? {} : { REDIS_PASSWORD: password }) } })
      t.teardown(() => test.app.close())
      t.ok(await waitFor(async () => (await healthOf(test)).clients.default?.failure === failure, EVENTUALLY_MS), `health: ${failure}`)
      t.match((await healthOf(test)).clients.default, { state: 'down', hint })
      t.equal((await test.app.inject('/redis')).statusCode, 503)
      const lines = test.connectionLogs()
      t.same(stateLines(test), [`down:${failure}`], 'one line')
      t.equal(lines[0]?.level, 50, 'at error level')
      t.same(nodeLines(test), [], 'no line per node: the client is down as a whole')
    })
  }

  t.test('one master stopped (SIGSTOP) while serving: its keys 503, the others served, one line, health degraded naming it', async (t) => {
    const test = await buildApp({ env: { ...env, REDIS_PASSWORD: SECRET } }, keyRoute)
    t.teardown(() => test.app.close())
    const { keys, victim, onVictim } = await keysOnOneMaster(test, 'k')
    const elsewhere = keys.filter((key) => !onVictim.includes(key))
    t.ok(onVictim.length > 0 && elsewhere.length > 0, `keys on the stopped master (${onVictim.length}) and on the others (${elsewhere.length})`)

    // The stopped master stays a master: its replica takes no part here (a takeover after the 2 s
    // node timeout would end the outage, and a busy machine can take that long).
    await noFailover(true)
    t.teardown(() => noFailover(false))
    victim.pause()
    t.teardown(() => { victim.resume() })
    t.equal((await test.app.inject(`/key/${onVictim[0] as string}`)).statusCode, 503, 'a key of its slots: 503')
    t.ok(await waitFor(() => nodeLines(test).length > 0, EVENTUALLY_MS), 'a line for that master')
    for (const key of elsewhere) {
      const res = await test.app.inject(`/key/${key}`)
      t.same([res.statusCode, res.json()], [200, { value: key }], `${key}, on another master: served`)
    }
    t.match(nodeLines(test), [{ level: 40, redisNode: `127.0.0.1:${victim.port}`, redisNodeState: 'down', redisFailure: 'hanging', msg: /^Redis "default": cluster master 127\.0\.0\.1:\d+ is unavailable \(hanging\): .* Keys in its slots answer 503; the other masters serve theirs\.$/ }])
    const health = await healthOf(test)
    t.equal(health.status, 'degraded')
    t.match(health.clients.default, { state: 'ready', failure: 'hanging', hint: new RegExp(`^cluster master 127\\.0\\.0\\.1:${victim.port}: 127\\.0\\.0\\.1:${victim.port} accepts connections but does not answer in time: .*; keys in its slots answer 503, the other 2 masters serve theirs$`) })
    t.same(stateLines(test), ['ready'], 'the client itself stays ready: no line of its own')
    // While it stays stopped, ioredis drops and makes its connection again and again ("Connection is
    // closed." in between): the report goes on saying what the outage is, not how each try ended.
    const seen = new Set<unknown>()
    for (let i = 0; i < 15; i++) {
      await test.app.inject(`/key/${onVictim[0] as string}`)
      seen.add((await healthOf(test)).clients.default?.failure)
      await sleep(200)
    }
    t.same([...seen], ['hanging'], 'hanging at every look')

    victim.resume()
    t.ok(await waitFor(async () => (await test.app.inject(`/key/${onVictim[0] as string}`)).statusCode === 200, EVENTUALLY_MS), 'its keys served again')
    t.ok(await waitFor(async () => (await healthOf(test)).status === 'up', EVENTUALLY_MS), 'health up again')
    t.ok(await waitFor(() => nodeLines(test).length === 2, EVENTUALLY_MS), 'a line when it is back')
    t.match(nodeLines(test)[1], { level: 30, redisNodeState: 'ready', msg: /^Redis "default": cluster master 127\.0\.0\.1:\d+ is back after \d+ ms \(was hanging\)$/ })
    t.equal(nodeLines(test).length, 2, 'two lines in all')
    noSecret(t, test)
  })

  t.test('masters blocked by a long script (BUSY), one, two, then all three: the health report names them, down once none serves', async (t) => {
    const test = await buildApp({ env: { ...env, REDIS_PASSWORD: SECRET } })
    t.teardown(() => test.app.close())
    const masters = await cluster.masters()
    const [m1, m2, m3] = masters as [RedisServer, RedisServer, RedisServer]
    const address = (m: RedisServer): string => `127\\.0\\.0\\.1:${m.port}`
    const block = async (m: RedisServer): Promise<void> => {
      t.equal(await m.command('CONFIG', 'SET', 'busy-reply-threshold', '50'), '+OK')
      // Never answers (the helper gives up on it); SCRIPT KILL ends it.
      m.command('EVAL', 'while true do end', '0').catch(() => {})
    }
    t.teardown(async () => { for (const m of masters) await m.command('SCRIPT', 'KILL').catch(() => {}) })
    const expect = async (hint: RegExp, state: string, status: string): Promise<void> => {
      t.ok(await waitFor(async () => hint.test(String((await healthOf(test)).clients.default?.hint)), EVENTUALLY_MS), `hint ${hint.source}`)
      const health = await healthOf(test)
      t.match(health, { status, clients: { default: { state, failure: 'busy', error: /^BUSY / } } })
    }
    await block(m1)
    await expect(new RegExp(`^cluster master ${address(m1)}: the server at ${address(m1)} is blocked by a long-running script or function: .*; keys in its slots answer 503, the other 2 masters serve theirs$`), 'ready', 'degraded')
    await block(m2)
    await expect(new RegExp(`^2 cluster masters fail \\((${address(m1)}, ${address(m2)}|${address(m2)}, ${address(m1)})\\); the first: .*; keys in their slots answer 503, the other master serves theirs$`), 'ready', 'degraded')
    await block(m3)
    await expect(/^3 cluster masters fail \(.*\); the first: .*; keys in their slots answer 503$/, 'down', 'down')
    t.same(nodeLines(test), [], 'a script that blocks a master is not a lost connection: no master line')
    for (const m of masters) t.equal(await m.command('SCRIPT', 'KILL'), '+OK')
    t.ok(await waitFor(async () => (await healthOf(test)).status === 'up', EVENTUALLY_MS), 'health up once the scripts are killed')
  })

  t.test('every node stopped (SIGSTOP): the client is down (hanging) with one line, then no line per master; back once they resume', async (t) => {
    const test = await buildApp({ env: { ...env, REDIS_PASSWORD: SECRET } })
    t.teardown(() => test.app.close())
    t.equal((await test.app.inject('/redis')).statusCode, 200)
    for (const node of cluster.nodes) node.pause()
    t.teardown(() => { for (const node of cluster.nodes) node.resume() })
    t.equal((await test.app.inject('/redis')).statusCode, 503)
    t.ok(await waitFor(() => stateLines(test).length > 1, EVENTUALLY_MS), 'a line')
    t.same(stateLines(test), ['ready', 'down:hanging'])
    t.match((await healthOf(test)).clients.default, { state: 'down', failure: 'hanging' })
    for (const node of cluster.nodes) node.resume()
    t.ok(await waitFor(async () => (await test.app.inject('/redis')).statusCode === 200, EVENTUALLY_MS), 'served again')
    // The master of /redis's key may answer before the client as a whole is back (its line follows).
    t.ok(await waitFor(() => stateLines(test).length > 2, EVENTUALLY_MS), 'a line for the client back')
    t.same(stateLines(test), ['ready', 'down:hanging', 'ready'])
    // A master whose socket timed out before the client as a whole went down may have had its line
    // (and then has its "back" line); after the client's own line, no master is said to be lost.
    const lines = test.pluginLogs()
    const clientDown = lines.findIndex((line) => line.redisState === 'down')
    const before = lines.slice(0, clientDown).filter((line) => line.redisNode !== undefined)
    t.ok(before.every((line) => line.redisNodeState === 'down' && line.redisFailure === 'hanging'), 'only "unavailable (hanging)" lines of masters before it')
    t.ok(new Set(before.map((line) => line.redisNode)).size === before.length && before.length <= 3, `at most one per master (${before.length})`)
    t.ok(await waitFor(() => test.pluginLogs().filter((line) => line.redisNodeState === 'ready').length === before.length, EVENTUALLY_MS), 'each of them is back')
    const after = test.pluginLogs().slice(clientDown).filter((line) => line.redisNode !== undefined)
    t.same(after.map((line) => `${String(line.redisNode)}:${String(line.redisNodeState)}`).sort(), before.map((line) => `${String(line.redisNode)}:ready`).sort(), 'after the client\'s own line, only the "back" lines of those masters')
  })

  t.test('one master\'s password rotated ahead of the app: its keys 503, one error-level line for that master, back once it takes the app\'s password again', async (t) => {
    const test = await buildApp({ env: { ...env, REDIS_PASSWORD: SECRET } }, keyRoute)
    t.teardown(() => test.app.close())
    const { victim, onVictim } = await keysOnOneMaster(test, 'p')
    // One admin connection that stays authenticated through the change, to make it and undo it.
    const admin = new Redis({ host: '127.0.0.1', port: victim.port, password: SECRET, lazyConnect: true, maxRetriesPerRequest: 0 })
    t.teardown(() => { admin.disconnect() })
    await admin.connect()
    await admin.config('SET', 'requirepass', 'Rotated-Elsewhere-1')
    // Its connections from the app were made with the old password; they must connect again.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
    t.ok(await waitFor(async () => {
      await test.app.inject(`/key/${onVictim[0] as string}`)
      return nodeLines(test).length > 0
    }, EVENTUALLY_MS), 'a line for that master')
    t.match(nodeLines(test), [{ level: 50, redisNode: `127.0.0.1:${victim.port}`, redisFailure: 'password-wrong', msg: /cluster master 127\.0\.0\.1:\d+ is unavailable \(password-wrong\): the server at 127\.0\.0\.1:\d+ rejected the password from REDIS_PASSWORD/ }])
    t.equal((await test.app.inject(`/key/${onVictim[0] as string}`)).statusCode, 503, 'its keys: 503')
    await admin.config('SET', 'requirepass', SECRET)
    t.ok(await waitFor(async () => (await test.app.inject(`/key/${onVictim[0] as string}`)).statusCode === 200, EVENTUALLY_MS), 'its keys served again')
    t.ok(await waitFor(() => nodeLines(test).some((line) => line.redisNodeState === 'ready'), EVENTUALLY_MS), 'a line when it is back')
    noSecret(t, test)
    t.notOk(test.logText().includes('Rotated-Elsewhere-1'), 'nor the other password')
  })

  t.test('PING refused by the ACL on a master is still an answer; a replica killed is not a master lost', async (t) => {
    const test = await buildApp({ env: { ...env, REDIS_PASSWORD: SECRET } })
    t.teardown(() => test.app.close())
    const masters = await cluster.masters()
    const master = masters[0] as RedisServer
    const replica = cluster.nodes.find((node) => !masters.includes(node)) as RedisServer
    t.equal(await master.command('ACL', 'SETUSER', 'default', '-ping'), '+OK')
    t.teardown(() => master.command('ACL', 'SETUSER', 'default', '+ping').then(() => {}, () => {}))
    t.match(await healthOf(test), { status: 'up', clients: { default: { state: 'ready' } } })
    t.equal((await healthOf(test)).clients.default?.failure, undefined)
    t.equal(await master.command('ACL', 'SETUSER', 'default', '+ping'), '+OK')

    await replica.kill()
    // ioredis connects again to every node the cluster lists when it refreshes its slot map; the
    // refused connection to the replica is a node error the watch sees, and leaves alone.
    const errors: string[] = []
    const cluster_ = test.app.redis as unknown as Cluster
    cluster_.on('node error', (_error: unknown, node: unknown) => { errors.push(String(node)) })
    cluster_.refreshSlotsCache()
    t.ok(await waitFor(() => errors.includes(`127.0.0.1:${replica.port}`), EVENTUALLY_MS), 'the killed replica failed a connection')
    t.equal((await test.app.inject('/redis')).statusCode, 200)
    t.same(nodeLines(test), [], 'no master line')
    t.equal((await healthOf(test)).status, 'up')
  })
})

t.test('Sentinel', async (t) => {
  const set = await startSentinelSet(SECRET, { sentinelPassword: SENTINEL_SECRET })
  t.teardown(() => set.stop())
  const env = { REDIS_SENTINELS: set.sentinelList, REDIS_SENTINEL_PASSWORD: SENTINEL_SECRET }

  for (const [label, password, failure, hint] of [
    ['a wrong data password (the sentinels\' right)', 'not-the-password', 'password-wrong', /rejected the password from REDIS_PASSWORD: set REDIS_PASSWORD/],
    ['no data password (the sentinels\' given)', undefined, 'password-missing', /requires a password and none is sent: set REDIS_PASSWORD/],
  ] as const) {
    t.test(`${label}: ${failure} on the master, one error line, routes 503`, async (t) => {
      const test = await buildApp({ env: { ...env, ...(password === undefined ? {} : { REDIS_PASSWORD: password }) } })
      t.teardown(() => test.app.close())
      t.ok(await waitFor(async () => (await healthOf(test)).clients.default?.failure === failure, EVENTUALLY_MS), `health: ${failure}`)
      t.match((await healthOf(test)).clients.default, { state: 'down', hint: new RegExp(`^the server at 127\\.0\\.0\\.1:${set.master.port} ${hint.source}`) })
      t.equal((await test.app.inject('/redis')).statusCode, 503)
      t.same(stateLines(test), [`down:${failure}`], 'one line')
      t.equal(test.connectionLogs()[0]?.level, 50, 'at error level')
      noSecret(t, test)
    })
  }

  t.test('the master stopped (SIGSTOP) while serving, the sentinels told to wait: hanging, one line, back on resume', async (t) => {
    // No failover meanwhile: this is a hanging master, not a failover (sentinel-failover.test.ts).
    for (const sentinel of set.sentinels) t.equal(await sentinel.command('SENTINEL', 'SET', set.masterName, 'down-after-milliseconds', '600000'), '+OK')
    t.teardown(async () => { for (const sentinel of set.sentinels) await sentinel.command('SENTINEL', 'SET', set.masterName, 'down-after-milliseconds', '1000') })
    const test = await buildApp({ env: { ...env, REDIS_PASSWORD: SECRET } })
    t.teardown(() => test.app.close())
    t.equal((await test.app.inject('/redis')).statusCode, 200)
    set.master.pause()
    t.teardown(() => { set.master.resume() })
    t.equal((await test.app.inject('/redis')).statusCode, 503)
    t.ok(await waitFor(async () => (await healthOf(test)).clients.default?.failure === 'hanging', EVENTUALLY_MS), 'health: hanging')
    t.ok(await waitFor(() => stateLines(test).length > 1, EVENTUALLY_MS), 'a line')
    t.same(stateLines(test), ['ready', 'down:hanging'])
    t.match(test.connectionLogs()[1], { level: 40, msg: new RegExp(`^Redis "default" was lost \\(hanging\\): 127\\.0\\.0\\.1:${set.master.port} accepts connections but does not answer in time`) })
    set.master.resume()
    t.ok(await waitFor(async () => (await test.app.inject('/redis')).statusCode === 200, EVENTUALLY_MS), 'served again')
    // A command may be answered before the client's line saying it is back is written.
    t.ok(await waitFor(() => stateLines(test).length > 2, EVENTUALLY_MS), 'a line for the client back')
    t.same(stateLines(test), ['ready', 'down:hanging', 'ready'])
    noSecret(t, test)
  })
})
