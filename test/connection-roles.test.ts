// Connection roles against a real redis-server: blocking reads that are not
// cut at the command timeout yet still bounded, subscriptions that survive a
// restart, and duplicates that are watched like the clients they come from.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { Redis } from 'ioredis'
import { buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'Roles-Secret-5Tq'

t.teardown(stopAllRedis)
const server = await startRedis({ password: SECRET })

const clients = { jobs: { role: 'blocking' as const }, channels: { role: 'subscriber' as const }, worker: { role: 'queue' as const } }

t.test('blocking: BLPOP and XREAD BLOCK wait their own time, not the command timeout', async (t) => {
  const { app } = await buildApp({ url: server.url, rateLimit: false, clients })
  t.teardown(() => app.close())
  const jobs = app.redis.jobs as Redis
  setTimeout(() => { void app.redis.rpush('frr:queue', 'job-1') }, 900)
  t.same(await jobs.blpop('frr:queue', 3), ['frr:queue', 'job-1'], 'the value pushed after the command timeout arrives')
  t.equal(await jobs.blpop('frr:queue', 1), null, 'an empty list: null when its own time is up, not an error')
  setTimeout(() => { void app.redis.xadd('frr:stream', '*', 'n', '1') }, 900)
  const read = await jobs.xread('BLOCK', 3000, 'STREAMS', 'frr:stream', '$') as Array<[string, unknown[]]> | null
  t.equal(read?.[0]?.[0], 'frr:stream', 'XREAD BLOCK gets the entry added after the command timeout')
  t.equal(await jobs.get('frr:none'), null, 'other commands work on it too')
  await t.rejects(app.redis.blpop('frr:queue', 2), { message: 'Command timed out' }, 'on a command client the same BLPOP is cut at the command timeout')
})

t.test('blocking: a hanging server is found within block time + command timeout, and the connection comes back', async (t) => {
  const own = await startRedis({ password: SECRET })
  const built = await buildApp({ url: own.url, rateLimit: false, clients })
  t.teardown(() => built.app.close())
  const jobs = built.app.redis.jobs as Redis
  own.pause()
  await t.rejects(jobs.blpop('frr:queue', 1), { message: 'Command timed out' }, 'not forever')
  t.ok(await waitFor(() => built.connectionLogs().some((line) => line.redisClient === 'jobs' && line.redisState === 'down'), EVENTUALLY_MS), 'the connection was dropped and the monitor says so')
  own.resume()
  t.ok(await waitFor(async () => (await built.app.redisHealth()).clients.jobs?.state === 'ready', EVENTUALLY_MS), 'back')
  t.equal(await jobs.blpop('frr:queue', 1), null)
  await own.kill()
})

t.test('subscriber: a duplicate subscribed straight away gets messages, and again after the server restarts', async (t) => {
  const own = await startRedis({ password: SECRET })
  const built = await buildApp({ url: own.url, rateLimit: false, clients })
  t.teardown(() => built.app.close())
  const pub = built.app.redis.channels as Redis
  const sub = pub.duplicate()
  const received: string[] = []
  sub.on('message', (_channel: string, message: string) => { received.push(message) })
  // As the ioredis README writes it: no await for a connection first.
  await sub.subscribe('frr:news')
  await pub.publish('frr:news', 'before')
  t.ok(await waitFor(() => received.includes('before'), EVENTUALLY_MS))
  // Idle for longer than the socket timeout: a subscriber waits for messages, it is not hanging.
  await sleep(1200)
  await pub.publish('frr:news', 'after idle')
  t.ok(await waitFor(() => received.includes('after idle'), EVENTUALLY_MS))
  t.notOk(built.connectionLogs().some((line) => line.redisClient === 'channels.1' && line.redisState === 'down'), 'never dropped while idle')

  await own.restart()
  t.ok(await waitFor(async () => await own.command('PUBSUB', 'NUMSUB', 'frr:news') === '*2\r\n$8\r\nfrr:news\r\n:1', EVENTUALLY_MS), 'subscribed again after the restart')
  t.ok(await waitFor(async () => {
    await pub.publish('frr:news', 'after').catch(() => 0)
    return received.includes('after')
  }, EVENTUALLY_MS))
  t.notOk(built.logText().includes(SECRET))
  await own.kill()
})

t.test('the default client: app.redis.duplicate() subscribed straight after registration gets messages, through a restart and a pause', async (t) => {
  const own = await startRedis({ password: SECRET })
  const built = await buildApp({ url: own.url, rateLimit: false })
  t.teardown(() => built.app.close())
  // The pinned user code, as the ioredis README writes it: no wait, no await.
  const sub = built.app.redis.duplicate()
  void sub.subscribe('frr:news')
  const received: string[] = []
  sub.on('message', (_channel: string, message: string) => { received.push(message) })
  const arrives = (message: string): Promise<boolean> => waitFor(async () => {
    await built.app.redis.publish('frr:news', message).catch(() => 0)
    return received.includes(message)
  }, EVENTUALLY_MS)
  t.ok(await arrives('first'), 'subscribed without waiting for ready')
  await own.restart()
  t.ok(await arrives('after restart'), 'subscribed again on the restarted server')
  own.pause()
  await sleep(1500)
  own.resume()
  t.ok(await arrives('after pause'), 'still subscribed after the server resumes')
  t.notOk(built.logText().includes(SECRET), 'no password in any output')
  await own.kill()
})

t.test('duplicates are watched: own name, health entry, log lines, closed with the app', async (t) => {
  const built = await buildApp({ url: server.url, rateLimit: false, clients })
  const copy = built.app.redis.duplicate()
  const named = (built.app.redis.jobs as Redis).duplicate({ connectionName: 'bull:worker' })
  t.ok(copy.listenerCount('error') > 0, 'an error listener: no "[ioredis] Unhandled error event"')
  t.ok(await waitFor(async () => {
    const health = await built.app.redisHealth()
    return health.clients['default.1']?.state === 'ready' && health.clients['jobs.1']?.state === 'ready'
  }, EVENTUALLY_MS), 'in the health report under their own names')
  const list = await server.command('CLIENT', 'LIST')
  t.match(list, /name=fastify-resilient-redis:default\.1 /, 'a connection name of its own')
  t.match(list, /name=bull:worker /, 'or the one its caller gave')
  t.ok(built.connectionLogs().some((line) => line.redisClient === 'default.1' && /connected/.test(String(line.msg))), 'its own log line')

  // A duplicate its owner closes leaves the report.
  const gone = built.app.redis.duplicate()
  await waitFor(() => gone.status === 'ready', EVENTUALLY_MS)
  await gone.quit()
  t.ok(await waitFor(async () => (await built.app.redisHealth()).clients['default.2'] === undefined, EVENTUALLY_MS))

  await built.app.close()
  t.ok(await waitFor(() => copy.status === 'end' && named.status === 'end', EVENTUALLY_MS), 'closed with the app')
})

t.test('a command nobody awaits fails during an outage without an unhandled rejection', async (t) => {
  const own = await startRedis({ password: SECRET })
  const built = await buildApp({ url: own.url, rateLimit: false, clients })
  t.teardown(() => built.app.close())
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })
  await own.kill()
  await waitFor(() => (built.app.redis.channels as Redis).status !== 'ready', EVENTUALLY_MS)
  // As @socket.io/redis-adapter publishes: fire and forget.
  void (built.app.redis.channels as Redis).publish('frr:news', 'lost')
  void built.app.redis.set('frr:k', 'v')
  await sleep(200)
  t.same(unhandled, [])
  await t.rejects(built.app.redis.get('frr:k'), 'a caller that awaits still gets the error')
})

