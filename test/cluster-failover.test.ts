// A master of a real 3-master/3-replica Cluster killed under load on a
// rate-limited route, one counter per request: every request is answered (in
// memory while the counters' slots have no master), and counting goes on in
// Redis once the cluster has promoted the killed master's replica. Counters
// are summed over every master, so this holds wherever the nameSpace puts
// them (one hash tag, or any slot). The time from the promotion (as CLUSTER
// NODES on a survivor shows it) to the first count there is printed.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RateLimitReport } from '../src/index.js'
import { buildApp, waitFor } from './helpers/app.js'
import { runLoad } from './helpers/load.js'
import { stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { watchWrites } from './helpers/server-watch.js'
import { startCluster } from './helpers/topologies.js'

const SECRET = 'Cluster-Failover-9Tz'

t.teardown(stopAllRedis)

interface NodeLine { id: string; port: number; flags: string[]; masterId: string }

async function clusterNodes (node: RedisServer): Promise<NodeLine[]> {
  const reply = await node.command('CLUSTER', 'NODES')
  return reply.split('\n').filter((line) => /^[0-9a-f]{40} /.test(line)).map((line) => {
    const [id, address, flags, masterId] = line.split(' ')
    return { id: id as string, port: Number(/:(\d+)@/.exec(address as string)?.[1]), flags: (flags as string).split(','), masterId: masterId as string }
  })
}

async function requestCounters (node: RedisServer): Promise<string[]> {
  const reply = await node.command('KEYS', '*frr-rate-limit*:k*')
  return reply.split('\r\n').filter((line) => line.includes('frr-rate-limit') && !line.startsWith('*'))
}

t.test('a cluster master killed under load: every request answered, counting goes on once its replica is promoted', async (t) => {
  const cluster = await startCluster(SECRET)
  t.teardown(() => cluster.stop())
  const built = await buildApp({ env: { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PASSWORD: SECRET }, rateLimit: { max: 1000, timeWindow: 60_000, keyGenerator: (request) => String(request.headers['x-key']) } })
  t.teardown(() => built.app.close())
  let stop = false
  const load = runLoad(built.app, { total: 200_000, concurrency: 20, stop: () => stop, request: (i) => ({ url: '/plain', headers: { 'x-key': `k${i}` } }) })
  await sleep(1000)

  // The master holding the most counters goes, and its replica is watched.
  const byPort = new Map(cluster.nodes.map((node) => [node.port, node]))
  const nodes = await clusterNodes(cluster.nodes[0] as RedisServer)
  const masters = nodes.filter((n) => n.flags.includes('master'))
  const held = await Promise.all(masters.map(async (m) => (await requestCounters(byPort.get(m.port) as RedisServer)).length))
  const victim = masters[held.indexOf(Math.max(...held))] as NodeLine
  const heir = nodes.find((n) => n.masterId === victim.id) as NodeLine
  const victimServer = byPort.get(victim.port) as RedisServer
  const heirServer = byPort.get(heir.port) as RedisServer
  const survivor = byPort.get(masters.find((m) => m !== victim)?.port as number) as RedisServer
  const heirWrites = await watchWrites(heir.port, SECRET)
  t.teardown(() => { heirWrites.stop() })
  await victimServer.kill()
  const killedAt = Date.now()

  let promotedAt = 0
  t.ok(await waitFor(async () => {
    const view = await clusterNodes(survivor)
    promotedAt = Date.now()
    return view.find((n) => n.id === heir.id)?.flags.includes('master') === true
  }, 30_000), 'the cluster promoted the replica')
  t.ok(await waitFor(async () => (await built.app.redisHealth()).rateLimit.mode === 'redis' && heirWrites.writes.some((w) => w.at >= promotedAt), 30_000), 'counting in Redis again, on the promoted replica')
  await sleep(1000)
  stop = true
  const result = await load
  const resumedAt = heirWrites.writes.find((w) => w.at >= promotedAt)?.at as number
  t.comment(`promoted ${promotedAt - killedAt} ms after the kill; first count there ${resumedAt - promotedAt} ms after the promotion was seen`)
  t.equal(result.count(200), result.samples.length, `every request answered (${result.samples.length})`)

  const living = (await clusterNodes(survivor)).filter((n) => n.flags.includes('master') && !n.flags.includes('fail'))
  t.equal(living.length, 3, 'three masters again')
  const counted = new Set<string>()
  for (const m of living) for (const key of await requestCounters(byPort.get(m.port) as RedisServer)) counted.add(key)
  const report = (await built.app.redisHealth()).rateLimit as RateLimitReport
  t.ok(report.decisionsOutsideRedis > 0, 'in memory while the slots had no master')
  // A write the kill cut before it reached the replica is gone with the master: at most the call in flight.
  // A decision made in memory after its call was sent (it did not answer within decisionTimeout on a
  // busy machine, or its connection went before the reply) may have been counted by Redis too.
  const sent = report.decisionsAfterTimeout + report.decisionsAfterError
  const missing = result.samples.length - counted.size - report.decisionsOutsideRedis
  t.ok(missing >= -sent && missing <= 20 + 1, `each request decided once, in Redis (${counted.size}) or in memory (${report.decisionsOutsideRedis}, ${sent} after their call was sent); ${missing} lost with the killed master`)
  // The killed master had one line of its own; once the cluster moved its slots, one more, and the health report is whole again.
  const victimAddress = `127.0.0.1:${victim.port}`
  t.ok(await waitFor(() => built.pluginLogs().some((line) => line.redisNode === victimAddress && line.redisNodeState === 'gone'), 30_000), 'a line once its slots moved to the promoted replica')
  t.match(built.pluginLogs().filter((line) => line.redisNode !== undefined), [
    { redisNode: victimAddress, redisNodeState: 'down', level: 40, msg: /^Redis "default": cluster master 127\.0\.0\.1:\d+ is unavailable \((refused|connection-lost|hanging)\)/ },
    { redisNode: victimAddress, redisNodeState: 'gone', msg: /is no longer in the cluster's slot map: its slots are served by another master now$/ },
  ])
  t.equal(built.pluginLogs().filter((line) => line.redisNode !== undefined).length, 2, 'two master lines in all')
  t.equal((await built.app.redisHealth()).clients.default?.failure, undefined, 'no master missing in the health report')
  const modeLines = built.pluginLogs().filter((line) => line.rateLimitMode !== undefined)
  t.ok(modeLines.length <= 6, `a few mode lines, no storm (${modeLines.map((l) => String(l.msg)).join(' | ')})`)
  t.notOk(built.logText().includes(SECRET))
})
