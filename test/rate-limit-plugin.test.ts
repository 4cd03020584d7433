// Rate limiting with a healthy Redis: on by default and counted in Redis, one
// counter shared by every instance, separate counters per route and per
// createRateLimit() limiter, every @fastify/rate-limit option passed through,
// the ways to turn it off, settings that fail registration, the health report
// and the diagnostics channel.
import t, { type Test } from 'tap'
import diagnosticsChannel from 'node:diagnostics_channel'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { RATE_LIMIT_CHANNEL, resilientRedis, type RateLimitReport, type RateLimitSettings, type ResilientRedisOptions } from '../src/index.js'

const SECRET = 'Rl-Plugin-S3cret-q7Zx!'

t.teardown(stopAllRedis)

const server = await startRedis({ password: SECRET })
const env = { REDIS_URL: `redis://127.0.0.1:${server.port}`, REDIS_PASSWORD: SECRET }

t.beforeEach(async () => {
  await server.command('FLUSHALL')
})

// --- helpers ---------------------------------------------------------------

/** Keys matching `pattern`, sorted, from the raw RESP reply of KEYS. */
async function keys (pattern: string, on: RedisServer = server): Promise<string[]> {
  const reply = await on.command('KEYS', pattern)
  const lines = reply.split('\r\n')
  const found: string[] = []
  for (let i = 2; i < lines.length; i += 2) found.push(lines[i] as string)
  return found.sort()
}

async function get (key: string): Promise<string | null> {
  const reply = await server.command('GET', key)
  return reply === '$-1' ? null : reply.split('\r\n')[1] ?? null
}

async function pttl (key: string): Promise<number> {
  return Number((await server.command('PTTL', key)).slice(1))
}

/**
 * These tests are about what is counted, not about deadlines: on a busy machine a healthy Redis
 * can answer a script call after the 100 ms decisionTimeout (the first on the server takes two
 * round trips, EVALSHA then EVAL), and the limiter then rightly decides in memory. Given rate
 * limit settings, the app gets deadlines only a real outage reaches; without, the defaults.
 */
const PATIENT = { commandTimeout: 5000, decisionTimeout: 2000 }

async function app (t: Test, rateLimit: ResilientRedisOptions['rateLimit'], routes?: (app: FastifyInstance) => void, extraEnv: Record<string, string> = {}): Promise<TestApp> {
  const limits = typeof rateLimit === 'object' ? { rateLimit: { decisionTimeout: PATIENT.decisionTimeout, ...rateLimit } } : rateLimit === undefined ? {} : { rateLimit }
  const test = await buildApp({ env: { ...env, ...extraEnv }, commandTimeout: PATIENT.commandTimeout, ...limits }, routes)
  t.teardown(() => test.app.close())
  return test
}

function limitHeaders (res: LightMyRequestResponse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(res.headers).filter(([name]) => name.includes('ratelimit') || name === 'retry-after'))
}

async function report (test: TestApp): Promise<RateLimitReport> {
  const { rateLimit } = await test.app.redisHealth()
  if (rateLimit.mode === 'disabled') throw new Error('rate limiting is disabled')
  return rateLimit
}

/** Registers the plugin on a bare app; resolves to the registration error (undefined when none). */
async function registrationError (options: ResilientRedisOptions): Promise<unknown> {
  const bare = Fastify({ logger: false })
  try {
    await bare.register(resilientRedis, { env, ...options })
    await bare.ready()
    return undefined
  } catch (error) {
    return error
  } finally {
    await bare.close()
  }
}

// --- on by default, counted in Redis ----------------------------------------

