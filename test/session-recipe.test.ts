// The sessions recipe of README ("Sessions that fail open"): @fastify/session
// with connect-redis 8 (the last release that takes an ioredis client) on a
// plugin client, behind the small fail-open store wrapper README gives, against
// a real redis-server that is killed, hanging and restarted. A request that
// does not need its session is never failed by the store's outage; one that
// does is served as a new session instead of a 500.
import t, { type Test } from 'tap'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'Session-Secret-6Hn'
const COOKIE_SECRET = 'a-cookie-secret-of-at-least-32-characters!'

t.teardown(stopAllRedis)

type Done = (error?: unknown, value?: unknown) => void
interface CallbackStore {
  get: (id: string, done: Done) => void
  set: (id: string, session: unknown, done: Done) => void
  destroy: (id: string, done: Done) => void
}

// The recipe, as README gives it: a store error is logged and the request goes on without it.
function failOpenStore (store: CallbackStore, log: FastifyBaseLogger): CallbackStore {
  const skip = (what: string, done: Done, value?: unknown) => (error: unknown, result?: unknown) => {
    if (error) log.warn({ err: error }, `session store unavailable: ${what} skipped`)
    done(null, error ? value : result)
  }
  return {
    get: (id, done) => { store.get(id, skip('read', done, null)) },
    set: (id, session, done) => { store.set(id, session, skip('save', done)) },
    destroy: (id, done) => { store.destroy(id, skip('destroy', done)) },
  }
}

async function setup (t: Test, wrap: boolean) {
  const server = await startRedis({ password: SECRET })
  const built = await buildApp({ url: server.url, rateLimit: false, clients: { sessions: { db: 3 } } }, (app: FastifyInstance) => {
    const store = new RedisStore({ client: app.redis.sessions as Redis, prefix: 'sess:' }) as unknown as CallbackStore
    void app.register(fastifyCookie)
    void app.register(fastifySession, {
      secret: COOKIE_SECRET,
      cookie: { secure: false },
      saveUninitialized: false,
      store: (wrap ? failOpenStore(store, app.log) : store) as never,
    })
    void app.register(async (scope) => {
      scope.get('/visit', async (request) => {
        const visits = (request.session.get('visits' as never) as number | undefined ?? 0) + 1
        request.session.set('visits' as never, visits as never)
        return { visits }
      })
    })
  })
  t.teardown(() => built.app.close())
  const first = await built.app.inject('/visit')
  const cookie = String(first.headers['set-cookie']).split(';')[0] as string
  return { server, built, cookie }
}

t.test('healthy: the session is kept in Redis', async (t) => {
  const { built, cookie } = await setup(t, true)
  t.same((await built.app.inject({ url: '/visit', headers: { cookie } })).json(), { visits: 2 })
})

t.test('killed: a request that does not need its session is answered; one that does gets a new session', async (t) => {
  const { server, built, cookie } = await setup(t, true)
  await server.kill()
  await waitFor(() => (built.app.redis.sessions as Redis).status !== 'ready', EVENTUALLY_MS)
  t.equal((await built.app.inject({ url: '/plain', headers: { cookie } })).statusCode, 200, 'a route that never reads the session')
  const visit = await built.app.inject({ url: '/visit', headers: { cookie } })
  t.equal(visit.statusCode, 200, 'not a 500')
  t.same(visit.json(), { visits: 1 }, 'served as a new session while the store is down')
  t.ok(built.logs.some((line) => line.msg === 'session store unavailable: read skipped'))
  await server.restart()
  t.ok(await waitFor(async () => (await built.app.redisHealth()).clients.sessions?.state === 'ready', EVENTUALLY_MS))
  const again = await built.app.inject('/visit')
  const fresh = String(again.headers['set-cookie']).split(';')[0] as string
  t.same((await built.app.inject({ url: '/visit', headers: { cookie: fresh } })).json(), { visits: 2 }, 'sessions work again')
  t.notOk(built.logText().includes(SECRET))
})

t.test('hanging: answered after at most the command timeout, not held', async (t) => {
  const { server, built, cookie } = await setup(t, true)
  server.pause()
  t.teardown(() => { server.resume() })
  t.equal((await built.app.inject({ url: '/plain', headers: { cookie } })).statusCode, 200)
  t.equal((await built.app.inject({ url: '/visit', headers: { cookie } })).statusCode, 200)
})

t.test('without the wrapper, the same outage fails every request that carries a session cookie', async (t) => {
  const { server, built, cookie } = await setup(t, false)
  await server.kill()
  await waitFor(() => (built.app.redis.sessions as Redis).status !== 'ready', EVENTUALLY_MS)
  t.not((await built.app.inject({ url: '/plain', headers: { cookie } })).statusCode, 200, 'why the recipe exists: @fastify/session fails the request when the store errors')
})
