// The example app (examples/docs-app), fast checks without a browser. It is
// loaded as a user runs it: app.js imports the package by its public name,
// which resolves to dist/ (npm test builds first).
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { BOOT_BOUND_MS, captureLogs, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'S3cret-Pa55word!'
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const EXAMPLE_DIR = new URL('../examples/docs-app/', import.meta.url)
// A command waits at most one command timeout (500 ms); a rate-limited route that uses Redis
// can meet two (the limiter's decisionTimeout, then its own). The bug this catches is a route
// that waits for Redis to come back (~73 s in ioredis's offline queue, or forever), so the bound
// is far above those timeouts: no busy machine reaches it.
const REQUEST_BOUND_MS = 10_000
// How long server.js may take to start listening: a node process loading Fastify, swagger and
// the plugin on a busy machine. Only a server that never starts (or dies) fails it.
const START_BOUND_MS = 60_000
// The process must end on its own after SIGTERM, not be held open by a timer or a connection;
// one that is never exits, so this only needs to be shorter than the test's own timeout.
const EXIT_BOUND_MS = 15_000
const OPERATIONS = ['GET /greeting', 'GET /health', 'GET /notifications', 'GET /products/{id}', 'GET /reports/{id}', 'POST /login', 'POST /notifications', 'POST /reports', 'POST /visits']
const MEMORY_LINE = /^Rate limiting starts counting in local memory \(per process\) until Redis is available: /

interface ExampleModule {
  buildApp: (opts?: { env?: Record<string, string | undefined>; logger?: unknown }) => Promise<FastifyInstance>
}
// A plain .js module outside tsconfig: imported by URL, typed here.
const { buildApp } = (await import(new URL('app.js', EXAMPLE_DIR).href)) as ExampleModule

t.teardown(stopAllRedis)

interface Example {
  app: FastifyInstance
  logs: Array<Record<string, unknown>>
  logText: () => string
  bootMs: number
}

/** Builds the example app with `env`, logs captured, closed in teardown. */
async function example (t: Test, env: Record<string, string>): Promise<Example> {
  const { stream, logs, logText } = captureLogs()
  const started = performance.now()
  const app = await buildApp({ env, logger: { level: 'info', stream } })
  await app.ready()
  const bootMs = performance.now() - started
  t.teardown(() => app.close())
  return { app, logs, logText, bootMs }
}

/** The example's environment for `server`: a database per client, as in .env.example. */
function envFor (port: number, password?: string): Record<string, string> {
  const url = (db: number): string => `redis://127.0.0.1:${port}/${db}`
  return {
    REDIS_URL: url(0),
    REDIS_CACHE_URL: url(1),
    REDIS_QUEUE_URL: url(2),
    REDIS_CHANNELS_URL: url(0),
    ...(password === undefined ? {} : { REDIS_PASSWORD: password }),
  }
}

/** .env.example, parsed (KEY=VALUE lines, # comments). */
function envExample (): Record<string, string> {
  const text = readFileSync(new URL('.env.example', EXAMPLE_DIR), 'utf8')
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim())
    if (match !== null) env[match[1] as string] = match[2] as string
  }
  return env
}

async function timed (app: FastifyInstance, opts: string | InjectOptions): Promise<{ res: LightMyRequestResponse; ms: number }> {
  const started = performance.now()
  const res = await app.inject(opts)
  return { res, ms: performance.now() - started }
}

const login = (app: FastifyInstance, password = 'demo'): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/login', payload: { username: 'demo', password } })

function memoryLines (ex: Example): unknown[] {
  return ex.logs.filter((line) => typeof line.msg === 'string' && MEMORY_LINE.test(line.msg)).map((line) => line.msg)
}

