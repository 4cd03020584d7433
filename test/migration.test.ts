// Registration code written for @fastify/redis: every option it may carry is
// used or refused with a reason, never dropped; an app's own ioredis client
// is monitored like the plugin's and closed only when asked.
import t from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { resilientRedis, type ResilientRedisOptions } from '../src/index.js'
import { PASS_THROUGH_OPTIONS } from '../src/connection/redis-options.js'

const SECRET = 'S3cret-Pa55word!'
t.teardown(stopAllRedis)

/** Registers with `options` on a server nobody listens on, and returns the error (or undefined). */
async function registrationError (options: Record<string, unknown>): Promise<{ code?: string; message: string } | undefined> {
  const app = Fastify()
  try {
    await app.register(resilientRedis, { env: {}, host: '127.0.0.1', port: 1, connectWait: 50, rateLimit: false, ...options } as ResilientRedisOptions)
    await app.ready()
    return undefined
  } catch (error) {
    return error as { code?: string; message: string }
  } finally {
    await app.close()
  }
}

const IOREDIS_KEYS = [
  // ioredis 6's DEFAULT_REDIS_OPTIONS, and the options it documents beside them.
  ...Object.keys((await import('ioredis/built/redis/RedisOptions.js')).DEFAULT_REDIS_OPTIONS as object),
  'keyPrefix', 'showFriendlyErrorStack', 'commandTimeout', 'socketTimeout', 'blockingTimeout', 'blockingTimeoutGrace',
  'scripts', 'tls', 'path', 'Connector', 'monitor', 'offlineQueue', 'commandQueue', 'sentinelUsername', 'sentinelPassword',
  'preferredSlaves', 'sentinelCommandTimeout', 'sentinelTLS', 'natMap', 'dnsLookup', 'himportFieldsets',
  // ioredis 6.1's Smart Client Handoff (DEFAULT_REDIS_OPTIONS there; the lockfile's 6.0 has none of them).
  'maintNotifications', 'maintEndpointType', 'maintRelaxedCommandTimeout', 'maintRelaxedSocketTimeout',
]

t.test('every ioredis option is passed through or refused with a reason, never ignored', async (t) => {
  const ours = new Set(['host', 'port', 'username', 'password', 'db', 'tls', 'commandTimeout', 'sentinels', 'sentinelUsername', 'sentinelPassword'])
  for (const key of new Set(IOREDIS_KEYS)) {
    if (ours.has(key) || (PASS_THROUGH_OPTIONS as readonly string[]).includes(key)) continue
    const error = await registrationError({ [key]: 1 })
    t.equal(error?.code, 'FRR_ERR_INVALID_SETTING', `${key}: refused`)
    t.match(error?.message, new RegExp(`^${key} option (is decided by fastify-resilient-redis \\(.+\\)|is ioredis's name of the Sentinel master set; here it is sentinelName)`), `${key}: says why`)
  }
})

t.test('an option nobody knows is an error; namespace points to clients', async (t) => {
  t.match(await registrationError({ urll: 'redis://x' }), { code: 'FRR_ERR_INVALID_SETTING', message: /^urll option is not an option of fastify-resilient-redis; check its spelling/ })
  t.match(await registrationError({ namespace: 'cache' }), { code: 'FRR_ERR_INVALID_SETTING', message: /namespace option .* clients: \{ <name>/ })
  t.match(await registrationError({ closeClient: true }), { code: 'FRR_ERR_INVALID_SETTING', message: /closeClient option applies only to a client passed with the client option/ })
  t.match(await registrationError({ keyPrefix: 7 }), { code: 'FRR_ERR_INVALID_SETTING', message: /keyPrefix option must be a string/ })
  t.match(await registrationError({ connectionName: {} }), { code: 'FRR_ERR_INVALID_SETTING', message: /connectionName option must be a string/ })
  t.equal(await registrationError({ keyPrefix: undefined, family: undefined }), undefined, 'an option left undefined is no option')
})

t.test('pass-through options reach every client: keyPrefix, connectionName (named clients get their own name)', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await buildApp({ env: { REDIS_URL: server.url }, keyPrefix: 'app:', connectionName: 'api', family: 4, clients: { cache: { db: 1 } }, rateLimit: false })
  t.teardown(() => test.app.close())
  await test.app.redis.set('k', 'v')
  t.equal(await server.command('GET', 'app:k'), '$1\r\nv', 'the key carries the prefix')
  t.equal(test.app.redis.cache?.options.keyPrefix, 'app:')
  const names = (await server.command('CLIENT', 'LIST')).match(/ name=\S+/g)?.map((n) => n.slice(6)).filter((n) => n.startsWith('api')).sort()
  t.same(names, ['api', 'api:cache'])
  // ioredis 6.1 would relax the timeouts to 10 s in a maintenance window; every client keeps its bounds.
  for (const client of [test.app.redis, test.app.redis.cache]) {
    t.match(client?.options, { maintRelaxedCommandTimeout: 0, maintRelaxedSocketTimeout: 0 }, 'maintenance does not lift the timeouts')
  }
})