t.test('on by default: headers on every route, the counter lives in Redis', async (t) => {
  const test = await app(t, undefined)
  const res = await test.app.inject('/plain')
  t.equal(res.statusCode, 200)
  t.same(limitHeaders(res), { 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '999', 'x-ratelimit-reset': '60' }, "@fastify/rate-limit's defaults: 1000 a minute")
  // The default decisionTimeout (100 ms) here: on a busy machine this first call may answer after
  // it, and the request is then decided in memory (same headers); the call still counts in Redis.
  t.ok(await waitFor(async () => (await keys('frr-rate-limit:*')).join() === 'frr-rate-limit:127.0.0.1', EVENTUALLY_MS), 'one counter, in Redis, keyed by IP')
  t.equal(await get('frr-rate-limit:127.0.0.1'), '1')
  t.ok(await waitFor(async () => (await report(test)).mode === 'redis', EVENTUALLY_MS), 'counting in Redis')
})

t.test('remaining counts down one per request; max + 1 is refused with 429', async (t) => {
  const test = await app(t, { max: 3, timeWindow: 60_000 })
  const remaining: unknown[] = []
  for (let i = 0; i < 3; i++) {
    const res = await test.app.inject('/plain')
    t.equal(res.statusCode, 200)
    remaining.push(res.headers['x-ratelimit-remaining'])
  }
  t.same(remaining, ['2', '1', '0'])
  const refused = await test.app.inject('/plain')
  t.equal(refused.statusCode, 429)
  t.same(limitHeaders(refused), { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '60', 'retry-after': '60' })
  t.match(refused.json(), { statusCode: 429, error: 'Too Many Requests', message: /Rate limit exceeded/ })
  t.equal(await get('frr-rate-limit:127.0.0.1'), '4', 'the script counted every request')
  const ttl = await pttl('frr-rate-limit:127.0.0.1')
  t.ok(ttl > 55_000 && ttl <= 60_000, `the window is the configured one (PTTL ${ttl})`)
  const rl = await report(test)
  t.equal(rl.decisionsOutsideRedis, 0)
  t.equal(rl.memoryKeys, 0, 'nothing counted in memory while Redis is healthy')
})

t.test('two app instances on one Redis share one counter', async (t) => {
  const limits: RateLimitSettings = { max: 6, timeWindow: 60_000 }
  const first = await app(t, limits)
  const second = await app(t, limits)
  const seen: Array<[string, unknown]> = []
  for (let i = 0; i < 6; i++) {
    const [name, test] = i % 2 === 0 ? ['first', first] : ['second', second]
    const res = await test.app.inject('/plain')
    t.equal(res.statusCode, 200, `request ${i + 1} (${name}) admitted`)
    seen.push([name, res.headers['x-ratelimit-remaining']])
  }
  t.same(seen, [['first', '5'], ['second', '4'], ['first', '3'], ['second', '2'], ['first', '1'], ['second', '0']], 'one count across both instances')
  t.equal((await first.app.inject('/plain')).statusCode, 429, 'the 7th request overall is refused')
  t.equal((await second.app.inject('/plain')).statusCode, 429, 'by either instance')
  t.same(await keys('frr-rate-limit:*'), ['frr-rate-limit:127.0.0.1'])
})

// --- separate counters --------------------------------------------------------

t.test('a route with its own config.rateLimit has its own counter', async (t) => {
  const test = await app(t, { max: 5, timeWindow: 60_000 }, (app) => {
    app.get('/limited', { config: { rateLimit: { max: 2, timeWindow: 60_000 } } }, async () => ({ ok: true }))
  })
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await test.app.inject('/limited')).statusCode)
  t.same(statuses, [200, 200, 429], 'the route limit (2) applies')
  const global = await test.app.inject('/plain')
  t.equal(global.statusCode, 200)
  t.equal(global.headers['x-ratelimit-remaining'], '4', 'the global counter did not see the route requests')
  t.equal(global.headers['x-ratelimit-limit'], '5')
  const found = await keys('frr-rate-limit:*')
  t.equal(found.length, 2, `two counters: ${found.join(', ')}`)
  const routeKey = found.find((key) => key.includes('/limited'))
  t.ok(routeKey, 'the route counter is named after the route')
  t.equal(routeKey === undefined ? null : await get(routeKey), '3')
  t.equal(await get('frr-rate-limit:127.0.0.1'), '1')
})