/** What every outage must leave working: the docs (behind the limiter), the cache fallback, the 503, health. */
async function assertDegraded (t: Test, ex: Example, label: string): Promise<void> {
  for (const url of ['/docs', '/docs/json', '/docs/static/swagger-ui.css']) {
    const { res, ms } = await timed(ex.app, url)
    t.equal(res.statusCode, 200, `${label}: ${url} answers 200`)
    t.ok(ms < REQUEST_BOUND_MS, `${label}: ${url} in ${Math.round(ms)} ms`)
    t.equal(res.headers['x-ratelimit-limit'], '100', `${label}: ${url} is behind the global limit`)
  }
  const product = await timed(ex.app, '/products/42')
  t.equal(product.res.statusCode, 200, `${label}: the cached lookup still answers`)
  t.equal(product.res.json().cache, 'unavailable', `${label}: computed without the cache`)
  t.ok(product.ms < REQUEST_BOUND_MS, `${label}: lookup in ${Math.round(product.ms)} ms`)
  const visits = await timed(ex.app, { method: 'POST', url: '/visits' })
  t.equal(visits.res.statusCode, 503, `${label}: the counter answers 503`)
  t.equal(visits.res.headers['retry-after'], '1')
  t.equal(visits.res.json().code, 'FRR_ERR_REDIS_UNAVAILABLE')
  t.ok(visits.ms < REQUEST_BOUND_MS, `${label}: 503 in ${Math.round(visits.ms)} ms`)
  for (const opts of [{ method: 'POST', url: '/reports', payload: { productIds: [1, 2] } }, { url: '/reports/1' }, { method: 'POST', url: '/notifications', payload: { message: 'hi' } }] as const) {
    const { res, ms } = await timed(ex.app, opts)
    t.equal(res.statusCode, 503, `${label}: ${opts.url} answers 503`)
    t.equal(res.json().code, 'FRR_ERR_REDIS_UNAVAILABLE')
    t.ok(ms < REQUEST_BOUND_MS, `${label}: ${opts.url} 503 in ${Math.round(ms)} ms`)
  }
  const health = await timed(ex.app, '/health')
  t.equal(health.res.statusCode, 200, `${label}: health answers 200`)
  // Down, or degraded: a `queue` client has no timeout, so it can still say ready while Redis hangs.
  t.match(health.res.json().redis.status, /^(down|degraded)$/, `${label}: health says Redis is not up`)
  t.equal(health.res.json().redis.rateLimit.mode, 'local', `${label}: limits counted in memory`)
  t.ok(health.ms < REQUEST_BOUND_MS, `${label}: health in ${Math.round(health.ms)} ms`)
}

t.test('every route is documented in /docs/json, the docs themselves are not', async (t) => {
  const ex = await example(t, envFor(await freePort(), SECRET))
  const spec = (await ex.app.inject('/docs/json')).json() as { paths: Record<string, Record<string, { description?: string; tags?: string[]; responses: Record<string, unknown> }>> }
  const operations = Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })))
  t.same(operations.map((o) => o.id).sort(), OPERATIONS)
  for (const { id, op } of operations) {
    t.ok((op.description ?? '').length > 20, `${id} has a description`)
    t.equal(op.tags?.length, 1, `${id} has a tag`)
    t.ok(('200' in op.responses || '202' in op.responses) && '429' in op.responses, `${id} documents its success and 429`)
  }
  for (const [path, method] of [['/visits', 'post'], ['/reports', 'post'], ['/reports/{id}', 'get'], ['/notifications', 'post']] as const) {
    t.ok('503' in (spec.paths[path]?.[method]?.responses ?? {}), `${method.toUpperCase()} ${path} documents its 503`)
  }
  t.match(spec.paths['/notifications']?.get?.responses['200'], { content: { 'text/event-stream': {} } }, 'the notifications are documented as an event stream')
  t.notOk('503' in (spec.paths['/products/{id}']?.get?.responses ?? {}), 'the cached lookup never answers 503')
})