t.test('client: an app\'s own client is app.redis, monitored like the plugin\'s, and left open at close', async (t) => {
  const server = await startRedis({ password: SECRET })
  const own = new Redis({ host: '127.0.0.1', port: server.port, password: SECRET, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 300, retryStrategy: () => 50 })
  t.teardown(() => { own.disconnect() })
  const test = await buildApp({ client: own, clients: { cache: { db: 1 } }, healthRoute: '/health' })
  t.equal(test.app.redis, own, 'app.redis is the client passed')
  t.equal(test.app.redis.cache?.options.port, server.port, 'a named client without a URL goes to the same server')
  t.equal(test.app.redis.cache?.options.db, 1)
  t.equal((await test.app.inject('/health')).json().clients.default.state, 'ready')
  t.same(test.pluginLogs().filter((l) => l.level === 40), [], 'no warning: the client is bounded')

  await server.kill()
  t.ok(await waitFor(() => test.connectionLogs().some((l) => l.redisState === 'down'), EVENTUALLY_MS), 'the outage is logged')
  const res = await test.app.inject('/redis')
  t.equal(res.statusCode, 503, 'its errors answer 503')
  t.equal((await test.app.redisHealth()).clients.default?.state, 'down')

  await server.restart()
  t.ok(await waitFor(() => own.status === 'ready' && test.connectionLogs().some((l) => l.redisState === 'ready' && String(l.msg).includes('is back')), EVENTUALLY_MS), 'back, and logged')
  await test.app.close()
  t.equal(own.status, 'ready', 'not closed without closeClient')
  t.equal(own.listenerCount('error'), 0, 'the plugin no longer listens to it')
  t.equal(await own.ping(), 'PONG')
  t.notOk(test.logText().includes(SECRET))
})

t.test('client with closeClient: closed with the app; a lazy client is connected at registration', async (t) => {
  const server = await startRedis()
  const own = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 300 })
  const test = await buildApp({ client: own, closeClient: true })
  t.equal(own.status, 'ready', 'connected during registration')
  t.equal(await test.app.redis.ping(), 'PONG')
  await test.app.close()
  t.ok(await waitFor(() => own.status === 'end', EVENTUALLY_MS), 'closed with the app')
})

t.test('client with ioredis defaults: one warning that names what is unbounded; health stays bounded', async (t) => {
  const server = await startRedis()
  const own = new Redis({ host: '127.0.0.1', port: server.port })
  t.teardown(() => { own.disconnect() })
  const test = await buildApp({ client: own, commandTimeout: 200 })
  t.teardown(() => test.app.close())
  const warnings = test.pluginLogs().filter((l) => l.level === 40)
  t.equal(warnings.length, 1)
  t.match(warnings[0]?.msg, /enableOfflineQueue is on .*maxRetriesPerRequest is 20 .*no commandTimeout/)
  server.pause()
  t.teardown(() => { server.resume() })
  const report = await test.app.redisHealth()
  t.equal(report.clients.default?.state, 'down', 'the PING of a client without a command timeout is bounded too')
  t.equal(report.clients.default?.failure, 'hanging')
})

t.test('client: what cannot go with it', async (t) => {
  const own = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true })
  t.match(await registrationError({ client: own, host: undefined, port: undefined, url: 'redis://127.0.0.1:1' }), { code: 'FRR_ERR_INVALID_SETTING', message: /^url option cannot be combined with the client option/ })
  t.match(await registrationError({ client: own, host: undefined, port: undefined, keyPrefix: 'x:' }), { code: 'FRR_ERR_INVALID_SETTING', message: /^keyPrefix option cannot be combined with the client option/ })
  t.match(await registrationError({ client: { get: () => {} }, host: undefined, port: undefined }), { code: 'FRR_ERR_INVALID_SETTING', message: /^client option must be an ioredis client \(got object\)/ })
  t.match(await registrationError({ client: own, host: undefined, port: undefined, closeClient: 'yes' }), { code: 'FRR_ERR_INVALID_SETTING', message: /^closeClient option must be true or false/ })
  t.match(await registrationError({ client: own, host: undefined, port: undefined, requirePassword: true }), { code: 'FRR_ERR_PASSWORD_REQUIRED' })
  // REDIS_PASSWORD reaches the named clients, not the client passed: it still sends none.
  t.match(await registrationError({ client: own, host: undefined, port: undefined, requirePassword: true, env: { REDIS_PASSWORD: SECRET } }), { code: 'FRR_ERR_PASSWORD_REQUIRED', message: /"default" has no password.*create the client with a password/ })
  t.match(await registrationError({ client: null, host: undefined, port: undefined }), { code: 'FRR_ERR_INVALID_SETTING', message: /^client option must be an ioredis client \(got null\)/ })
  t.equal(own.status, 'wait', 'a refused registration never connects the client')
})

