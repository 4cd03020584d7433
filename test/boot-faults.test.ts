// Boot under every fault of DESIGN.md's list: registration finishes within the
// bound, the app serves what does not need Redis, Redis routes answer 503, the
// health report is not `up`, one log line names the problem, no password shows.
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { BOOT_BOUND_MS, buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'
import type { Env } from '../src/index.js'

const SECRET = 'S3cret-Pa55word!'

t.teardown(stopAllRedis)

async function assertDegradedBoot (t: Test, test: TestApp, failure: string): Promise<void> {
  const { app } = test
  t.ok(test.bootMs < BOOT_BOUND_MS, `boot did not wait on Redis (${Math.round(test.bootMs)} ms)`)

  const plain = await app.inject('/plain')
  t.equal(plain.statusCode, 200, 'a route without Redis answers 200')

  const redis = await app.inject('/redis')
  t.equal(redis.statusCode, 503, 'a Redis route answers 503')
  t.equal(redis.headers['retry-after'], '1')
  t.same(redis.json(), { statusCode: 503, code: 'FRR_ERR_REDIS_UNAVAILABLE', error: 'Service Unavailable', message: 'Redis is unavailable; try again shortly' })

  const health = await app.redisHealth()
  t.equal(health.status, 'down')
  t.equal(health.clients.default?.state, 'down')
  t.equal(health.clients.default?.failure, failure)

  // Several reconnect attempts later, still the one line, not one per attempt.
  await sleep(1200)
  const downLines = test.connectionLogs().filter((line) => line.redisState === 'down')
  t.equal(downLines.length, 1, 'one log line for the outage')
  t.equal(downLines[0]?.redisFailure, failure)
  t.notOk(test.logText().includes(SECRET), 'no password in the logs')
  t.notOk(redis.body.includes(SECRET) || JSON.stringify(health).includes(SECRET), 'no password in responses')
}

t.test('refused: nothing listens on the port', async (t) => {
  const port = await freePort()
  const test = await buildApp({ env: { REDIS_PORT: String(port), REDIS_HOST: '127.0.0.1', REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  await assertDegradedBoot(t, test, 'refused')
  t.match(test.connectionLogs()[0]?.msg, /nothing accepts connections at 127\.0\.0\.1/)
})

t.test('hanging: the server is stopped (SIGSTOP)', async (t) => {
  const server = await startRedis({ password: SECRET })
  server.pause()
  t.teardown(() => server.kill())
  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${server.port}`, REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  await assertDegradedBoot(t, test, 'hanging')
})

t.test('hanging: a proxy that forwards nothing', async (t) => {
  const server = await startRedis({ password: SECRET })
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port })
  proxy.stall()
  t.teardown(async () => { await proxy.close(); await server.kill() })
  const test = await buildApp({ env: { REDIS_URL: proxy.url(SECRET) } })
  t.teardown(() => test.app.close())
  await assertDegradedBoot(t, test, 'hanging')
})

t.test('password missing', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${server.port}` } })
  t.teardown(() => test.app.close())
  await assertDegradedBoot(t, test, 'password-missing')
  t.match(test.connectionLogs()[0]?.msg, /set REDIS_PASSWORD/)
  t.equal(test.connectionLogs()[0]?.level, 50, 'an auth problem is logged as an error')
})

t.test('password wrong', async (t) => {
  const server = await startRedis({ password: 'the-real-one' })
  t.teardown(() => server.kill())
  const env: Env = { REDIS_URL: `redis://127.0.0.1:${server.port}`, REDIS_PASSWORD: SECRET }
  const test = await buildApp({ env })
  t.teardown(() => test.app.close())
  await assertDegradedBoot(t, test, 'password-wrong')
  t.match(test.connectionLogs()[0]?.msg, /rejected the password from REDIS_PASSWORD: set REDIS_PASSWORD to the server's password \(its requirepass\)\. Requests go on without it\.$/)
})

t.test('password sent to a server that has none', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.kill())
  const test = await buildApp({ env: { REDIS_URL: `redis://:${encodeURIComponent(SECRET)}@127.0.0.1:${server.port}` } })
  t.teardown(() => test.app.close())
  await assertDegradedBoot(t, test, 'password-not-required')
  t.match(test.connectionLogs()[0]?.msg, /anyone who reaches it can use it/)
})

t.test('host name that does not resolve', async (t) => {
  const test = await buildApp({ env: { REDIS_HOST: 'nonexistent.invalid', REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  await assertDegradedBoot(t, test, 'dns')
})

t.test('healthy: ready for the first request, one "connected" line', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  await server.command('SET', 'frr:test', 'hello')
  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${server.port}`, REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  const res = await test.app.inject('/redis')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { value: 'hello' })
  t.equal((await test.app.redisHealth()).status, 'up')
  t.same(test.connectionLogs().map((line) => line.redisState), ['ready'])
  t.notOk(test.logText().includes(SECRET))
})

t.test('a failure that changes while Redis is down is logged once more', async (t) => {
  const port = await freePort()
  const test = await buildApp({ env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port), REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  const server = await startRedis({ port, password: 'another-password' })
  t.teardown(() => server.kill())
  t.ok(await waitFor(async () => (await test.app.redisHealth()).clients.default?.failure === 'password-wrong', EVENTUALLY_MS), 'now rejected')
  const lines = test.connectionLogs()
  t.same(lines.map((line) => line.redisFailure), ['refused', 'password-wrong'])
  t.match(lines[1]?.msg, /is still unavailable \(password-wrong\)/)
  t.notOk(test.logText().includes(SECRET) || test.logText().includes('another-password'))
})
