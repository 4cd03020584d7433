// An XREAD BLOCK consumer loop on a client of role 'blocking', as an app
// writes one (`XREAD BLOCK 2000 STREAMS s <last id>`, starting at `$`), with a
// route that adds entries through the fail-fast default client under a steady
// load, through Redis killed for 5 s and restarted empty, and through Redis
// stopped (SIGSTOP) for 5 s and resumed.
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { Redis } from 'ioredis'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { probeLatency, stateLinesByClient, steadyLoad, throughFault, trackUnhandled } from './helpers/outage.js'

const SECRET = 'Stream-Secret-4Hv'
const STREAM = 'frr:events'
const OUTAGE_MS = 5000
const REQUEST_BOUND_MS = 10_000

t.teardown(stopAllRedis)

interface Consumer {
  /** Entry numbers read, with Date.now() when their XREAD answered. */
  read: Map<number, number>
  /** Date.now() of every XREAD that answered (with entries or, after its 2 s, without). */
  answeredAt: number[]
  failures: string[]
  stop: () => Promise<void>
}

/** The loop an app writes: block up to 2 s for entries after the last one read; on an error, pause 50 ms and go on. */
function consume (client: Redis): Consumer {
  const read = new Map<number, number>()
  const answeredAt: number[] = []
  const failures: string[] = []
  let running = true
  let lastId = '$'
  const loop = (async () => {
    for (let turn = 0; running && turn < 5000; turn++) {
      try {
        const reply = await client.xread('BLOCK', 2000, 'STREAMS', STREAM, lastId)
        answeredAt.push(Date.now())
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          lastId = id
          read.set(Number(fields[1]), Date.now())
        }
      } catch (error) {
        failures.push((error as Error).message)
        await sleep(50)
      }
    }
  })()
  return { read, answeredAt, failures, stop: async () => { running = false; await loop } }
}

async function streamApp (t: Test, server: RedisServer): Promise<TestApp & { base: string }> {
  const built = await buildApp({ url: server.url, rateLimit: false, clients: { events: { role: 'blocking' } } }, (app) => {
    app.get('/health', async () => ({ ok: true }))
    app.post('/events', async (request) => ({ id: await app.redis.xadd(STREAM, '*', 'n', String((request.body as { n: number }).n)) }))
  })
  t.teardown(() => built.app.close())
  return { ...built, base: await built.app.listen({ host: '127.0.0.1', port: 0 }) }
}

/** The consumer running, entries added every 50 ms and /health probed throughout; `fault` for OUTAGE_MS, then `heal`. */
async function throughOutage (t: Test, server: RedisServer, fault: () => Promise<void> | void, heal: () => Promise<void> | void): Promise<void> {
  const unhandled = trackUnhandled(t)
  const built = await streamApp(t, server)
  const consumer = consume(built.app.redis.events as Redis)
  const add = (n: number, signal: AbortSignal): Promise<Response> => fetch(`${built.base}/events`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }), signal,
  })
  // The loop's first XREAD with `$` must be waiting before the first entry, or that entry is not "new" to it.
  t.ok(await waitFor(async () => (await server.command('CLIENT', 'LIST')).includes('cmd=xread'), EVENTUALLY_MS), 'the consumer is blocked in XREAD')
  const load = steadyLoad((n, signal) => add(n, signal), 50, REQUEST_BOUND_MS)
  const probe = probeLatency(`${built.base}/health`, 20)
  const { faultAt, healedAt } = await throughFault(fault, heal, OUTAGE_MS)
  const firstReadAfter = (): number | undefined => [...consumer.read.values()].filter((at) => at >= healedAt).sort((a, b) => a - b)[0]
  t.ok(await waitFor(() => firstReadAfter() !== undefined, EVENTUALLY_MS), 'the consumer reads entries again after Redis is back')
  const backMs = (firstReadAfter() as number) - healedAt
  await sleep(1000)
  const answers = await load.stop()
  const health = await probe.stop()
  // The last entries added, then the loop ends at its next answer (at most its 2 s block).
  await sleep(300)
  await consumer.stop()

  t.comment(`measured: first entry read ${backMs} ms after Redis answered again; /health max ${Math.round(health.maxMs)} ms over ${health.probes} probes, event loop delay max ${Math.round(health.maxEventLoopDelayMs)} ms; consumer errors ${consumer.failures.length} (${[...new Set(consumer.failures)].join(' | ')})`)
  t.ok(backMs < 5000, `reading again ${backMs} ms after Redis answered (generous bound: a reconnect takes well under a second)`)
  t.same(unhandled.map(String), [], 'no unhandled rejection')
  t.equal(health.failures, 0, '/health answered 200 every time')
  t.ok(health.maxMs < 1000, `/health stayed responsive: slowest ${Math.round(health.maxMs)} ms`)
  t.same(answers.filter((a) => a.status !== 200 && a.status !== 503).map((a) => `#${a.n} ${String(a.status)} ${a.body}`), [], 'every request answered, 200 or 503')
  t.ok(consumer.failures.every((message) => /Stream isn't writeable|Connection is closed|Command timed out|max retries per request/.test(message)), `the consumer saw the outage only as outage errors: ${[...new Set(consumer.failures)].join(' | ')}`)
  // Entries acknowledged before the fault and after the heal are all read (the cursor moves on from the
  // last id read; the restarted server's ids are later in time, so the old cursor still works on it).
  const accepted = answers.filter((a) => a.status === 200 && ((a.answeredAt as number) < faultAt || a.sentAt >= healedAt)).map((a) => a.n)
  t.same(accepted.filter((n) => !consumer.read.has(n)), [], `all ${accepted.length} entries added before the fault or after the heal were read`)

  const lines = stateLinesByClient(built.connectionLogs(), faultAt)
  t.comment(`state lines since the fault: ${JSON.stringify(lines)}`)
  for (const client of ['default', 'events']) {
    const mine = lines[client] ?? []
    t.ok(mine.length >= 2 && mine.length <= 4, `${client}: one line per state change (${mine.join(', ')})`)
    t.equal(mine.at(-1), 'ready', `${client} says it is back`)
  }
  const output = [built.logText(), ...answers.map((a) => a.body), ...consumer.failures].join('\n')
  t.notOk(output.includes(SECRET), 'no password in the log, the answers or the errors')
}

t.test('XREAD BLOCK consumer: Redis killed for 5 s under load, then restarted empty', async (t) => {
  const server = await startRedis({ password: SECRET })
  await throughOutage(t, server, () => server.kill(), () => server.restart())
  await server.kill()
})

t.test('XREAD BLOCK consumer: Redis stopped (SIGSTOP) for 5 s under load, then resumed', async (t) => {
  const server = await startRedis({ password: SECRET })
  await throughOutage(t, server, () => { server.pause() }, () => { server.resume() })
  await server.kill()
})
