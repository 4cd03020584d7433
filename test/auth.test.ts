// Authentication beyond the plain password: ACL users, and the explicit AUTH
// check that catches a password sent to a server that has none.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { BOOT_BOUND_MS, buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'

const SECRET = 'S3cret-Pa55word!'
const USER_SECRET = 'Us3r-Pa55word!'

t.teardown(stopAllRedis)

/** The bare `AUTH <password>` the check sends (HELLO carries AUTH as an argument, not like this). */
const isBareAuth = (chunk: Buffer): boolean => chunk.includes('*2\r\n$4\r\nAUTH\r\n')

t.test('an ACL user: REDIS_USERNAME with its password', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  t.equal(await server.command('ACL', 'SETUSER', 'app', 'on', `>${USER_SECRET}`, '~*', '+@all'), '+OK')
  const url = `redis://127.0.0.1:${server.port}`

  const good = await buildApp({ env: { REDIS_URL: url, REDIS_USERNAME: 'app', REDIS_PASSWORD: USER_SECRET } })
  t.teardown(() => good.app.close())
  t.equal((await good.app.inject('/redis')).statusCode, 200)
  t.equal(await good.app.redis.call('ACL', 'WHOAMI'), 'app')

  const wrong = await buildApp({ env: { REDIS_URL: url, REDIS_USERNAME: 'app', REDIS_PASSWORD: SECRET } })
  t.teardown(() => wrong.app.close())
  t.equal((await wrong.app.redisHealth()).clients.default?.failure, 'password-wrong')
  t.match(wrong.connectionLogs()[0]?.msg, /rejected ACL user "app" with the password from REDIS_PASSWORD: the user may not exist, be off, or have another password; .*REDIS_USERNAME/)
  t.notOk(good.logText().includes(USER_SECRET) || wrong.logText().includes(SECRET))
})

t.test('the AUTH check unanswered (a network that drops it): hanging, and retried', async (t) => {
  const server = await startRedis()
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port }, { forward: (chunk) => !isBareAuth(chunk) })
  t.teardown(async () => { await proxy.close(); await server.kill() })
  const test = await buildApp({ env: { REDIS_URL: proxy.url(SECRET) } })
  t.teardown(() => test.app.close())
  t.ok(test.bootMs < BOOT_BOUND_MS, `boot did not wait on the unanswered check (${Math.round(test.bootMs)} ms)`)
  t.equal((await test.app.inject('/redis')).statusCode, 503, 'not ready until the check answers')
  t.equal((await test.app.redisHealth()).clients.default?.failure, 'hanging')
  t.ok(await waitFor(() => proxy.connections >= 1, EVENTUALLY_MS))
  t.notOk(test.logText().includes(SECRET))
})

t.test('closing the app while the AUTH check is pending logs nothing more', async (t) => {
  const server = await startRedis()
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port }, { forward: (chunk) => !isBareAuth(chunk) })
  t.teardown(async () => { await proxy.close(); await server.kill() })
  // A long command timeout keeps the check pending, however slow the machine, until the close.
  const test = await buildApp({ env: { REDIS_URL: proxy.url(SECRET) }, connectWait: 50, commandTimeout: 5000 })
  t.ok(await waitFor(() => proxy.connections === 1, EVENTUALLY_MS), 'connected, AUTH check pending')
  const health = await test.app.redisHealth()
  t.equal(health.clients.default?.state, 'connecting', 'the health report says so')
  await test.app.close()
  const lines = test.pluginLogs().length
  await sleep(300) // the check fails as the connection closes; nothing may be logged for it
  t.equal(test.pluginLogs().length, lines, 'no line after close')
})
