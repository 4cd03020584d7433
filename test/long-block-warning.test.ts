// A command that blocks for the command timeout or longer, sent to a client of
// role command (BullMQ's Worker given app.redis, a BLPOP consumer on the
// default client), is cut at that timeout. It is said once, with the role to
// use instead; short blocking reads and other roles say nothing.
import t from 'tap'
import type { Redis } from 'ioredis'
import { buildApp } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'Long-Block-Secret-7'

t.teardown(stopAllRedis)

const warnings = (lines: Array<Record<string, unknown>>): unknown[] => lines.filter((line) => line.redisCommand !== undefined).map((line) => `${String(line.redisClient)} ${String(line.redisCommand)}`)

t.test('role command: one warning for the first long block, none for short ones or other roles', async (t) => {
  const server = await startRedis({ password: SECRET })
  const built = await buildApp({ url: `redis://127.0.0.1:${server.port}`, password: SECRET, rateLimit: false, clients: { jobs: { role: 'blocking' } } })
  t.teardown(() => built.app.close())
  const { redis } = built.app
  t.equal(await redis.blpop('frr:none', 0.05), null, 'a block shorter than the command timeout answers')
  await redis.xread('STREAMS', 'frr:stream', '0')
  t.same(warnings(built.pluginLogs()), [], 'nothing said for short blocks and XREAD without BLOCK')

  await t.rejects(redis.blpop('frr:none', 2), /Command timed out|Socket timeout/, 'a long block is cut at the command timeout')
  await redis.ping().catch(() => undefined)
  await (redis.jobs as Redis).blpop('frr:none', 1)
  const duplicate = redis.duplicate()
  await t.rejects(duplicate.bzpopmin('frr:none', 0), /Command timed out|Socket timeout|Connection/, 'a block forever too')
  t.same(warnings(built.pluginLogs()), ['default BLPOP', 'default.1 BZPOPMIN'], 'once per client of role command, naming the command')
  t.match(built.pluginLogs().find((line) => line.redisCommand === 'BLPOP')?.msg, /role 'blocking'.*'queue'/, 'with the roles to use')
  t.notOk(built.logText().includes(SECRET), 'no password in the log')
})
