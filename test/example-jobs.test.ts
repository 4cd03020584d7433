// The example app's queue (BullMQ) and live notifications (pub/sub over
// server-sent events), over real HTTP against a real redis-server: across two
// instances, and through a killed-then-restarted and a stopped-then-resumed
// Redis. app.js imports the package by its public name (dist/: npm test
// builds first).
import t, { type Test } from 'tap'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { captureLogs, EVENTUALLY_MS } from './helpers/app.js'
import { openEventStream, type EventStream, type StreamEvent } from './helpers/event-stream.js'
import { settleWithin, stateLinesByClient, trackUnhandled } from './helpers/outage.js'
import { startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'

const SECRET = 'Ex4mple-J0bs-Secret'
// Far above one command timeout (500 ms) plus the limiter's decision timeout (100 ms): only a
// route that waits for Redis to come back (or forever) reaches it.
const REQUEST_BOUND_MS = 10_000
const OUTAGE_MS = 3000

interface ExampleModule {
  buildApp: (opts?: { env?: Record<string, string | undefined>; logger?: unknown }) => Promise<FastifyInstance>
}
const { buildApp } = (await import(new URL('../examples/docs-app/app.js', import.meta.url).href)) as ExampleModule

t.teardown(stopAllRedis)

interface Instance {
  app: FastifyInstance
  base: string
  logs: Array<Record<string, unknown>>
  logText: () => string
  post: (path: string, body: unknown) => Promise<{ status: number; body: Record<string, unknown> }>
  get: (path: string) => Promise<{ status: number; body: Record<string, unknown> }>
  stream: () => Promise<EventStream>
}

async function instance (t: Test, server: RedisServer): Promise<Instance> {
  const url = (db: number): string => `redis://127.0.0.1:${server.port}/${db}`
  const env = { REDIS_URL: url(0), REDIS_CACHE_URL: url(1), REDIS_QUEUE_URL: url(2), REDIS_CHANNELS_URL: url(0), REDIS_PASSWORD: SECRET }
  const { stream, logs, logText } = captureLogs()
  const app = await buildApp({ env, logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const answer = async (res: Response): Promise<{ status: number; body: Record<string, unknown> }> => ({ status: res.status, body: await res.json() as Record<string, unknown> })
  return {
    app,
    base,
    logs,
    logText,
    post: async (path, body) => answer(await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_BOUND_MS),
    })),
    get: async (path) => answer(await fetch(base + path, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) })),
    stream: async () => {
      const events = await openEventStream(`${base}/notifications`, REQUEST_BOUND_MS)
      t.teardown(events.close)
      return events
    },
  }
}

const data = (event: StreamEvent | undefined): Record<string, unknown> => JSON.parse(event?.data ?? '{}') as Record<string, unknown>
const isReport = (id: unknown) => (e: StreamEvent): boolean => e.event === 'notification' && data(e).reportId === id
const isStatus = (live: boolean) => (e: StreamEvent): boolean => e.event === 'status' && data(e).live === live

/** Orders reports until one is accepted (Redis back, the producer reconnected); its id and when. */
async function orderUntilAccepted (ex: Instance, productIds = [7]): Promise<{ id: unknown; at: number } | undefined> {
  const deadline = Date.now() + EVENTUALLY_MS
  while (Date.now() < deadline) {
    const res = await ex.post('/reports', { productIds })
    if (res.status === 202) return { id: res.body.id, at: Date.now() }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return undefined
}

t.test('two instances: a report ordered on one is built and announced on both event streams', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  const a = await instance(t, server)
  const b = await instance(t, server)
  const streamA = await a.stream()
  const streamB = await b.stream()
  t.equal(streamA.status, 200)
  t.match(streamA.contentType, /^text\/event-stream/)
  t.ok(await streamA.next(isStatus(true), EVENTUALLY_MS), 'the stream says it is live')
  t.ok(await streamB.next(isStatus(true), EVENTUALLY_MS))

  const ordered = await a.post('/reports', { productIds: [1, 2, 42] })
  t.equal(ordered.status, 202, 'accepted at once')
  const ready = await streamB.next(isReport(ordered.body.id), EVENTUALLY_MS)
  t.match(data(ready), { type: 'report-ready', products: 3, totalCents: Number })
  t.ok(await streamA.next(isReport(ordered.body.id), EVENTUALLY_MS), 'both instances announce it')
  const state = await b.get(`/reports/${String(ordered.body.id)}`)
  t.same(state, { status: 200, body: { id: ordered.body.id, state: 'completed', result: { products: 3, totalCents: data(ready).totalCents } } }, 'either instance reads it')
  t.equal((await a.get('/reports/999999')).status, 404)

  const published = await b.post('/notifications', { message: 'hello' })
  t.same(published, { status: 200, body: { listeners: 2 } }, 'both instances are subscribed')
  t.ok(await streamA.next((e) => data(e).message === 'hello', EVENTUALLY_MS), 'a message reaches the other instance')
  t.notOk(a.logText().includes(SECRET) || b.logText().includes(SECRET), 'no password in the logs')
})