t.test('createRateLimit(): each limiter has its own counter; { increment: false } only reads', async (t) => {
  const test = await app(t, { global: false }, (app) => {
    const first = app.createRateLimit({ max: 2, timeWindow: 60_000 })
    const second = app.createRateLimit({ max: 2, timeWindow: 60_000 })
    app.get('/first', async (request) => await first(request))
    app.get('/second', async (request) => await second(request))
    app.get('/first/peek', async (request) => await first(request, { increment: false }))
  })
  const call = async (url: string): Promise<Record<string, unknown>> => (await test.app.inject(url)).json()

  t.match(await call('/first'), { isAllowed: false, max: 2, remaining: 1, isExceeded: false })
  t.match(await call('/first/peek'), { remaining: 1, isExceeded: false }, 'a read sees the count')
  t.match(await call('/first/peek'), { remaining: 1, isExceeded: false }, 'and does not add to it')
  const found = await keys('frr-rate-limit:*')
  t.equal(found.length, 1, `one counter so far: ${found.join(', ')}`)
  t.equal(await get(found[0] as string), '1', 'reads did not count')

  t.match(await call('/second'), { remaining: 1, isExceeded: false }, "the second limiter does not see the first one's requests (the built-in RedisStore shares one counter)")
  t.match(await call('/first'), { remaining: 0, isExceeded: false })
  t.match(await call('/first'), { remaining: 0, isExceeded: true })
  t.match(await call('/second'), { remaining: 0, isExceeded: false })
  t.match(await call('/first/peek'), { remaining: 0, isExceeded: true })
  const both = await keys('frr-rate-limit:*')
  t.equal(both.length, 2, `two counters: ${both.join(', ')}`)
  t.equal(await get(found[0] as string), '3', 'the first limiter counted 3')
  t.same((await Promise.all(both.map(get))).sort(), ['2', '3'], 'the second limiter counted 2')
  t.equal((await test.app.inject('/plain')).headers['x-ratelimit-limit'], undefined, 'global: false leaves other routes alone')
})

t.test('createRateLimit() limiters are shared between instances (same creation order)', async (t) => {
  const routes = (app: FastifyInstance): void => {
    const limiter = app.createRateLimit({ max: 3, timeWindow: 60_000 })
    app.get('/limited', async (request) => await limiter(request))
  }
  const first = await app(t, { global: false }, routes)
  const second = await app(t, { global: false }, routes)
  t.match((await first.app.inject('/limited')).json(), { remaining: 2 })
  t.match((await second.app.inject('/limited')).json(), { remaining: 1 })
  t.match((await first.app.inject('/limited')).json(), { remaining: 0 })
})

// --- @fastify/rate-limit options pass through -------------------------------------

t.test('passthrough: global: false limits only routes with a config', async (t) => {
  const test = await app(t, { global: false, max: 1 }, (app) => {
    app.get('/limited', { config: { rateLimit: { max: 1, timeWindow: 60_000 } } }, async () => ({ ok: true }))
  })
  for (let i = 0; i < 3; i++) {
    const res = await test.app.inject('/plain')
    t.equal(res.statusCode, 200)
    t.same(limitHeaders(res), {}, 'no rate-limit headers on a route without config')
  }
  t.equal((await test.app.inject('/limited')).statusCode, 200)
  t.equal((await test.app.inject('/limited')).statusCode, 429)
})