t.test('Redis healthy, set up as in .env.example: one password, a database per client', async (t) => {
  const server = await startRedis({ password: 'change-me' })
  t.teardown(() => server.kill())
  const env = Object.fromEntries(Object.entries(envExample()).map(([key, value]) => [key, value.replace('redis://redis:6379', `redis://127.0.0.1:${server.port}`)]))
  t.equal(env.NODE_ENV, 'production', '.env.example is production-style')
  t.notOk(Object.values(env).some((value) => value.includes('change-me@')), 'the password is written once, not in the URLs')
  const ex = await example(t, env)

  // The connections made from the clients (the worker's, the subscription) are ready a moment after boot.
  t.ok(await waitFor(async () => (await ex.app.inject('/health')).json().redis.status === 'up', EVENTUALLY_MS), 'up')
  const health = (await ex.app.inject('/health')).json()
  t.same(Object.keys(health.redis.clients).sort(), ['cache', 'channels', 'channels.1', 'default', 'queue', 'queue.1', 'queueProducer'],
    'a client per job, and the connections made from them: the worker\'s blocking one, the subscription')
  const dbs = Object.fromEntries(Object.entries(health.redis.clients as Record<string, { url: string }>).map(([name, c]) => [name, c.url.slice(-1)]))
  t.same(dbs, { default: '0', cache: '1', queue: '2', 'queue.1': '2', queueProducer: '2', channels: '0', 'channels.1': '0' }, 'each in the db its URL says')
  t.equal(health.redis.rateLimit.mode, 'redis')
  const probes = new Set<number>()
  for (let i = 0; i < 110; i++) probes.add((await ex.app.inject('/health')).statusCode)
  t.same([...probes], [200], '/health is never rate limited (the global limit is 100 a minute)')

  t.equal((await ex.app.inject('/products/7')).json().cache, 'miss')
  t.same((await ex.app.inject('/products/7')).json(), { id: 7, name: 'Product 7', priceCents: 100 + ((7 * 7919) % 9900), cache: 'hit' })
  t.same((await ex.app.inject({ method: 'POST', url: '/visits' })).json(), { visits: 1 })
  t.same((await ex.app.inject({ method: 'POST', url: '/visits' })).json(), { visits: 2 })
  const keyspace = await server.command('INFO', 'keyspace')
  t.match(keyspace, /db0:keys=\d+/, 'counters in db 0')
  t.match(keyspace, /db1:keys=1,/, 'the cached product in db 1')
  t.equal(await server.command('GET', 'example:visits'), '$1\r\n2')

  t.equal((await ex.app.inject('/greeting?name=Ada')).json().greeting, 'Hello, Ada!')
  t.equal(memoryLines(ex).length, 0, 'no fallback with Redis healthy')
  t.notOk(ex.logText().includes('change-me'), 'the password never reaches the log')
})

t.test('a plain `npm run example` (REDIS_URL only): cache in db 1, the queue in db 2; a REDIS_<NAME>_URL keeps its own db', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.kill())
  const plain = await example(t, { REDIS_URL: `redis://127.0.0.1:${server.port}` })
  const { redis } = plain.app
  t.same([redis.options.db, redis.cache?.options.db, redis.queue?.options.db, redis.queueProducer?.options.db, redis.channels?.options.db], [0, 1, 2, 2, 0])
  t.equal((await plain.app.inject('/products/9')).json().cache, 'miss')
  t.match(await server.command('INFO', 'keyspace'), /db1:keys=1,/, 'the cached product lands in db 1')

  const own = await example(t, {
    REDIS_URL: `redis://127.0.0.1:${server.port}`,
    REDIS_CACHE_URL: `redis://127.0.0.1:${server.port}/5`,
    REDIS_QUEUE_URL: `redis://127.0.0.1:${server.port}/6`,
  })
  t.equal(own.app.redis.cache?.options.db, 5, "REDIS_CACHE_URL's db, not the example's default")
  t.same([own.app.redis.queue?.options.db, own.app.redis.queueProducer?.options.db], [6, 6], 'the worker and the producer both on REDIS_QUEUE_URL')
})

t.test('the login route allows 5 attempts a minute, counted in Redis or, without it, in memory', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  for (const [label, env] of [['Redis healthy', envFor(server.port, SECRET)], ['Redis down', envFor(await freePort(), SECRET)]] as const) {
    const ex = await example(t, env)
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await login(ex.app, i === 0 ? 'demo' : 'wrong')).statusCode)
    const refused = await login(ex.app)
    t.same(statuses, [200, 401, 401, 401, 401], `${label}: 5 attempts answered`)
    t.equal(refused.statusCode, 429, `${label}: the 6th gets 429`)
    t.equal(refused.headers['x-ratelimit-limit'], '5')
    t.equal(refused.json().statusCode, 429)
    t.ok(Number(refused.headers['retry-after']) > 0, `${label}: with retry-after`)
    t.equal((await ex.app.inject('/greeting')).statusCode, 200, `${label}: other routes keep their own, global limit`)
  }
  t.match(await server.command('KEYS', '*POST:/login*'), /frr-rate-limit:POST:\/login:/, 'counted in Redis under the route\'s own key')
})

