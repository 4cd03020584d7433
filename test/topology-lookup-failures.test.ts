// What a Sentinel or Cluster client finds when it cannot look its servers up, against real
// sentinels and a real cluster: ioredis words it "All sentinels are unreachable … Last error: X"
// or "Failed to refresh slots cache." (the last node's error kept aside), and the plugin classifies
// it by X: a wrong or missing sentinel password, sentinels stopped (SIGSTOP), sentinels killed,
// every cluster node killed. Asserts on the class in the health report and on the log lines.
import t from 'tap'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { stopAllRedis } from './helpers/redis-server.js'
import { startCluster, startSentinelSet } from './helpers/topologies.js'

const SECRET = 'S3cret-Lookup-Data-Pa55'
const SENTINEL_SECRET = 'S3cret-Lookup-Sentinel-Pa55'

t.teardown(stopAllRedis)

const set = await startSentinelSet(SECRET, { sentinelPassword: SENTINEL_SECRET })
t.teardown(() => set.stop())

async function failureOf (test: TestApp, expected: string): Promise<string | undefined> {
  await waitFor(async () => (await test.app.redisHealth()).clients.default?.failure === expected, EVENTUALLY_MS)
  return (await test.app.redisHealth()).clients.default?.failure
}

function downLines (test: TestApp): Array<Record<string, unknown>> {
  return test.connectionLogs().filter((line) => line.redisState === 'down')
}

t.test('a wrong sentinel password: password-wrong, one error line', async (t) => {
  const test = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET, REDIS_SENTINEL_PASSWORD: 'not-the-sentinels-password' } })
  t.teardown(() => test.app.close())
  t.equal(await failureOf(test, 'password-wrong'), 'password-wrong', 'classified by the WRONGPASS of the last sentinel')
  t.equal((await test.app.inject('/redis')).statusCode, 503)
  const lines = downLines(test)
  t.equal(lines.length, 1, 'one line, however many sentinels and retries')
  t.equal(lines[0]?.level, 50, 'at error level')
  t.match(String(lines[0]?.redisError), /^All sentinels are unreachable.*Last error: WRONGPASS/)
  t.notOk(test.logText().includes(SENTINEL_SECRET) || test.logText().includes('not-the-sentinels-password'), 'no password in the logs')
})

t.test('no password for sentinels that want one: password-missing', async (t) => {
  const test = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList } })
  t.teardown(() => test.app.close())
  t.equal(await failureOf(test, 'password-missing'), 'password-missing', 'classified by the NOAUTH of the last sentinel')
  t.equal(downLines(test).length, 1)
})

t.test('sentinels stopped (SIGSTOP): hanging', async (t) => {
  for (const sentinel of set.sentinels) sentinel.pause()
  t.teardown(() => { for (const sentinel of set.sentinels) sentinel.resume() })
  const test = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET, REDIS_SENTINEL_PASSWORD: SENTINEL_SECRET } })
  t.teardown(() => test.app.close())
  t.equal(await failureOf(test, 'hanging'), 'hanging', 'each sentinel timed out: the last error is a timeout')
  t.equal((await test.app.inject('/redis')).statusCode, 503)
})

t.test('sentinels killed: refused, not a lost connection', async (t) => {
  const test = await buildApp({ env: { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET, REDIS_SENTINEL_PASSWORD: SENTINEL_SECRET } })
  t.teardown(() => test.app.close())
  t.equal((await test.app.redisHealth()).status, 'up', 'served by the master the sentinels name')
  for (const sentinel of set.sentinels) await sentinel.kill()
  // Dropping the connection makes the client ask the (dead) sentinels again.
  await set.master.kill()
  t.equal(await failureOf(test, 'refused'), 'refused', 'classified by the last sentinel error, on a connection never made')
  const hint = (await test.app.redisHealth()).clients.default?.hint
  t.match(hint, /^nothing accepts connections at 127\.0\.0\.1:\d+: start Redis there, or correct the host and port \(they come from REDIS_SENTINELS\)/)
  t.equal((await test.app.inject('/redis')).statusCode, 503)
})

t.test('every cluster node killed: refused', async (t) => {
  const cluster = await startCluster(SECRET)
  t.teardown(() => cluster.stop())
  const test = await buildApp({ env: { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  t.equal((await test.app.redisHealth()).status, 'up')
  for (const node of cluster.nodes) await node.kill()
  t.equal(await failureOf(test, 'refused'), 'refused', `classified by the last node error (${(await test.app.redisHealth()).clients.default?.error})`)
  t.equal((await test.app.inject('/redis')).statusCode, 503)
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
})