t.test('client: an ioredis Cluster is refused until clusters are served', async (t) => {
  const { Cluster } = await import('ioredis')
  const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })
  t.match(await registrationError({ client: cluster, host: undefined, port: undefined }), { code: 'FRR_ERR_INVALID_SETTING', message: /^client option is an ioredis Cluster/ })
})

t.test('client already closed for good: the app boots, and health says why', async (t) => {
  const own = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 100 })
  own.disconnect()
  t.equal(own.status, 'end')
  const test = await buildApp({ client: own })
  t.teardown(() => test.app.close())
  const report = await test.app.redisHealth()
  t.equal(report.clients.default?.state, 'down')
  t.equal(report.clients.default?.failure, 'connection-lost')
  t.equal(report.rateLimit.mode, 'local')
})

t.test('stringNumbers passes through, and the rate limiter still counts in numbers', async (t) => {
  const server = await startRedis()
  const test = await buildApp({ env: { REDIS_URL: server.url }, stringNumbers: true, rateLimit: { max: 2, timeWindow: 60_000 } }, (app) => {
    app.get('/limited-read', { config: { rateLimit: { max: 5, timeWindow: 60_000 } } }, async () => ({ ok: true }))
  })
  t.teardown(() => test.app.close())
  t.equal(await test.app.redis.incr('n'), '1', 'the app gets strings, as it asked')
  const statuses = []
  for (let i = 0; i < 3; i++) {
    const res = await test.app.inject('/plain')
    statuses.push([res.statusCode, res.headers['x-ratelimit-remaining']])
  }
  t.same(statuses, [[200, '1'], [200, '0'], [429, '0']])
  t.equal((await test.app.redisHealth()).rateLimit.mode, 'redis')
  t.match((await test.app.redisHealth()).rateLimit, { decisionsOutsideRedis: 0 })
})

t.test('client already connected, for an ACL user: checked as on a connect, shown with its user', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.equal(await server.command('ACL', 'SETUSER', 'app', 'on', '>app-Pa55', '~*', '+@all'), '+OK')
  const own = new Redis({ host: '127.0.0.1', port: server.port, username: 'app', password: 'app-Pa55', enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 300 })
  t.teardown(() => { own.disconnect() })
  await new Promise((resolve) => own.once('ready', resolve))
  const test = await buildApp({ client: own })
  t.teardown(() => test.app.close())
  const health = await test.app.redisHealth()
  t.equal(health.clients.default?.state, 'ready')
  t.equal(health.clients.default?.url, `redis://app:***@127.0.0.1:${server.port}/0`)
  t.match(test.connectionLogs()[0], { redisState: 'ready', msg: /^Redis "default" connected/ })
  t.notOk(test.logText().includes('app-Pa55'))
})

t.test('client already connected with a password to a server that has none: the AUTH check still runs', async (t) => {
  const open = await startRedis()
  const own = new Redis({ host: '127.0.0.1', port: open.port, password: SECRET, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 300 })
  t.teardown(() => { own.disconnect() })
  own.on('error', () => {})
  await new Promise((resolve) => own.once('ready', resolve))
  const test = await buildApp({ client: own })
  t.teardown(() => test.app.close())
  t.ok(await waitFor(() => test.connectionLogs().some((line) => line.redisFailure === 'password-not-required'), EVENTUALLY_MS), 'found on the client that was ready before the plugin saw it')
  t.notOk(test.logText().includes(SECRET))
})

t.test('client already connected with the right password: the AUTH check passes, ready', async (t) => {
  const locked = await startRedis({ password: SECRET })
  const own = new Redis({ host: '127.0.0.1', port: locked.port, password: SECRET, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 300 })
  t.teardown(() => { own.disconnect() })
  await new Promise((resolve) => own.once('ready', resolve))
  const test = await buildApp({ client: own })
  t.teardown(() => test.app.close())
  t.ok(await waitFor(async () => (await test.app.redisHealth()).clients.default?.state === 'ready', EVENTUALLY_MS))
  t.match(test.connectionLogs()[0], { redisState: 'ready', msg: /^Redis "default" connected/ })
})

t.test('client on a Unix socket: monitored, and known by its path', async (t) => {
  const socket = join(mkdtempSync(join(tmpdir(), 'frr-sock-')), 'redis.sock')
  const server = await startRedis({ extraArgs: ['--unixsocket', socket, '--unixsocketperm', '700'] })
  const own = new Redis({ path: socket, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 300 })
  t.teardown(() => { own.disconnect(); rmSync(dirname(socket), { recursive: true, force: true }) })
  const test = await buildApp({ client: own })
  t.teardown(() => test.app.close())
  t.equal(await test.app.redis.ping(), 'PONG')
  const health = await test.app.redisHealth()
  t.equal(health.clients.default?.state, 'ready')
  t.match(health.clients.default?.url, socket)
  await server.kill()
  t.ok(await waitFor(() => test.connectionLogs().some((l) => l.redisState === 'down'), 5000), 'its outage is logged')
})
