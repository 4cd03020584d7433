// An ACL user missing one permission the plugin needs, against a real
// redis-server: one error-level line naming what is missing and the rule that
// grants it, a health report that says where decisions are made, no counter
// left without an expiry, each request counted in exactly one place, nothing
// printed outside the app's logger, and `check` failing on the same user.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { runCli } from '../src/cli/run-cli.js'
import { aclRule } from '../src/acl-rule.js'
import { buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'Acl-Admin-Secret-4Rw'
const USER_SECRET = 'Acl-User-Secret-8Kd'
const REQUESTS = 8
const MAX = 5
const ALL = ['+eval', '+evalsha', '+incrby', '+pexpire', '+pttl', '+ping']

t.teardown(stopAllRedis)
const server = await startRedis({ password: SECRET })

/** An empty server that has never seen the limiter's script (EVALSHA alone works only where it has). */
async function reset (): Promise<void> {
  await server.command('FLUSHALL')
  await server.command('SCRIPT', 'FLUSH')
}

/** Creates `user` with every permission the plugin needs but those in `without`, and `keys` as its key pattern. */
async function user (name: string, without: string[], keys = '~frr-rate-limit:*'): Promise<string> {
  const rules = ALL.filter((rule) => !without.includes(rule))
  const reply = await server.command('ACL', 'SETUSER', name, 'reset', 'on', `>${USER_SECRET}`, keys, ...rules)
  if (reply !== '+OK') throw new Error(`ACL SETUSER ${name}: ${reply}`)
  return `redis://${name}:${USER_SECRET}@127.0.0.1:${server.port}`
}

/** Every counter the limiter left: its count and expiry. */
async function counters (): Promise<Array<{ key: string; count: number; pttl: number }>> {
  const listed = await server.command('KEYS', 'frr-rate-limit:*')
  // Not the background probe's own counter, nor check's.
  const keys = listed.split('\r\n').filter((line) => line.startsWith('frr-rate-limit:') && !line.includes('__frr_'))
  return Promise.all(keys.map(async (key) => ({
    key,
    count: Number((await server.command('GET', key)).split('\r\n')[1]),
    pttl: Number((await server.command('PTTL', key)).slice(1)),
  })))
}

/** What console.warn / console.error printed while `run` ran (ioredis prints its warnings there). */
async function consoleOutput (run: () => Promise<void>): Promise<string[]> {
  const printed: string[] = []
  const { warn, error } = console
  console.warn = (...args: unknown[]) => { printed.push(args.join(' ')) }
  console.error = (...args: unknown[]) => { printed.push(args.join(' ')) }
  try {
    await run()
  } finally {
    Object.assign(console, { warn, error })
  }
  return printed
}

async function check (url: string): Promise<{ code: number; report: { connections: Array<{ ok: boolean; failure: { step: string; class: string } | null; fixes: string[]; steps: Array<{ name: string; status: string; detail: string }> }> }; output: string }> {
  let output = ''
  const code = await runCli(['check', '--json', '--fix-auth'], { env: { REDIS_URL: url }, stdout: (s) => { output += s }, stderr: (s) => { output += s } })
  return { code, report: JSON.parse(output), output }
}

const MISSING = [
  { name: 'noevalsha', without: ['+evalsha'], names: "'evalsha'" },
  { name: 'noeval', without: ['+eval'], names: "'eval'" },
  { name: 'noincrby', without: ['+incrby'], names: "'incrby'" },
  { name: 'nopexpire', without: ['+pexpire'], names: "'pexpire'" },
  { name: 'nopttl', without: ['+pttl'], names: "'pttl'" },
  { name: 'nokeys', without: [], keys: '~app:*', names: 'keys' },
]

for (const missing of MISSING) {
  t.test(`a user without ${missing.names}: counted in one place, one error line with the rule, degraded, check fails`, async (t) => {
    await reset()
    const url = await user(missing.name, missing.without, missing.keys)
    let logs: Array<Record<string, unknown>> = []
    let logText = ''
    let report: Awaited<ReturnType<typeof check>> | undefined
    const printed = await consoleOutput(async () => {
      const built = await buildApp({ url, rateLimit: { max: MAX, timeWindow: 60_000 } })
      t.teardown(() => built.app.close())
      for (let i = 0; i < REQUESTS; i++) t.not((await built.app.inject('/plain')).statusCode, 500)
      const health = await built.app.redisHealth()
      t.equal(health.status, 'degraded', 'the limiter decides outside Redis: degraded, never up')
      t.equal(health.clients.default?.state, 'ready', 'the connection itself is fine')
      t.equal(health.rateLimit.mode, 'local')
      t.match((health.rateLimit as { cause?: string }).cause, /^Redis commands failing \(no-permission\): NOPERM /)

      // Counted in exactly one place: what Redis holds plus what memory decided is what was sent.
      const left = await counters()
      const inRedis = left.reduce((sum, counter) => sum + counter.count, 0)
      t.equal(inRedis + (health.rateLimit as { decisionsOutsideRedis: number }).decisionsOutsideRedis, REQUESTS, 'no request counted twice or lost')
      t.same(left.filter((counter) => counter.pttl < 0), [], 'no counter without an expiry')

      // The background probe (every 100 ms) keeps failing for the same reason: still one line.
      await sleep(500)
      logs = built.pluginLogs().filter((line) => line.rateLimitMode !== undefined)
      logText = built.logText()
      report = await check(url)
    })
    t.equal(logs.length, 1, 'one line for the switch, none per probe')
    t.equal(logs[0]?.level, 50, 'error level: only an operator mends it')
    t.match(logs[0]?.msg, missing.names)
    t.ok(String(logs[0]?.msg).endsWith(`grant what the limiter needs on the server: ${aclRule(missing.name)}`), 'the rule that grants it')
    t.same(printed, [], 'nothing printed outside the app logger')
    t.notOk(logText.includes(USER_SECRET), 'no password in the logs')

    const { code, report: json, output } = report as NonNullable<typeof report>
    t.equal(code, 1, 'check fails')
    t.notOk(output.includes(USER_SECRET), 'no password in check output')
    const [connection] = json.connections
    t.same(connection?.failure?.step, 'limiter')
    t.same(connection?.failure?.class, 'no-permission')
    t.match(connection?.fixes.join('\n'), aclRule(missing.name), '--fix-auth prints the rule')
  })
}

t.test('the least the rule grants is enough: counts in Redis, up, check passes, nothing printed', async (t) => {
  await reset()
  // No +info: ioredis's ready check would print a warning outside the logger for each connection.
  const url = await user('limiter', [])
  const printed = await consoleOutput(async () => {
    const { app, pluginLogs } = await buildApp({ url, rateLimit: { max: MAX, timeWindow: 60_000 } })
    t.teardown(() => app.close())
    const codes: number[] = []
    for (let i = 0; i < REQUESTS; i++) codes.push((await app.inject('/plain')).statusCode)
    t.same(codes, [200, 200, 200, 200, 200, 429, 429, 429], 'exact, in Redis')
    const health = await app.redisHealth()
    t.equal(health.status, 'up')
    t.equal(health.rateLimit.mode, 'redis')
    t.same(pluginLogs().filter((line) => line.rateLimitMode !== undefined), [])
    const left = await counters()
    // Redis counts up to the request that went over; the rest are refused in process (the over-limit cache).
    t.same(left.map((counter) => counter.count), [MAX + 1])
    t.ok(left.every((counter) => counter.pttl > 0), 'with its expiry')
    const { code, report } = await check(url)
    t.equal(code, 0, 'check passes')
    const limiter = report.connections[0]?.steps.find((step) => step.name === 'limiter')
    t.equal(limiter?.status, 'ok')
    t.match(limiter?.detail, /^the limiter's script counts on frr-rate-limit:__frr_check__ by EVAL and EVALSHA \(count \d+, expires in \d+ ms\)$/)
  })
  t.same(printed, [])
})

t.test('a user without +ping: counting in Redis goes on, health says ready and degraded (never down)', async (t) => {
  await reset()
  const url = await user('noping', ['+ping'])
  const { app } = await buildApp({ url, rateLimit: { max: MAX, timeWindow: 60_000 } })
  t.teardown(() => app.close())
  t.equal((await app.inject('/plain')).statusCode, 200)
  const health = await app.redisHealth()
  t.equal(health.status, 'degraded')
  t.equal(health.rateLimit.mode, 'redis')
  t.match(health.clients.default, { state: 'ready', failure: 'no-permission', error: /NOPERM .*'ping'/ })
  t.match(health.clients.default?.hint, aclRule('noping'))
  const { code, report } = await check(url)
  t.equal(code, 1)
  t.match(report.connections[0]?.failure, { step: 'ping', class: 'no-permission' })
})

t.test('a permission granted while the app runs: back in Redis once, by the probe', async (t) => {
  await reset()
  const url = await user('late', ['+pexpire'])
  const { app, pluginLogs } = await buildApp({ url })
  t.teardown(() => app.close())
  await app.inject('/plain')
  t.equal((await app.redisHealth()).rateLimit.mode, 'local')
  await server.command('ACL', 'SETUSER', 'late', '+pexpire')
  t.ok(await waitFor(async () => (await app.redisHealth()).rateLimit.mode === 'redis', EVENTUALLY_MS))
  const lines = pluginLogs().filter((line) => line.rateLimitMode !== undefined).map((line) => line.msg)
  t.equal(lines.length, 2, 'one line out, one back')
  t.match(lines[1], /^Rate limiting counts in Redis again after [\d.]+ s: Redis answers the background probe again/)
})

t.test('another permission missing after the first is granted: one more line naming it', async (t) => {
  await reset()
  const url = await user('twice', ['+pexpire', '+pttl'])
  const { app, pluginLogs } = await buildApp({ url })
  t.teardown(() => app.close())
  await app.inject('/plain')
  await server.command('ACL', 'SETUSER', 'twice', '+pexpire')
  t.ok(await waitFor(() => pluginLogs().some((line) => String(line.msg).includes("'pttl'")), EVENTUALLY_MS))
  const lines = pluginLogs().filter((line) => line.rateLimitMode !== undefined)
  t.equal(lines.length, 2)
  t.match(lines[0]?.msg, /^Rate limiting switched to counting in local memory \(per process\): .*'pexpire'/)
  t.match(lines[1]?.msg, /^Rate limiting still counting in local memory \(per process\), now because: .*'pttl'/)
  t.equal(lines[1]?.level, 50)
})

t.test('check counts under the app\'s own nameSpace with --rate-limit-namespace; skips the limiter when throttling is off', async (t) => {
  await reset()
  const url = await user('apprl', [], '~api:rl:*')
  const run = async (argv: string[], env: Record<string, string>): Promise<{ code: number; output: string }> => {
    let output = ''
    const code = await runCli(argv, { env, stdout: (s) => { output += s }, stderr: (s) => { output += s } })
    t.notOk(output.includes(USER_SECRET), 'no password in check output')
    return { code, output }
  }
  const wrongPrefix = await run(['check'], { REDIS_URL: url })
  t.equal(wrongPrefix.code, 1, 'the default prefix is outside this user\'s keys')
  t.match(wrongPrefix.output, /✘ limiter +no-permission: .*NOPERM this user has no permissions to access one of the keys/)
  const own = await run(['check', '--rate-limit-namespace', 'api:rl:'], { REDIS_URL: url })
  t.equal(own.code, 0)
  t.match(own.output, /✔ limiter +the limiter's script counts on api:rl:__frr_check__ by EVAL and EVALSHA/)
  const off = await run(['check'], { REDIS_URL: url, DISABLE_THROTTLING: 'true' })
  t.equal(off.code, 0)
  t.match(off.output, /- limiter +rate limiting is off \(DISABLE_THROTTLING\)/)
  const bad = await run(['check'], { REDIS_URL: url, DISABLE_THROTTLING: 'maybe' })
  t.equal(bad.code, 2, 'a value the plugin would refuse is a configuration error here too')
  t.match(bad.output, /^error FRR_ERR_INVALID_SETTING: DISABLE_THROTTLING/)
})
