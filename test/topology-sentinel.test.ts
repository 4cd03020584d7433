// The plugin on a real Sentinel set (a master, its replica, three sentinels:
// test/helpers/topologies.ts), configured from the environment alone:
// commands reach the master the sentinels name, a killed master is replaced
// by the promoted replica without the app doing anything, sentinels without
// a password take the data password's HELLO, sentinels that are down cost the
// boot nothing and routes 503, and no password reaches a log line.
import t from 'tap'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { BOOT_BOUND_MS, buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { freePort, stopAllRedis } from './helpers/redis-server.js'
import { startSentinelSet } from './helpers/topologies.js'

const SECRET = 'S3cret-Sentinel-Pa55'

t.teardown(stopAllRedis)

t.test('sentinels with the data password (as the Bitnami chart sets them up): commands follow the master through a kill', async (t) => {
  const set = await startSentinelSet(SECRET, { sentinelPassword: SECRET, masterName: 'frrmaster' })
  t.teardown(() => set.stop())
  // The sentinels' default user, named: REDIS_SENTINEL_USERNAME reaches the sentinels (and the data password with it).
  const test = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList, REDIS_SENTINEL_NAME: 'frrmaster', REDIS_SENTINEL_USERNAME: 'default', REDIS_PASSWORD: SECRET } }, (app) => {
    app.get('/write/:value', async (request) => ({ set: await app.redis.set('frr:sentinel', (request.params as { value: string }).value) }))
  })
  const { app } = test
  t.teardown(() => app.close())
  t.ok(app.redis instanceof Redis, 'a Redis client (ioredis with sentinels)')
  t.equal((await app.redisHealth()).clients.default?.url, `redis+sentinel://:***@${set.sentinelList}/frrmaster/0`)
  t.equal((await app.inject('/write/before')).statusCode, 200)
  t.equal(await set.master.command('GET', 'frr:sentinel'), '$6\r\nbefore', 'the write reached the master the sentinels name')

  await set.master.kill()
  t.ok(await waitFor(async () => (await set.masterPort().catch(() => 0)) === set.replica.port, 30_000), 'the sentinels promoted the replica')
  t.ok(await waitFor(async () => (await app.inject('/write/after')).statusCode === 200, 30_000), 'app.redis writes again, with no change to the app')
  t.equal(await set.replica.command('GET', 'frr:sentinel'), '$5\r\nafter', 'on the promoted replica')
  t.match(await set.replica.command('INFO', 'replication'), /role:master/)
  t.equal((await app.redisHealth()).status, 'up')
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})

t.test('sentinels without a password, the data password in the URL: the default sentinel password costs nothing', async (t) => {
  const set = await startSentinelSet(SECRET)
  t.teardown(() => set.stop())
  const url = `redis+sentinel://:${encodeURIComponent(SECRET)}@${set.sentinelList}/mymaster/2`
  const test = await buildApp({ env: { REDIS_URL: url }, clients: { cache: { db: 3 } } })
  const { app } = test
  t.teardown(() => app.close())
  t.equal(await app.redis.set('frr:db', 'two'), 'OK')
  t.equal(await app.redis.cache?.set('frr:db', 'three'), 'OK')
  t.equal(await set.master.command('SELECT', '2'), '+OK')
  t.equal((await app.redisHealth()).status, 'up')
  t.equal((await app.redisHealth()).clients.cache?.url, `redis+sentinel://:***@${set.sentinelList}/mymaster/3`, 'a named client without a URL uses the same sentinels, in its own database')
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})

t.test('sentinels nobody answers for: the boot does not wait, routes answer 503, health says down', async (t) => {
  const ports = [await freePort(), await freePort()]
  // No password at all (the sentinels get none either).
  const test = await buildApp({ env: { REDIS_SENTINELS: ports.map((p) => `127.0.0.1:${p}`).join(',') } })
  const { app } = test
  t.teardown(() => app.close())
  t.ok(test.bootMs < BOOT_BOUND_MS, `boot did not wait (${Math.round(test.bootMs)} ms)`)
  t.equal((await app.inject('/plain')).statusCode, 200)
  const redis = await app.inject('/redis')
  t.equal(redis.statusCode, 503)
  t.equal(redis.json().code, 'FRR_ERR_REDIS_UNAVAILABLE')
  // ioredis asks each sentinel on a connection of its own, whose refusal it reports as
  // "All sentinels are unreachable … Last error: Connection is closed.": a connection never made, refused.
  t.ok(await waitFor(async () => (await app.redisHealth()).clients.default?.failure === 'refused', EVENTUALLY_MS), 'classified by the last sentinel error')
  t.equal((await app.redisHealth()).status, 'down')
})

t.test('closed while it waits to reconnect: nothing of the client is left trying the sentinels', async (t) => {
  const set = await startSentinelSet(SECRET)
  t.teardown(() => set.stop())
  const test = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET } })
  t.equal((await test.app.inject('/redis')).statusCode, 200)
  const sentinelPort = set.sentinels[0]?.port as number
  for (const server of [...set.sentinels, set.master, set.replica]) await server.kill()
  // ioredis emits no 'end' for a client disconnected in this state (a timer, no socket).
  t.ok(await waitFor(() => test.app.redis.status === 'reconnecting', EVENTUALLY_MS), 'waiting to reconnect')
  await test.app.close()
  // Whatever still tried the sentinels (the failover subscribers retry every second) would connect here.
  let attempts = 0
  const listener = createServer((socket) => { attempts++; socket.destroy() })
  await new Promise<void>((resolve) => listener.listen(sentinelPort, '127.0.0.1', resolve))
  t.teardown(() => { listener.close() })
  await sleep(3000)
  t.equal(attempts, 0, 'no connection to a sentinel after close')
})
