// @socket.io/redis-adapter against a real redis-server, written as its README
// writes it: pubClient = a client of role 'subscriber', subClient =
// pubClient.duplicate(), createAdapter(pubClient, subClient). Two Fastify
// apps, each with its socket.io server; a socket.io client on server B gets
// what server A broadcasts, and again after Redis was killed and restarted.
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { createAdapter } from '@socket.io/redis-adapter'
import type { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { settleWithin, stateLinesByClient, trackUnhandled } from './helpers/outage.js'

const SECRET = 'Sock-Secret-3Wq'
const OUTAGE_MS = 5000

t.teardown(stopAllRedis)

interface Node extends TestApp {
  io: Server
  base: string
  pubClient: Redis
  subClient: Redis
}

/** A Fastify app with the plugin and a socket.io server on the Redis adapter, listening on 127.0.0.1. */
async function node (t: Test, server: RedisServer): Promise<Node> {
  const built = await buildApp({ url: server.url, rateLimit: false, clients: { channels: { role: 'subscriber' } } })
  // The user code the issue pins (README of @socket.io/redis-adapter, with ioredis).
  const pubClient = built.app.redis.channels as Redis
  const subClient = pubClient.duplicate()
  const io = new Server(built.app.server, { adapter: createAdapter(pubClient, subClient) })
  t.teardown(async () => {
    io.disconnectSockets(true)
    await built.app.close()
    // The HTTP server is closed by now: io.close() only ends the engine and the adapter.
    await settleWithin(new Promise<void>((resolve) => { void io.close(() => { resolve() }) }), 2000)
  })
  const base = await built.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...built, io, base, pubClient, subClient }
}

async function client (t: Test, url: string): Promise<{ socket: ClientSocket; received: string[] }> {
  const socket = connectClient(url, { transports: ['websocket'], reconnection: true })
  t.teardown(() => { socket.disconnect() })
  const received: string[] = []
  socket.on('news', (message: string) => { received.push(message) })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  return { socket, received }
}

/** Both servers' adapters subscribed: two connections with the PSUBSCRIBE socket.io#/#* of broadcasts. */
async function bothSubscribed (server: RedisServer): Promise<boolean> {
  const list = await server.command('CLIENT', 'LIST', 'TYPE', 'pubsub').catch(() => '')
  return (list.match(/ psub=1 /g) ?? []).length === 2
}

/** Captures console.warn/error (the adapter warns there about a client without an error listener). */
function captureConsole (t: Test): string[] {
  const lines: string[] = []
  const { warn, error } = console
  console.warn = (...args: unknown[]) => { lines.push(args.map(String).join(' ')) }
  console.error = (...args: unknown[]) => { lines.push(args.map(String).join(' ')) }
  t.teardown(() => {
    console.warn = warn
    console.error = error
  })
  return lines
}

t.test('healthy: a broadcast emitted on server A reaches a client of server B', async (t) => {
  const server = await startRedis({ password: SECRET })
  const consoleLines = captureConsole(t)
  const a = await node(t, server)
  const b = await node(t, server)
  const { received } = await client(t, b.base)
  t.ok(await waitFor(() => bothSubscribed(server), EVENTUALLY_MS), 'both adapters subscribed, the subscriber made straight after duplicate() included')
  a.io.emit('news', 'hello')
  t.ok(await waitFor(() => received.includes('hello'), EVENTUALLY_MS), 'the client on B got it')
  await sleep(100)
  t.same(received, ['hello'], 'once')
  for (const app of [a, b]) {
    t.same(app.connectionLogs().map((line) => `${String(line.redisClient)}:${String(line.redisState)}`).sort(), ['channels.1:ready', 'channels:ready', 'default:ready'], 'each connection watched: one "connected" line each, the duplicate included')
    t.same(app.pluginLogs().filter((line) => Number(line.level) >= 40).map((line) => line.msg), [], 'no plugin line at warn or error')
    t.notOk(app.logText().includes(SECRET), 'no password in the log')
    const health = await app.app.redisHealth()
    t.same(Object.fromEntries(Object.entries(health.clients).map(([name, c]) => [name, c.state])), { default: 'ready', channels: 'ready', 'channels.1': 'ready' }, 'the health report lists the duplicate, ready (a PING works in subscriber mode)')
    t.equal(health.status, 'up')
  }
  t.same(consoleLines, [], 'nothing on the console (no "missing \'error\' handler")')
  await server.kill()
})

t.test('Redis killed for 5 s while server A emits every 100 ms, then restarted: broadcasts resume', async (t) => {
  const server = await startRedis({ password: SECRET })
  const unhandled = trackUnhandled(t)
  const a = await node(t, server)
  const b = await node(t, server)
  const { received } = await client(t, b.base)
  t.ok(await waitFor(() => bothSubscribed(server), EVENTUALLY_MS), 'both adapters subscribed')

  let n = 0
  const emitted: Array<{ message: string; at: number }> = []
  const timer = setInterval(() => {
    const message = `m${n++}`
    emitted.push({ message, at: Date.now() })
    a.io.emit('news', message)
  }, 100)
  t.teardown(() => { clearInterval(timer) })
  await sleep(1000)
  const killedAt = Date.now()
  await server.kill()
  await sleep(OUTAGE_MS)
  await server.restart()
  const restartedAt = Date.now()
  // Pub/sub keeps nothing: what is published while a subscriber is away is gone. What counts is
  // that a message emitted after the restart arrives.
  const arrivedAfterRestart = (): { message: string; at: number } | undefined => emitted.find((e) => e.at >= restartedAt && received.includes(e.message))
  t.ok(await waitFor(() => arrivedAfterRestart() !== undefined, EVENTUALLY_MS), 'a message emitted after the restart reaches the client on B')
  const first = arrivedAfterRestart()
  t.comment(`measured: the first message to arrive after the restart was emitted ${String(first === undefined ? undefined : first.at - restartedAt)} ms after it`)
  await sleep(500)
  clearInterval(timer)
  const stoppedAt = Date.now()
  await sleep(300)

  t.same(unhandled.map(String), [], 'no unhandled rejection (the adapter publishes without awaiting)')
  const before = emitted.filter((e) => e.at < killedAt)
  const during = emitted.filter((e) => e.at >= killedAt && e.at < restartedAt)
  const after = emitted.filter((e) => e.at >= (first?.at ?? Infinity) && e.at < stoppedAt)
  t.same(before.filter((e) => !received.includes(e.message)).map((e) => e.message), [], `every one of the ${before.length} messages emitted before the kill arrived`)
  t.same(after.filter((e) => !received.includes(e.message)).map((e) => e.message), [], `and every one of the ${after.length} emitted from the first that came through after the restart`)
  t.comment(`emitted while Redis was down: ${during.length}, of which arrived: ${during.filter((e) => received.includes(e.message)).length}`)
  t.equal(new Set(received).size, received.length, 'none twice')
  t.ok(await bothSubscribed(server), 'both adapters subscribed again')

  for (const [name, app] of [['A', a], ['B', b]] as const) {
    const lines = stateLinesByClient(app.connectionLogs(), killedAt)
    t.comment(`${name}: state lines since the kill: ${JSON.stringify(lines)}`)
    for (const connection of ['default', 'channels', 'channels.1']) {
      const mine = lines[connection] ?? []
      t.ok(mine.length >= 2 && mine.length <= 4, `${name} ${connection}: a few state lines (${mine.join(', ')})`)
      t.equal(mine.at(-1), 'ready', `${name} ${connection} says it is back`)
    }
    t.notOk(app.logText().includes(SECRET), `${name}: no password in the log`)
  }
  await server.kill()
})
