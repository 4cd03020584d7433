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
import { settleWithin, stateLinesByClient, throughFault, trackUnhandled } from './helpers/outage.js'

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

async function client (t: Test, url: string): Promise<{ socket: ClientSocket; received: string[]; receivedAt: Map<string, number> }> {
  const socket = connectClient(url, { transports: ['websocket'], reconnection: true })
  t.teardown(() => { socket.disconnect() })
  const received: string[] = []
  const receivedAt = new Map<string, number>()
  socket.on('news', (message: string) => {
    received.push(message)
    receivedAt.set(message, Date.now())
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  return { socket, received, receivedAt }
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

interface EmitRun {
  /** Date.now() before the fault was made, and once Redis answered again. */
  faultAt: number
  healedAt: number
  /** ms from healedAt until the first message emitted after it reached the client on B. */
  firstMs: number | undefined
  /** ms from healedAt until the first message that arrived after it, whenever emitted. */
  firstArrivalMs: number | undefined
}

/**
 * Server A emits every 100 ms to a client of server B; `fault` for OUTAGE_MS, then `heal`. Checks what
 * every outage must show: no unhandled rejection, messages through again after the heal (all of them from
 * the first that came through), none twice, both adapters subscribed, a few log lines, no password.
 */
async function emitThroughOutage (t: Test, server: RedisServer, fault: () => Promise<void> | void, heal: () => Promise<void> | void): Promise<EmitRun & { a: Node; b: Node }> {
  const unhandled = trackUnhandled(t)
  const a = await node(t, server)
  const b = await node(t, server)
  const { received, receivedAt } = await client(t, b.base)
  t.ok(await waitFor(() => bothSubscribed(server), EVENTUALLY_MS), 'both adapters subscribed')

  let n = 0
  const emitted: Array<{ message: string; at: number }> = []
  const timer = setInterval(() => {
    const message = `m${n++}`
    emitted.push({ message, at: Date.now() })
    a.io.emit('news', message)
  }, 100)
  t.teardown(() => { clearInterval(timer) })
  const { faultAt, healedAt } = await throughFault(fault, heal, OUTAGE_MS)
  // Pub/sub keeps nothing: what is published while a subscriber is away is gone. What counts is
  // that a message emitted after the heal arrives.
  const arrivedAfterHeal = (): { message: string; at: number } | undefined => emitted.find((e) => e.at >= healedAt && received.includes(e.message))
  t.ok(await waitFor(() => arrivedAfterHeal() !== undefined, EVENTUALLY_MS), 'a message emitted after Redis is back reaches the client on B')
  const first = arrivedAfterHeal()
  const firstMs = first === undefined ? undefined : (receivedAt.get(first.message) as number) - healedAt
  const arrivals = [...receivedAt.values()].filter((at) => at >= healedAt)
  const firstArrivalMs = arrivals.length === 0 ? undefined : Math.min(...arrivals) - healedAt
  t.comment(`measured: the first message emitted after Redis was back arrived ${String(firstMs)} ms after it (emitted ${String(first === undefined ? undefined : first.at - healedAt)} ms after it); the first to arrive at all after it: ${String(firstArrivalMs)} ms`)
  t.ok(firstMs !== undefined && firstMs < 5000, `through again ${String(firstMs)} ms after Redis was back (generous bound: a reconnect and resubscribe take well under a second)`)
  await sleep(500)
  clearInterval(timer)
  const stoppedAt = Date.now()
  await sleep(300)

  t.same(unhandled.map(String), [], 'no unhandled rejection (the adapter publishes without awaiting)')
  const before = emitted.filter((e) => e.at < faultAt)
  const during = emitted.filter((e) => e.at >= faultAt && e.at < healedAt)
  const after = emitted.filter((e) => e.at >= (first?.at ?? Infinity) && e.at < stoppedAt)
  t.same(before.filter((e) => !received.includes(e.message)).map((e) => e.message), [], `every one of the ${before.length} messages emitted before the fault arrived`)
  t.same(after.filter((e) => !received.includes(e.message)).map((e) => e.message), [], `and every one of the ${after.length} emitted from the first that came through after Redis was back`)
  t.comment(`emitted during the outage: ${during.length}, of which arrived: ${during.filter((e) => received.includes(e.message)).length}`)
  t.equal(new Set(received).size, received.length, 'none twice')
  t.ok(await bothSubscribed(server), 'both adapters subscribed again')
  for (const [name, app] of [['A', a], ['B', b]] as const) {
    t.notOk(app.logText().includes(SECRET), `${name}: no password in the log`)
  }
  return { faultAt, healedAt, firstMs, firstArrivalMs, a, b }
}

t.test('Redis killed for 5 s while server A emits every 100 ms, then restarted: broadcasts resume', async (t) => {
  const server = await startRedis({ password: SECRET })
  const { a, b, faultAt } = await emitThroughOutage(t, server, () => server.kill(), () => server.restart())
  for (const [name, app] of [['A', a], ['B', b]] as const) {
    const lines = stateLinesByClient(app.connectionLogs(), faultAt)
    t.comment(`${name}: state lines since the kill: ${JSON.stringify(lines)}`)
    for (const connection of ['default', 'channels', 'channels.1']) {
      const mine = lines[connection] ?? []
      t.ok(mine.length >= 2 && mine.length <= 4, `${name} ${connection}: a few state lines (${mine.join(', ')})`)
      t.equal(mine.at(-1), 'ready', `${name} ${connection} says it is back`)
    }
  }
  await server.kill()
})

t.test('Redis stopped (SIGSTOP) for 5 s while server A emits every 100 ms, then resumed: broadcasts resume', async (t) => {
  const server = await startRedis({ password: SECRET })
  const { a, b, faultAt } = await emitThroughOutage(t, server, () => { server.pause() }, () => { server.resume() })
  for (const [name, app] of [['A', a], ['B', b]] as const) {
    const lines = stateLinesByClient(app.connectionLogs(), faultAt)
    t.comment(`${name}: state lines since the stop: ${JSON.stringify(lines)}`)
    // A's publisher times out and is dropped; an idle connection (B's publisher, both subscribers,
    // the default clients) has nothing in flight to notice a stopped server by, and may stay up.
    for (const connection of ['default', 'channels', 'channels.1']) {
      const mine = lines[connection] ?? []
      t.ok(mine.length <= 4, `${name} ${connection}: at most a few state lines (${mine.join(', ')})`)
      if (mine.length > 0) t.equal(mine.at(-1), 'ready', `${name} ${connection} says it is back`)
    }
  }
  t.ok((stateLinesByClient(a.connectionLogs(), faultAt).channels ?? []).includes('down:hanging'), 'A\'s publisher saw the server hanging')
  await server.kill()
})