t.test('passthrough: keyGenerator, allowList (array and function)', async (t) => {
  const test = await app(t, {
    max: 2,
    timeWindow: 60_000,
    keyGenerator: (request) => String(request.headers['x-user'] ?? 'anonymous'),
    allowList: (request, key) => key === 'vip' || request.headers['x-allow'] === 'yes',
  })
  const as = async (user: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> => await test.app.inject({ url: '/plain', headers: { 'x-user': user, ...extra } })
  t.equal((await as('alice')).headers['x-ratelimit-remaining'], '1')
  t.equal((await as('alice')).headers['x-ratelimit-remaining'], '0')
  t.equal((await as('bob')).headers['x-ratelimit-remaining'], '1', 'bob has his own counter')
  t.equal((await as('alice')).statusCode, 429)
  for (let i = 0; i < 4; i++) {
    const vip = await as('vip')
    t.equal(vip.statusCode, 200)
    t.same(limitHeaders(vip), {}, 'the allow list is not limited')
  }
  t.equal((await as('alice', { 'x-allow': 'yes' })).statusCode, 200, 'allowList function sees the request')
  t.same(await keys('frr-rate-limit:*'), ['frr-rate-limit:alice', 'frr-rate-limit:bob'])

  const listed = await app(t, { max: 1, allowList: ['127.0.0.1'] })
  for (let i = 0; i < 3; i++) t.equal((await listed.app.inject('/plain')).statusCode, 200, 'allowList array by IP')
})

t.test("passthrough: hook 'preHandler' runs after validation", async (t) => {
  const routes = (app: FastifyInstance): void => {
    app.post('/items', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => ({ ok: true }))
  }
  const test = await app(t, { max: 5, hook: 'preHandler' }, routes)
  const invalid = await test.app.inject({ method: 'POST', url: '/items', payload: {} })
  t.equal(invalid.statusCode, 400)
  t.same(limitHeaders(invalid), {}, 'an invalid body is rejected before the limiter runs')
  t.same(await keys('frr-rate-limit:*'), [], 'and is not counted')
  const valid = await test.app.inject({ method: 'POST', url: '/items', payload: { name: 'x' } })
  t.equal(valid.statusCode, 200)
  t.equal(valid.headers['x-ratelimit-remaining'], '4')
})

t.test('passthrough: addHeaders / addHeadersOnExceeding turn headers off', async (t) => {
  const test = await app(t, {
    max: 1,
    addHeaders: { 'retry-after': false, 'x-ratelimit-reset': false },
    addHeadersOnExceeding: { 'x-ratelimit-remaining': false },
  })
  t.same(limitHeaders(await test.app.inject('/plain')), { 'x-ratelimit-limit': '1', 'x-ratelimit-reset': '60' })
  const refused = await test.app.inject('/plain')
  t.equal(refused.statusCode, 429)
  t.same(limitHeaders(refused), { 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0' })
})

t.test('passthrough: enableDraftSpec header names, timeWindow as a string', async (t) => {
  const test = await app(t, { max: 2, timeWindow: '1 minute', enableDraftSpec: true })
  const res = await test.app.inject('/plain')
  t.same(limitHeaders(res), { 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '60' })
  const ttl = await pttl('frr-rate-limit:127.0.0.1')
  t.ok(ttl > 55_000 && ttl <= 60_000, `'1 minute' is a 60 s window in Redis (PTTL ${ttl})`)
})

t.test('passthrough: continueExceeding restarts the window on every refused request', async (t) => {
  const test = await app(t, { max: 1, timeWindow: 60_000, continueExceeding: true })
  t.equal((await test.app.inject('/plain')).statusCode, 200)
  await sleep(400)
  const before = await pttl('frr-rate-limit:127.0.0.1')
  t.ok(before <= 59_650, `the window runs down (PTTL ${before})`)
  t.equal((await test.app.inject('/plain')).statusCode, 429)
  const after = await pttl('frr-rate-limit:127.0.0.1')
  t.ok(after > before && after > 59_700, `the refused request restarted the window (PTTL ${before} → ${after})`)
})

t.test('passthrough: exponentialBackoff doubles the wait on each refused request', async (t) => {
  const test = await app(t, { max: 1, timeWindow: 1000, exponentialBackoff: true })
  t.equal((await test.app.inject('/plain')).statusCode, 200)
  const waits = []
  for (let i = 0; i < 4; i++) {
    const res = await test.app.inject('/plain')
    t.equal(res.statusCode, 429)
    waits.push(res.headers['retry-after'])
  }
  t.same(waits, ['1', '2', '4', '8'])
  const ttl = await pttl('frr-rate-limit:127.0.0.1')
  t.ok(ttl > 7000 && ttl <= 8000, `Redis holds the backed-off window (PTTL ${ttl})`)
})

t.test('passthrough: max as a function, onExceeding / onExceeded, errorResponseBuilder, ban', async (t) => {
  const events: string[] = []
  const test = await app(t, {
    max: (_request, key) => key === 'gold' ? 3 : 1,
    ban: 1,
    keyGenerator: (request) => String(request.headers['x-user'] ?? 'anonymous'),
    onExceeding: (_request, key) => { events.push(`exceeding:${key}`) },
    onExceeded: (_request, key) => { events.push(`exceeded:${key}`) },
    errorResponseBuilder: (_request, context) => Object.assign(new Error(`slow down for ${context.after}`), { statusCode: context.statusCode, code: 'SLOW_DOWN' }),
  })
  const as = async (user: string): Promise<LightMyRequestResponse> => await test.app.inject({ url: '/plain', headers: { 'x-user': user } })
  t.equal((await as('gold')).headers['x-ratelimit-limit'], '3')
  t.equal((await as('tin')).statusCode, 200)
  const refused = await as('tin')
  t.equal(refused.statusCode, 429)
  t.match(refused.json(), { code: 'SLOW_DOWN', message: /slow down for 1 minute/ })
  t.equal((await as('tin')).statusCode, 403, 'banned past max + ban')
  t.same(events, ['exceeding:gold', 'exceeding:tin', 'exceeded:tin', 'exceeded:tin'])
})

// --- off ------------------------------------------------------------------------

t.test('rateLimit: false: no limiter, no headers, health says disabled', async (t) => {
  const test = await app(t, false)
  for (let i = 0; i < 3; i++) t.same(limitHeaders(await test.app.inject('/plain')), {})
  t.same((await test.app.redisHealth()).rateLimit, { mode: 'disabled' })
  t.notOk(test.app.hasDecorator('createRateLimit'), '@fastify/rate-limit is not registered')
  t.same(await keys('frr-rate-limit:*'), [])
  t.notOk(test.logText().includes('DISABLE_THROTTLING'), 'turning it off by option logs nothing about the environment')
})

t.test('DISABLE_THROTTLING=true turns it off, said once in the log', async (t) => {
  const test = await app(t, { max: 1 }, undefined, { DISABLE_THROTTLING: 'true' })
  for (let i = 0; i < 3; i++) {
    const res = await test.app.inject('/plain')
    t.equal(res.statusCode, 200, 'past max: not limited')
    t.same(limitHeaders(res), {})
  }
  t.same((await test.app.redisHealth()).rateLimit, { mode: 'disabled' })
  const lines = test.logs.filter((line) => JSON.stringify(line).includes('DISABLE_THROTTLING'))
  t.equal(lines.length, 1, 'exactly one log line names DISABLE_THROTTLING')
  t.match(lines[0], { plugin: 'fastify-resilient-redis', rateLimitMode: 'disabled' })
})

t.test('DISABLE_THROTTLING=false (or empty) leaves it on', async (t) => {
  for (const value of ['false', '']) {
    const test = await app(t, { max: 1 }, undefined, { DISABLE_THROTTLING: value })
    t.equal((await test.app.inject('/plain')).statusCode, 200)
    t.equal((await test.app.inject('/plain')).statusCode, 429, `DISABLE_THROTTLING=${JSON.stringify(value)}: limited`)
    t.notOk(test.logText().includes('DISABLE_THROTTLING'))
    await server.command('FLUSHALL')
  }
})

t.test('DISABLE_THROTTLING=maybe fails registration', async (t) => {
  const error = await registrationError({ env: { ...env, DISABLE_THROTTLING: 'maybe' } })
  t.match(error, { code: 'FRR_ERR_INVALID_SETTING', message: /DISABLE_THROTTLING/ })
})

t.test('invalid rateLimit settings fail registration with FRR_ERR_INVALID_SETTING', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['failMode', { failMode: 'sometimes' }],
    ['cache', { cache: 0 }],
    ['failureThreshold', { failureThreshold: -1 }],
    ['failureThreshold', { failureThreshold: 1.5 }],
    ['decisionTimeout', { decisionTimeout: 0 }],
    ['decisionTimeout', { decisionTimeout: '100' }],
    ['decisionTimeout', { decisionTimeout: 60_001 }],
    ['nameSpace', { nameSpace: 5 }],
    ['store', { store: class {} }],
    ['redis', { redis: {} }],
    ['rateLimit', 'yes'],
    ['rateLimit', [{ max: 1 }]],
  ]
  for (const [setting, rateLimit] of cases) {
    const error = await registrationError({ rateLimit: rateLimit as RateLimitSettings })
    t.match(error, { code: 'FRR_ERR_INVALID_SETTING', message: new RegExp(setting) }, `rateLimit: ${JSON.stringify(rateLimit) ?? String(rateLimit)}`)
    t.notOk(String((error as Error | undefined)?.message).includes(SECRET))
  }
})

// --- health, nameSpace, diagnostics ----------------------------------------------

t.test('health: mode redis while healthy; nameSpace changes the key prefix', async (t) => {
  const test = await app(t, { nameSpace: 'my-app:limits:', failMode: 'open' })
  for (let i = 0; i < 3; i++) await test.app.inject('/plain')
  const health = await test.app.redisHealth()
  t.equal(health.status, 'up')
  t.match(health.rateLimit, { mode: 'redis', since: String, decisionsOutsideRedis: 0, decisionsAfterTimeout: 0, decisionsAfterError: 0, failMode: 'open', memoryKeys: 0 })
  t.ok(!Number.isNaN(Date.parse((health.rateLimit as RateLimitReport).since)), 'since is a date')
  t.same(Object.keys(health.rateLimit).sort(), ['decisionsAfterError', 'decisionsAfterTimeout', 'decisionsOutsideRedis', 'failMode', 'memoryKeys', 'mode', 'overLimitKeys', 'refusedWithoutRedis', 'since'])
  t.same(await keys('*'), ['my-app:limits:127.0.0.1'])
  t.equal(await get('my-app:limits:127.0.0.1'), '3')
  t.same(test.pluginLogs().filter((line) => line.rateLimitMode !== undefined), [], 'no mode change logged while healthy')
})

t.test('diagnostics channel: one event per mode change, with its cause', async (t) => {
  const own = await startRedis({ password: SECRET })
  t.teardown(() => own.kill())
  const events: Array<Record<string, unknown>> = []
  const listener = (message: unknown): void => { events.push(message as Record<string, unknown>) }
  diagnosticsChannel.subscribe(RATE_LIMIT_CHANNEL, listener)
  t.teardown(() => { diagnosticsChannel.unsubscribe(RATE_LIMIT_CHANNEL, listener) })

  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${own.port}`, REDIS_PASSWORD: SECRET }, commandTimeout: PATIENT.commandTimeout, rateLimit: { max: 5, decisionTimeout: PATIENT.decisionTimeout } })
  t.teardown(() => test.app.close())
  t.equal((await test.app.inject('/plain')).statusCode, 200)
  t.same(events, [], 'nothing while healthy')

  await own.kill()
  t.ok(await waitFor(() => events.length >= 1, EVENTUALLY_MS), 'an event when Redis goes away')
  t.match(events[0], { mode: 'local', previous: 'redis', cause: /Redis/, decisionsOutsideRedis: Number })
  t.equal((await test.app.inject('/plain')).headers['x-ratelimit-remaining'], '4', 'counted in memory meanwhile')

  await own.restart()
  t.ok(await waitFor(() => events.length >= 2, EVENTUALLY_MS), 'an event when Redis is back')
  t.match(events[1], { mode: 'redis', previous: 'local', decisionsOutsideRedis: 1 })
  await sleep(300)
  t.equal(events.length, 2, 'no further events')
  t.equal(test.pluginLogs().filter((line) => line.rateLimitMode !== undefined).length, 2, 'one log line per event')
  t.notOk(test.logText().includes(SECRET) || JSON.stringify(events).includes(SECRET))
})
