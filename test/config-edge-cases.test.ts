// Edge cases found in review: each was a bug before its fix.
import t from 'tap'
import { resolveConfig } from '../src/config/index.js'
import { parseRedisUrl } from '../src/config/redis-url.js'
import { assertClientName, clientNamesFromEnv, clientUrlVariable } from '../src/config/client-names.js'

t.test('1 tls options kept with a rediss:// url option', async (t) => {
  const tls = { servername: 'x' }
  t.equal(resolveConfig({ url: 'rediss://h', tls }).connections[0]?.tls, tls)
  t.equal(resolveConfig({ clients: { cache: { url: 'rediss://c' } }, tls }).connections[1]?.tls, tls)
})
t.test('3 port 0 in a URL', async (t) => {
  t.throws(() => parseRedisUrl('redis://h:0', 'REDIS_URL'), { code: 'FRR_ERR_INVALID_SETTING', message: /^the port in REDIS_URL must be a whole number from 1 to 65535/ })
})
t.test('4 instance properties as client names', async (t) => {
  for (const name of ['status', 'options', 'stream', 'connector', 'condition', 'commandQueue']) {
    t.throws(() => assertClientName(name), { code: 'FRR_ERR_INVALID_SETTING', message: /would hide/ }, name)
  }
})
t.test('5 non-number port/db are coded errors', async (t) => {
  t.throws(() => resolveConfig({ port: true as unknown as number }), { code: 'FRR_ERR_INVALID_SETTING', message: /^port option/ })
  t.throws(() => resolveConfig({ db: true as unknown as number }), { code: 'FRR_ERR_INVALID_SETTING', message: /^db option/ })
  t.throws(() => resolveConfig({ clients: { cache: { db: null as unknown as number } } }), { code: 'FRR_ERR_INVALID_SETTING', message: /^clients\.cache\.db/ })
})
t.test('6 requirePassword hint names the clients.<name>.url option', async (t) => {
  t.throws(() => resolveConfig({ url: 'redis://:pw@main', requirePassword: true, clients: { cache: { url: 'redis://c' } } }),
    { code: 'FRR_ERR_PASSWORD_REQUIRED', message: /put the password in clients\.cache\.url/ })
  t.throws(() => resolveConfig({ url: 'redis://main', requirePassword: true }),
    { code: 'FRR_ERR_PASSWORD_REQUIRED', message: /put the password in url option/ })
})
t.test('7 env names round-trip', async (t) => {
  const env = { REDIS_CACHE_2_URL: 'redis://c', REDIS_A_1_URL: 'redis://a' }
  for (const name of clientNamesFromEnv(env)) t.ok(Object.hasOwn(env, clientUrlVariable(name)), name)
})