for (const fault of ['killed, then restarted empty', 'stopped (SIGSTOP), then resumed'] as const) {
  t.test(`Redis ${fault}: routes answer 503, streams stay open, reports and notifications resume`, async (t) => {
    const unhandled = trackUnhandled(t)
    const server = await startRedis({ password: SECRET })
    t.teardown(() => server.kill())
    const ex = await instance(t, server)
    const events = await ex.stream()
    t.ok(await events.next(isStatus(true), EVENTUALLY_MS), 'live before the fault')
    // A report accepted just before a stop must still be built after it. (On a busy machine the
    // producer may still be connecting when the stream is live: ordered until accepted.)
    const before = await orderUntilAccepted(ex, [3])
    t.ok(before, 'a report accepted before the fault')
    const killed = fault.startsWith('killed')
    const faultAt = Date.now()
    const atFault = events.events.length
    if (killed) await server.kill()
    else server.pause()

    // A stopped server is found out by the subscriber's heartbeat (within 2.5 s), a killed one at once.
    if (killed) t.ok(await events.next(isStatus(false), EVENTUALLY_MS, atFault), 'the stream says notifications paused')
    for (const [path, body] of [['/reports', { productIds: [1] }], ['/notifications', { message: 'lost' }]] as const) {
      const res = await ex.post(path, body)
      t.equal(res.status, 503, `POST ${path}: 503 while Redis is ${killed ? 'down' : 'hanging'}`)
    }
    t.equal((await ex.get('/reports/1')).status, 503)
    t.equal(events.ended, false, 'the stream stays open')
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))

    const from = events.events.length
    const backAt = Date.now()
    if (killed) await server.restart()
    else server.resume()
    if (events.events.slice(atFault).some(isStatus(false))) t.ok(await events.next(isStatus(true), EVENTUALLY_MS, from), 'the stream says notifications resumed')
    const order = await orderUntilAccepted(ex)
    t.ok(order, 'reports are accepted again')
    const ready = await events.next(isReport(order?.id), EVENTUALLY_MS, from)
    t.ok(ready, 'and announced on the stream that stayed open')
    t.comment(`report ordered ${String((order?.at ?? 0) - backAt)} ms and announced ${String((ready?.at ?? 0) - backAt)} ms after Redis answered again`)
    if (!killed) t.equal((await ex.get(`/reports/${String(before?.id)}`)).body.state, 'completed', 'the report accepted before the stop was built')

    t.same(unhandled.filter((reason) => !(reason instanceof Error && /Connection is closed|Stream isn't writeable|Command timed out/.test(reason.message))), [], 'no unhandled rejection but Redis-unavailable ones')
    for (const [client, lines] of Object.entries(stateLinesByClient(ex.logs, faultAt))) {
      t.ok(lines.length <= 2, `${client}: one line down, one back (${lines.join(', ')})`)
    }
    t.notOk(ex.logText().includes(SECRET), 'no password in the log')
  })
}

t.test('closing with an event stream open and Redis down: the stream ends, the app closes', async (t) => {
  const server = await startRedis({ password: SECRET })
  const ex = await instance(t, server)
  const events = await ex.stream()
  await server.kill()
  t.ok(await events.next(isStatus(false), EVENTUALLY_MS))
  const closed = await settleWithin(ex.app.close().then(() => true), EVENTUALLY_MS)
  t.equal(closed, true, 'app.close() finished')
  t.ok(await events.next(() => false, EVENTUALLY_MS).then(() => events.ended), 'the stream ended')
})
