// Rate limiting on a real 3-master/3-replica Redis Cluster with the default
// (untagged) nameSpace: a tick's increments go out as one script call per hash
// slot, so counting is exact and spread over every master, never CROSSSLOT;
// scripts flushed on the nodes are loaded again; a hand-built ioredis Cluster
// works in createFailOpenStore; and while one master refuses writes, the
// breaker's probe asks that master, so it stays open instead of flipping.
import t from 'tap'
import { Cluster } from 'ioredis'
import { buildApp } from './helpers/app.js'
import { runLoad } from './helpers/load.js'
import { stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { startCluster, waitFor } from './helpers/topologies.js'
import { incr } from './helpers/store.js'
import { hashSlot, SLOT_COUNT, tagForSlot } from '../src/rate-limit/hash-slot.js'
import { createFailOpenStore } from '../src/index.js'

const SECRET = 'S3cret-Cluster-Limits'
const KEYS = 40
const MAX = 50

t.teardown(stopAllRedis)

const cluster = await startCluster(SECRET)
t.teardown(() => cluster.stop())

/** How many keys each master holds under `pattern` (the length of its KEYS reply, `*N`). */
async function keysPerMaster (pattern: string): Promise<number[]> {
  return Promise.all((await cluster.masters()).map(async (node) => {
    const reply = await node.command('KEYS', pattern)
    return Number(reply.slice(1, reply.indexOf('\r')))
  }))
}

t.test('hash slots as the cluster computes them: plain keys, hash tags, UTF-8, and a tag for every slot', async (t) => {
  const [node] = await cluster.masters()
  const keys = ['', 'a', 'frr-rate-limit:127.0.0.1', 'frr-rate-limit:GET:/items/:id:10.0.0.7', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'foo{bar}{zap}', '{}x', 'x{', 'x}{y', 'ключ:1', '键{标签}', 'emoji:😀', 'café{é}']
  const mine = keys.map(hashSlot)
  const theirs = await Promise.all(keys.map(async (key) => Number((await node!.command('CLUSTER', 'KEYSLOT', key)).slice(1))))
  t.same(mine, theirs, 'the slot the cluster gives, for every key')

  // One pass finds the first decimal tag of every slot: all exist, well below 10^6, so tagForSlot's search ends.
  const first = new Int32Array(SLOT_COUNT).fill(-1)
  let left = SLOT_COUNT
  let n = 0
  for (; left > 0 && n < 1_000_000; n++) {
    const slot = hashSlot(String(n))
    if (first[slot] === -1) { first[slot] = n; left-- }
  }
  t.equal(left, 0, `every slot has a decimal tag below ${n}`)
  for (const slot of [0, 1, 866, 5460, 5461, 10922, 10923, 16383]) {
    t.equal(tagForSlot(slot), String(first[slot]), `the tag of slot ${slot}`)
    t.equal(hashSlot(`frr-rate-limit:__frr_probe__{${tagForSlot(slot)}}`), slot, `a key with that tag is in slot ${slot}`)
  }
})

t.test('the default nameSpace: every key counted exactly under 32 concurrent requests, counters on every master', async (t) => {
  const test = await buildApp({
    env: { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PASSWORD: SECRET },
    commandTimeout: 5000,
    rateLimit: { max: MAX, timeWindow: 60_000, decisionTimeout: 2000, keyGenerator: (request) => String(request.headers['x-key']) },
  })
  t.teardown(() => test.app.close())
  // The case: 4000 requests over 40 keys, 2 × max each, 32 in flight.
  const load = await runLoad(test.app, { total: KEYS * MAX * 2, concurrency: 32, request: (i) => ({ url: '/plain', headers: { 'x-key': `user-${i % KEYS}` } }) })
  const admitted = new Map<string, number>()
  for (const sample of load.samples) {
    if (sample.status === 200) admitted.set(`user-${sample.index % KEYS}`, (admitted.get(`user-${sample.index % KEYS}`) ?? 0) + 1)
  }
  t.same([...new Set(admitted.values())], [MAX], `every key admitted exactly ${MAX} times`)
  t.equal(load.count(429), KEYS * MAX, 'the rest refused')
  const report = (await test.app.redisHealth()).rateLimit
  t.match(report, { mode: 'redis', decisionsOutsideRedis: 0 }, 'every decision made by Redis')
  const perMaster = await keysPerMaster('frr-rate-limit:user-*')
  t.equal(perMaster.reduce((a, b) => a + b, 0), KEYS, 'one counter per key')
  t.ok(perMaster.every((count) => count > 0), `the counters spread over the three masters (${perMaster.join(', ')})`)
  t.notOk(test.logText().includes('CROSSSLOT'), 'no CROSSSLOT anywhere')
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})

t.test('scripts flushed on every node mid-load: loaded again per node, nothing decided in memory', async (t) => {
  const test = await buildApp({
    env: { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PASSWORD: SECRET },
    commandTimeout: 5000,
    rateLimit: { max: 1000, timeWindow: 60_000, nameSpace: 'flush:', decisionTimeout: 2000, keyGenerator: (request) => String(request.headers['x-key']) },
  })
  t.teardown(() => test.app.close())
  const request = (i: number) => ({ url: '/plain', headers: { 'x-key': `k${i % 30}` } })
  const before = await runLoad(test.app, { total: 300, concurrency: 16, request })
  for (const node of await cluster.masters()) await node.command('SCRIPT', 'FLUSH')
  const after = await runLoad(test.app, { total: 300, concurrency: 16, request: (i) => request(i + 300) })
  t.equal(before.count(200) + after.count(200), 600, 'every request admitted')
  t.match((await test.app.redisHealth()).rateLimit, { mode: 'redis', decisionsOutsideRedis: 0 })
  const counts = await Promise.all(Array.from({ length: 30 }, (_, i) => test.app.redis.get(`flush:k${i}`)))
  t.same(new Set(counts), new Set(['20']), 'each key counted 20 times in Redis, across the flush')
})

t.test('a hand-built ioredis Cluster in createFailOpenStore: accepted by its types, exact', async (t) => {
  const [host, port] = cluster.nodeList.split(',')[0]!.split(':') as [string, string]
  const client = new Cluster([{ host, port: Number(port) }], { redisOptions: { password: SECRET } })
  t.teardown(() => client.disconnect())
  await waitFor('the cluster client to be ready', async () => client.status === 'ready')
  const Store = createFailOpenStore({ redis: client, nameSpace: 'hand:', decisionTimeout: 2000 })
  t.teardown(() => Store.close())
  const store = new Store()
  const counts = await Promise.all(Array.from({ length: 200 }, (_, i) => incr(store, `k${i % 20}`, 60_000, 5)))
  const perKey = new Map<string, number[]>()
  counts.forEach((count, i) => perKey.set(`k${i % 20}`, [...(perKey.get(`k${i % 20}`) ?? []), count.current]))
  t.ok([...perKey.values()].every((seen) => seen.slice(0, 5).join() === '1,2,3,4,5'), 'each key counted 1…5 in Redis, in order')
  t.match(Store.report(), { mode: 'redis', decisionsOutsideRedis: 0 })

  // A tick holding two counters of one slot (one hash tag) and one of another: two calls, not three.
  const scriptCalls = async (): Promise<number> => {
    let calls = 0
    for (const node of await cluster.masters()) {
      for (const m of (await node.command('INFO', 'commandstats')).matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)) calls += Number(m[1])
    }
    return calls
  }
  t.not(hashSlot('hand:{tag}a'), hashSlot('hand:other'), 'the lone key is in another slot')
  await incr(store, 'warm')
  for (const node of await cluster.masters()) await node.command('CONFIG', 'RESETSTAT')
  const tick = await Promise.all([incr(store, 'first'), incr(store, '{tag}a'), incr(store, '{tag}b'), incr(store, 'other')])
  t.same(tick.map((c) => c.current), [1, 1, 1, 1])
  t.equal(await scriptCalls(), 3, 'the first request alone, then one call per slot for the three queued behind it')
})

