// During an outage every request that needs Redis answers 503. The log says
// so once and then counts, instead of an error-level stack per request; the
// app's own error handler still gets every error.
import t from 'tap'
import Fastify from 'fastify'
import { buildApp, captureLogs, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { RedisUnavailableError, resilientRedis } from '../src/index.js'
import { UnavailableReplies } from '../src/unavailable-log.js'

const SECRET = 'S3cret-Pa55word!'
t.teardown(stopAllRedis)

const fromRequests = (logs: Array<Record<string, unknown>>): Array<Record<string, unknown>> => logs.filter((l) => l.reqId !== undefined)

t.test('an outage under load: one line at the first 503, a count at the end, no stack per request', async (t) => {
  const server = await startRedis({ password: SECRET })
  const test = await buildApp({ env: { REDIS_URL: server.url }, rateLimit: false })
  await server.kill()
  t.ok(await waitFor(() => test.connectionLogs().some((l) => l.redisState === 'down'), EVENTUALLY_MS))
  const statuses = new Set<number>()
  for (let i = 0; i < 40; i++) statuses.add((await test.app.inject('/redis')).statusCode)
  t.same([...statuses], [503])
  const errorLines = test.logs.filter((l) => (l.level as number) >= 50)
  t.same(errorLines, [], 'nothing at error level: no stack per request')
  t.equal(fromRequests(test.logs).filter((l) => l.msg === 'request completed').length, 40, 'Fastify still records each request (info)')
  const first = test.pluginLogs().filter((l) => l.redisUnavailable !== undefined)
  t.equal(first.length, 1, 'one line for the first 503')
  t.match(first[0], { level: 40, redisUnavailable: { route: 'GET /redis' }, msg: /^Answering 503 \(Redis unavailable\) to GET \/redis: Stream isn't writeable/ })
  await test.app.close()
  const summaries = test.pluginLogs().filter((l) => (l.redisUnavailable as { answered503?: number } | undefined)?.answered503 !== undefined)
  t.equal(summaries.length, 1, 'what was not yet summed up is logged at close')
  t.match(summaries[0], { level: 40, redisUnavailable: { answered503: 39, routes: { 'GET /redis': 39 } }, msg: '39 more requests answered 503 (Redis unavailable): GET /redis ×39' })
  t.notOk(test.logText().includes(SECRET))
})

t.test('the app\'s own error handler still receives each error, and its own error lines are kept', async (t) => {
  const server = await startRedis()
  const { stream, logs } = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(resilientRedis, { env: {}, host: '127.0.0.1', port: server.port, rateLimit: false })
  const seen: Array<{ statusCode?: number; code?: string }> = []
  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, request, reply) => {
    seen.push({ statusCode: error.statusCode, code: error.code })
    reply.log.error({ err: new Error('logged by the app') }, 'the app logs this itself')
    return reply.code(error.statusCode ?? 500).send({ mine: true })
  })
  app.get('/redis', async () => app.redis.get('k'))
  app.get('/own', async () => { throw new RedisUnavailableError() })
  await app.ready()
  t.teardown(() => app.close())
  await server.kill()
  t.ok(await waitFor(() => app.redis.status !== 'ready', EVENTUALLY_MS))
  const res = await app.inject('/redis')
  t.equal(res.statusCode, 503)
  t.same(res.json(), { mine: true })
  t.equal((await app.inject('/own')).statusCode, 503)
  t.same(seen, [{ statusCode: 503, code: 'FRR_ERR_REDIS_UNAVAILABLE' }, { statusCode: 503, code: 'FRR_ERR_REDIS_UNAVAILABLE' }])

  t.equal(logs.filter((l) => l.msg === 'the app logs this itself' && l.level === 50).length, 2, 'an error the app logs itself is left alone')
})

t.test('a RedisUnavailableError a route throws itself: the first line gives its cause', async (t) => {
  const test = await buildApp({ host: '127.0.0.1', port: 1, rateLimit: false }, (app) => {
    app.get('/own-with-cause', async () => { throw new RedisUnavailableError({ cause: new Error('the cache cluster is failing over') }) })
    app.get('/own', async () => { throw new RedisUnavailableError() })
  })
  t.equal((await test.app.inject('/own-with-cause')).statusCode, 503)
  t.match(test.pluginLogs().find((l) => l.redisUnavailable !== undefined), { msg: /to GET \/own-with-cause: the cache cluster is failing over\./ })
  t.equal((await test.app.inject('/own')).statusCode, 503)
  await test.app.close()
  t.match(test.pluginLogs().find((l) => (l.redisUnavailable as { answered503?: number } | undefined)?.answered503 !== undefined), { msg: '1 more request answered 503 (Redis unavailable): GET /own ×1' })
})

t.test('other 500s keep Fastify\'s error line', async (t) => {
  const test = await buildApp({ host: '127.0.0.1', port: 1, rateLimit: false }, (app) => {
    app.get('/boom', async () => { throw new Error('not about Redis') })
  })
  t.teardown(() => test.app.close())
  t.equal((await test.app.inject('/boom')).statusCode, 500)
  t.equal(test.logs.filter((l) => l.level === 50 && l.msg === 'not about Redis').length, 1)
})

t.test('the count: a series per outage, a line per interval while 503s go on', async (t) => {
  const lines: Array<{ obj: object; msg: string }> = []
  const logger = { info: () => {}, error: () => {}, warn: (obj: object, msg: string) => { lines.push({ obj, msg }) } }
  const replies = new UnavailableReplies(logger, 30)
  // No route URL: a not-found handler's request is named by its own URL.
  const request = (method: string, url: string) => ({ method, url, routeOptions: url === '/c' ? {} : { url } }) as never
  replies.record(request('GET', '/a'), 'Connection is closed.')
  replies.record(request('GET', '/a'), 'Connection is closed.')
  replies.record(request('POST', '/b'), 'Connection is closed.')
  t.equal(lines.length, 1, 'the first one at once')
  t.ok(await waitFor(() => lines.length === 2, EVENTUALLY_MS), 'then a count')
  t.equal(lines[1]?.msg, '2 more requests answered 503 (Redis unavailable): GET /a ×1, POST /b ×1')
  // A quiet interval ends the series: the next 503 is logged at once again.
  t.ok(await waitFor(() => !replies.inSeries, EVENTUALLY_MS))
  replies.record(request('GET', '/c'), 'back again')
  t.match(lines[2]?.msg, /^Answering 503 \(Redis unavailable\) to GET \/c: back again/)
  replies.record(request('GET', '/c'), 'back again')
  replies.close()
  t.equal(lines[3]?.msg, '1 more request answered 503 (Redis unavailable): GET /c ×1')
  replies.close()
  t.equal(lines.length, 4, 'nothing more to say')
})