t.test('queue: the settings BullMQ requires of Worker and QueueEvents connections', async (t) => {
  const { app } = await buildApp({ url: server.url, rateLimit: false, clients })
  t.teardown(() => app.close())
  const worker = app.redis.worker as Redis
  t.match(worker.options, { maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined, socketTimeout: undefined })
  t.equal(worker.duplicate().options.maxRetriesPerRequest, null, 'and so do its duplicates (BullMQ makes one per Worker)')
  t.match(app.redis.options, { maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 500 }, 'the default client stays fail-fast')
})

t.test('subscriber: pattern and sharded subscriptions come back too, unsubscribed ones do not; a refused one is logged once', async (t) => {
  const own = await startRedis({ password: SECRET })
  await own.command('ACL', 'SETUSER', 'listener', 'on', `>${SECRET}`, '~*', '&*', '+@all')
  const url = `redis://listener:${encodeURIComponent(SECRET)}@127.0.0.1:${own.port}`
  const built = await buildApp({ url, rateLimit: false, clients })
  t.teardown(() => built.app.close())
  const sub = (built.app.redis.channels as Redis).duplicate()
  await sub.subscribe('frr:a', 'frr:b')
  await sub.unsubscribe('frr:b')
  // All of them (ioredis settles this only when no subscription of any kind is left).
  await sub.unsubscribe()
  await sub.subscribe('frr:c')
  // ioredis also takes arrays of channels.
  await (sub.psubscribe as (...args: unknown[]) => Promise<unknown>).call(sub, ['frr:p:*'])
  await sub.ssubscribe('frr:s')
  await sub.subscribe(Buffer.from('frr:d'), () => {})

  await own.command('CLIENT', 'KILL', 'TYPE', 'pubsub')
  t.ok(await waitFor(async () => await own.command('PUBSUB', 'NUMSUB', 'frr:d') === '*2\r\n$5\r\nfrr:d\r\n:1', EVENTUALLY_MS), 'subscribed again')
  t.equal(await own.command('PUBSUB', 'NUMSUB', 'frr:c'), '*2\r\n$5\r\nfrr:c\r\n:1')
  t.equal(await own.command('PUBSUB', 'NUMSUB', 'frr:a'), '*2\r\n$5\r\nfrr:a\r\n:0', 'not what was unsubscribed')
  t.equal(await own.command('PUBSUB', 'NUMSUB', 'frr:b'), '*2\r\n$5\r\nfrr:b\r\n:0')
  t.equal(await own.command('PUBSUB', 'NUMPAT'), ':1', 'the pattern too')
  t.equal(await own.command('PUBSUB', 'SHARDNUMSUB', 'frr:s'), '*2\r\n$5\r\nfrr:s\r\n:1', 'and the sharded channel')

  // Channels this user may no longer use: Redis drops the connection, and the subscription is refused on reconnect.
  await own.command('ACL', 'SETUSER', 'listener', 'resetchannels', '&other:*')
  t.ok(await waitFor(() => built.pluginLogs().some((line) => /refused a subscription/.test(String(line.msg))), EVENTUALLY_MS))
  const refused = built.pluginLogs().filter((line) => /refused a subscription/.test(String(line.msg)))
  t.match(refused[0], { level: 50, redisClient: 'channels.1', msg: /NOPERM/ })
  t.notOk(built.logText().includes(SECRET))
  await own.kill()
})