t.test('one master out of memory: its counters in memory, one switch out, the probe asks that master, one switch back', async (t) => {
  const test = await buildApp({
    env: { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PASSWORD: SECRET },
    commandTimeout: 5000,
    rateLimit: { max: 100_000, timeWindow: 60_000, nameSpace: 'oom:', decisionTimeout: 2000, keyGenerator: (request) => String(request.headers['x-key']) },
  })
  t.teardown(() => test.app.close())
  // Keys in the slots of every master, so most ticks reach a healthy one, where a fixed probe key may live too.
  const request = (i: number) => ({ url: '/plain', headers: { 'x-key': `k${i % 60}` } })
  await runLoad(test.app, { total: 120, concurrency: 8, request })
  // A master other than the one holding the store's fixed probe key: a probe sent there would succeed and flip the breaker.
  let full: RedisServer | undefined
  for (const node of await cluster.masters()) if ((await node.command('GET', 'oom:__frr_probe__')).startsWith('-MOVED')) full = node
  await full!.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
  await full!.command('CONFIG', 'SET', 'maxmemory', '1')
  t.teardown(() => full!.command('CONFIG', 'SET', 'maxmemory', '0'))
  const during = await runLoad(test.app, { total: 3000, concurrency: 8, request: (i) => request(i + 120) })
  t.equal(during.serverErrors(), 0, 'every request answered')
  const report = (await test.app.redisHealth()).rateLimit
  t.match(report, { mode: 'local', cause: /out-of-memory/ }, 'counting in memory, named OOM')
  await full!.command('CONFIG', 'SET', 'maxmemory', '0')
  await waitFor('the probe to find that master writable again', async () => (await test.app.redisHealth()).rateLimit?.mode === 'redis')
  const switches = test.pluginLogs().map((line) => String(line.msg)).filter((msg) => /Rate limiting switched to|Rate limiting counts in Redis again/.test(msg))
  t.equal(switches.length, 2, `one switch out, one back (got ${switches.length} lines, the first: ${switches.slice(0, 2).join(' | ')})`)
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})
