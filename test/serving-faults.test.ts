// Faults that strike while the app is serving: what a Redis route gets, how
// long it waits, what the log says, and that Redis is used again afterwards.
import t, { type Test } from 'tap'
import diagnosticsChannel from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'
import { CONNECTION_CHANNEL } from '../src/index.js'

const SECRET = 'S3cret-Pa55word!'
// A request waits at most one command timeout (500 ms). The bug this catches is a request that
// waits for Redis to come back (the status quo: ~73 s in ioredis's offline queue, or forever on a
// hanging server), so it is far above that timeout: no busy machine reaches it.
const REQUEST_BOUND_MS = 10_000

t.teardown(stopAllRedis)

async function timedInject (test: TestApp, url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now()
  const res = await test.app.inject(url)
  return { status: res.statusCode, ms: performance.now() - started }
}

async function servedFromRedis (test: TestApp): Promise<boolean> {
  return (await test.app.inject('/redis')).statusCode === 200
}

async function healthyApp (t: Test, server: RedisServer, url = `redis://127.0.0.1:${server.port}`, commandTimeout?: number): Promise<TestApp> {
  const test = await buildApp({ env: { REDIS_URL: url, REDIS_PASSWORD: SECRET }, ...(commandTimeout === undefined ? {} : { commandTimeout }) })
  t.teardown(() => test.app.close())
  t.equal((await test.app.inject('/redis')).statusCode, 200, 'served from Redis before the fault')
  return test
}

function states (test: TestApp): unknown[] {
  return test.connectionLogs().map((line) => `${String(line.redisState)}${line.redisFailure === undefined ? '' : `:${String(line.redisFailure)}`}`)
}

t.test('killed, then restarted empty', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await healthyApp(t, server)
  const events: Array<{ client: string; state: { status: string; failure?: string } }> = []
  const onEvent = (event: unknown): void => { events.push(event as (typeof events)[number]) }
  diagnosticsChannel.subscribe(CONNECTION_CHANNEL, onEvent)
  t.teardown(() => { diagnosticsChannel.unsubscribe(CONNECTION_CHANNEL, onEvent) })
  await server.command('SET', 'frr:test', 'before')

  await server.kill()
  const during = await timedInject(test, '/redis')
  t.equal(during.status, 503)
  t.ok(during.ms < REQUEST_BOUND_MS, `503 after ${Math.round(during.ms)} ms`)
  t.equal((await test.app.inject('/plain')).statusCode, 200)
  t.ok(await waitFor(async () => (await test.app.redisHealth()).clients.default?.failure === 'refused', EVENTUALLY_MS), 'health names the failure')

  await server.restart()
  t.ok(await waitFor(() => servedFromRedis(test), EVENTUALLY_MS), 'served from Redis again')
  t.same((await test.app.inject('/redis')).json(), { value: null }, 'the restarted server is empty')
  t.same(states(test), ['ready', 'down:refused', 'ready'], 'one line when lost, one when back')
  const seen = events.map((e) => `${e.client}:${e.state.status}${e.state.failure === undefined ? '' : `:${e.state.failure}`}`)
  t.same([...new Set(seen)], ['default:down:connection-lost', 'default:down:refused', 'default:ready'], 'diagnostics events follow every state change')
  t.match(test.connectionLogs()[1]?.msg, /was lost \(refused\)/)
  t.match(test.connectionLogs()[2]?.msg, /is back after/)
  t.notOk(test.logText().includes(SECRET))
})

t.test('stopped (SIGSTOP) while serving, then resumed', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await healthyApp(t, server)
  server.pause()
  const during = await timedInject(test, '/redis')
  t.equal(during.status, 503)
  t.ok(during.ms < REQUEST_BOUND_MS, `503 after ${Math.round(during.ms)} ms`)
  // Health answers quickly although the server hangs.
  const healthStarted = performance.now()
  const health = await test.app.redisHealth()
  t.ok(performance.now() - healthStarted < REQUEST_BOUND_MS, `health answers although the server hangs (${Math.round(performance.now() - healthStarted)} ms)`)
  t.not(health.status, 'up')

  server.resume()
  t.ok(await waitFor(() => servedFromRedis(test), EVENTUALLY_MS), 'served from Redis again')
  t.notOk(test.logText().includes(SECRET))
})

t.test('network stalls mid-connection (proxy stops forwarding), then heals', async (t) => {
  const server = await startRedis({ password: SECRET })
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port })
  t.teardown(() => proxy.close())
  const test = await healthyApp(t, server, proxy.url())
  proxy.stall()
  const during = await timedInject(test, '/redis')
  t.equal(during.status, 503)
  t.ok(during.ms < REQUEST_BOUND_MS, `503 after ${Math.round(during.ms)} ms`)
  t.ok(await waitFor(async () => (await test.app.redisHealth()).clients.default?.failure === 'hanging', EVENTUALLY_MS), 'the outage is classified as hanging')

  proxy.unstall()
  t.ok(await waitFor(() => servedFromRedis(test), EVENTUALLY_MS), 'served from Redis again')
  const down = test.connectionLogs().filter((line) => line.redisState === 'down')
  t.equal(down.length, 1, 'one line for the outage')
  t.equal(down[0]?.redisFailure, 'hanging')
})

t.test('restarted with another password, then with the right one', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await healthyApp(t, server)
  await server.restart({ password: 'rotated-password' })
  t.ok(await waitFor(async () => (await test.app.redisHealth()).clients.default?.failure === 'password-wrong', EVENTUALLY_MS), 'the rejected password is named')
  t.equal((await test.app.inject('/redis')).statusCode, 503)

  await server.restart({ password: SECRET })
  t.ok(await waitFor(() => servedFromRedis(test), EVENTUALLY_MS), 'served again once the password matches')
  t.notOk(test.logText().includes(SECRET))
  t.notOk(test.logText().includes('rotated-password'))
})

t.test('flapping: killed and restarted several times', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await healthyApp(t, server)
  for (let flap = 0; flap < 3; flap++) {
    await server.kill()
    await sleep(150)
    await server.restart()
    await sleep(150)
  }
  t.ok(await waitFor(() => servedFromRedis(test), EVENTUALLY_MS), 'served from Redis after the flapping')
  const lines = test.connectionLogs().length
  t.ok(lines <= 1 + 3 * 2, `at most two lines per flap (${lines})`)
  t.equal((await test.app.redisHealth()).status, 'up')
})

t.test('slow replies within the timeout are not an outage', async (t) => {
  const server = await startRedis({ password: SECRET })
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port })
  t.teardown(() => proxy.close())
  // Every reply comes 200 ms late (the proxy holds it: at least that, whatever the machine's load),
  // well within a command timeout that a busy machine's stalls cannot use up either.
  const test = await healthyApp(t, server, proxy.url(), 5000)
  proxy.delayReplies(200)
  const slow = await timedInject(test, '/redis')
  t.equal(slow.status, 200)
  t.ok(slow.ms >= 200, `waited for the slow server (${Math.round(slow.ms)} ms)`)
  t.same(states(test), ['ready'], 'no outage logged')
})
