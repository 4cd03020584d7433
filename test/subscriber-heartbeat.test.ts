// A subscribed connection whose network goes silent: nothing is pending on
// it, so only the subscriber heartbeat (a PING every 2 s under the role's
// socket timeout) can find out. Without it the client says ready forever
// and no message arrives again; with it the connection is dropped, made
// again, and subscribed again.
import t from 'tap'
import type { Redis } from 'ioredis'
import { buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'

const SECRET = 'Heartbeat-Secret-3x'

t.teardown(stopAllRedis)

t.test('a subscriber behind a network that goes silent is found out, reconnected and subscribed again', async (t) => {
  const server = await startRedis({ password: SECRET })
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port })
  t.teardown(() => proxy.close())
  // The subscriber goes through the proxy, the publisher straight to Redis.
  const built = await buildApp({ url: server.url, password: SECRET, rateLimit: false, clients: { channels: { role: 'subscriber', url: proxy.url() } } })
  const { app } = built
  t.teardown(() => app.close())
  const sub = (app.redis.channels as Redis).duplicate()
  const received: string[] = []
  sub.on('message', (_channel: string, message: string) => { received.push(message) })
  await sub.subscribe('news')
  await app.redis.publish('news', 'before')
  t.ok(await waitFor(() => received.includes('before'), EVENTUALLY_MS), 'subscribed')

  proxy.stall()
  // Nothing is sent to the subscriber meanwhile (no health report: its PING would find out too).
  const lostLine = () => built.connectionLogs().find((line) => line.redisClient === 'channels.1' && line.redisState === 'down')
  t.ok(await waitFor(() => lostLine() !== undefined, EVENTUALLY_MS), 'the silent connection is found out')
  t.equal(lostLine()?.redisFailure, 'hanging', 'logged as hanging')
  t.not((await app.redisHealth()).clients['channels.1']?.state, 'ready', 'and no longer reported ready')

  proxy.unstall()
  t.ok(await waitFor(async () => (await app.redisHealth()).clients['channels.1']?.state === 'ready', EVENTUALLY_MS), 'back')
  // Published until one arrives: the new connection subscribes again just after its ready.
  const arrived = await waitFor(async () => {
    await app.redis.publish('news', 'after')
    return received.includes('after')
  }, EVENTUALLY_MS)
  t.ok(arrived, 'messages arrive again on the new connection')
  const lines = built.connectionLogs().filter((line) => line.redisClient === 'channels.1').map((line) => line.redisState)
  t.same(lines, ['ready', 'down', 'ready'], 'one line per change')
  t.notOk(built.logText().includes(SECRET), 'no password in the log')
})

t.test('an idle subscriber on a healthy server stays connected: the heartbeat is answered', async (t) => {
  const server = await startRedis({ password: SECRET })
  const built = await buildApp({ url: server.url, password: SECRET, rateLimit: false, clients: { channels: { role: 'subscriber' } } })
  t.teardown(() => built.app.close())
  const sub = (built.app.redis.channels as Redis).duplicate()
  await sub.subscribe('news')
  const pings = async (): Promise<number> => Number(/cmdstat_ping:calls=(\d+)/.exec(await server.command('INFO', 'commandstats'))?.[1] ?? 0)
  const before = await pings()
  // Several heartbeats' worth of idle time.
  await new Promise((resolve) => setTimeout(resolve, 6000))
  const after = await pings()
  t.ok(after - before >= 2, `the subscriber PINGed while idle (${after - before} PINGs)`)
  t.same(built.connectionLogs().filter((line) => line.redisClient === 'channels.1').map((line) => line.redisState), ['ready'], 'never dropped')
})