t.test('Redis not running at boot: boots, serves, one log line says limits are counted in memory', async (t) => {
  const ex = await example(t, envFor(await freePort(), SECRET))
  t.ok(ex.bootMs < BOOT_BOUND_MS, `boot did not wait on Redis (${Math.round(ex.bootMs)} ms)`)
  await assertDegraded(t, ex, 'refused')
  for (let i = 0; i < 20; i++) await ex.app.inject('/greeting')
  t.equal(memoryLines(ex).length, 1, 'exactly one "counting in local memory" line')
  t.equal(ex.logs.filter((line) => /Rate limiting switched/.test(String(line.msg))).length, 0, 'and no other rate-limit line')
})

t.test('Redis hanging (SIGSTOP) at boot and while serving', async (t) => {
  const atBoot = await startRedis({ password: SECRET })
  t.teardown(() => atBoot.kill())
  atBoot.pause()
  const booted = await example(t, envFor(atBoot.port, SECRET))
  t.ok(booted.bootMs < BOOT_BOUND_MS, `boot did not wait on Redis (${Math.round(booted.bootMs)} ms)`)
  await assertDegraded(t, booted, 'hanging at boot')
  t.equal(memoryLines(booted).length, 1, 'one "counting in local memory" line')

  const serving = await startRedis({ password: SECRET })
  t.teardown(() => serving.kill())
  const ex = await example(t, envFor(serving.port, SECRET))
  t.equal((await ex.app.inject('/products/42')).json().cache, 'miss', 'served from Redis before the fault')
  serving.pause()
  // The first requests each wait up to one command timeout; none hangs, none fails.
  await assertDegraded(t, ex, 'hanging while serving')
})

t.test('Redis killed while serving', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  const ex = await example(t, envFor(server.port, SECRET))
  t.equal((await ex.app.inject({ method: 'POST', url: '/visits' })).statusCode, 200, 'served from Redis before the fault')
  await server.kill()
  await assertDegraded(t, ex, 'killed')
})

t.test('password missing or wrong: the docs and everything else keep working', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  const missing = await example(t, envFor(server.port))
  await assertDegraded(t, missing, 'password missing')
  t.equal((await missing.app.inject('/health')).json().redis.clients.default.failure, 'password-missing')

  const WRONG = 'Wr0ng-Pa55word!'
  const wrong = await example(t, envFor(server.port, WRONG))
  await assertDegraded(t, wrong, 'password wrong')
  t.equal((await wrong.app.inject('/health')).json().redis.clients.default.failure, 'password-wrong')
  t.notOk(wrong.logText().includes(WRONG), 'the password never reaches the log')
})

t.test('NODE_ENV=production without a password refuses to boot (config error, not an outage)', async (t) => {
  const env = { ...envFor(await freePort()), NODE_ENV: 'production' }
  await t.rejects(buildApp({ env, logger: false }), { code: 'FRR_ERR_PASSWORD_REQUIRED' })
})

t.test('server.js (npm run example) with no Redis reachable: serves the docs, one memory line, closes on SIGTERM', async (t) => {
  const redisPort = await freePort()
  const child = spawn(process.execPath, ['examples/docs-app/server.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', REDIS_URL: `redis://127.0.0.1:${redisPort}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })

  // Its last start-up line says where the docs are (logged just after Fastify's "Server listening").
  const deadline = Date.now() + START_BOUND_MS
  let base: string | undefined
  while (base === undefined && Date.now() < deadline && child.exitCode === null) {
    base = /API docs: (http:\/\/127\.0\.0\.1:\d+)\/docs/.exec(stdout)?.[1]
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  if (base === undefined) throw new Error(`server.js did not start:\n${stdout}\n${stderr}`)
  t.match(stdout, new RegExp(`Server listening at ${base}`), 'the docs address is the one Fastify listens at')

  for (const path of ['/docs', '/docs/json', '/greeting']) {
    const res = await fetch(base + path, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) })
    t.equal(res.status, 200, `${path} answers 200`)
    await res.arrayBuffer()
  }
  const lines = stdout.split('\n').filter((line) => line.includes('Rate limiting starts counting in local memory'))
  t.equal(lines.length, 1, 'one "counting in local memory" line')

  const signalled = Date.now()
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exits 0 on SIGTERM')
  t.ok(Date.now() - signalled < EXIT_BOUND_MS, `exited on its own, ${Date.now() - signalled} ms after SIGTERM`)
  t.equal(stderr, '', 'nothing on stderr')
})