t.test('blocking: a BLPOP consumer loop lives through a kill and a restart, and consumes again after', async (t) => {
  const own = await startRedis({ password: SECRET })
  const built = await buildApp({ url: own.url, rateLimit: false, clients })
  t.teardown(() => built.app.close())
  const jobs = built.app.redis.jobs as Redis
  const consumed: string[] = []
  const failures: string[] = []
  let running = true
  // The loop an app writes: wait up to 1 s for a job, back off a little on an error.
  const loop = (async () => {
    for (let turn = 0; running && turn < 2000; turn++) {
      try {
        const popped = await jobs.blpop('frr:jobs', 1)
        if (popped !== null) consumed.push(popped[1])
      } catch (error) {
        failures.push((error as Error).message)
        await sleep(50)
      }
    }
  })()
  await built.app.redis.rpush('frr:jobs', 'before')
  t.ok(await waitFor(() => consumed.includes('before'), EVENTUALLY_MS))
  await own.kill()
  await sleep(1500)
  await own.restart()
  t.ok(await waitFor(async () => (await built.app.redisHealth()).clients.jobs?.state === 'ready', EVENTUALLY_MS), 'back')
  t.ok(await waitFor(async () => {
    await built.app.redis.rpush('frr:jobs', 'after').catch(() => 0)
    return consumed.includes('after')
  }, EVENTUALLY_MS), 'consuming again after the restart')
  running = false
  await loop
  t.ok(failures.length > 0, `the loop saw the outage as errors (${failures.length}), not as a hang or a crash`)
  t.ok(failures.every((message) => /Stream isn't writeable|Connection is closed|max retries|Command timed out/.test(message)), `only outage errors: ${[...new Set(failures)].join(' | ')}`)
  await own.kill()
})
