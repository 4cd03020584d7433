// A Redis that is up but refuses writes — out of memory under noeviction, a
// read-only replica — against real redis-servers, under load: the limiter
// switches to memory once and back once per real change (the background probe
// never takes a reply that carries an error for health), the log and the
// health report name the reason, and `check` fails on the limiter step.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { runCli } from '../src/cli/run-cli.js'
import { buildApp, EVENTUALLY_MS, waitFor, type TestApp } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'Refusal-Secret-2Mn'

t.teardown(stopAllRedis)

/** `rounds` rounds of 20 requests from 20 clients, yielding to timers between rounds (as real sockets do). */
async function load ({ app }: TestApp, rounds: number): Promise<Record<number, number>> {
  const codes: Record<number, number> = {}
  for (let round = 0; round < rounds; round++) {
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => app.inject({ url: '/plain', remoteAddress: `10.1.${round % 7}.${i}` })))
    for (const reply of replies) codes[reply.statusCode] = (codes[reply.statusCode] ?? 0) + 1
    await sleep(5)
  }
  return codes
}

const modeLines = (built: TestApp): Array<Record<string, unknown>> => built.pluginLogs().filter((line) => line.rateLimitMode !== undefined)

async function check (url: string): Promise<{ code: number; output: string; failure: { step: string; class: string } | null }> {
  let output = ''
  const code = await runCli(['check', '--json'], { env: { REDIS_URL: url }, stdout: (s) => { output += s }, stderr: (s) => { output += s } })
  return { code, output, failure: (JSON.parse(output) as { connections: Array<{ failure: { step: string; class: string } | null }> }).connections[0]?.failure ?? null }
}

t.test('out of memory under noeviction: one switch out and one back under load, named OOM', async (t) => {
  const server = await startRedis({ password: SECRET, extraArgs: ['--maxmemory-policy', 'noeviction'] })
  const built = await buildApp({ url: server.url, rateLimit: { max: 1_000_000, timeWindow: 60_000 } })
  t.teardown(() => built.app.close())
  t.same(await load(built, 5), { 200: 100 })

  // Any limit below what the server already uses: every write is refused from now on.
  await server.command('CONFIG', 'SET', 'maxmemory', '1')
  const during = await load(built, 60)
  t.same(during, { 200: 1200 }, 'every request answered, none failed')
  const health = await built.app.redisHealth()
  t.equal(health.status, 'degraded')
  t.equal(health.rateLimit.mode, 'local')
  t.equal((health.rateLimit as { cause?: string }).cause, "Redis commands failing (out-of-memory): OOM command not allowed when used memory > 'maxmemory'.")
  const { code, output, failure } = await check(server.url)
  t.equal(code, 1, 'check fails: the limiter cannot count there')
  t.match(failure, { step: 'limiter', class: 'out-of-memory' })
  t.notOk(output.includes(SECRET))

  // What counting left in Redis: the counters of before, each with its expiry, and nothing new.
  const keys = (await server.command('KEYS', 'frr-rate-limit:*')).split('\r\n').filter((line) => line.startsWith('frr-rate-limit:'))
  t.equal(keys.length, 5 * 20, 'the 100 counters of the first rounds, none written while memory was full')
  for (const key of keys) t.ok(Number((await server.command('PTTL', key)).slice(1)) > 0, `${key} expires`)

  await server.command('CONFIG', 'SET', 'maxmemory', '0')
  t.ok(await waitFor(async () => (await built.app.redisHealth()).rateLimit.mode === 'redis', EVENTUALLY_MS), 'back once memory is free')
  await load(built, 20)
  const lines = modeLines(built)
  t.equal(lines.length, 2, `one switch out, one back (got ${lines.length})`)
  t.match(lines[0], { level: 50, msg: /^Rate limiting switched to counting in local memory \(per process\): Redis commands failing \(out-of-memory\): OOM command not allowed/ })
  t.match(lines[1], { level: 30, msg: /^Rate limiting counts in Redis again/ })
  t.equal((await built.app.redisHealth()).status, 'up')
  t.notOk(built.logText().includes(SECRET))
})

t.test('a read-only replica: counting in memory with one line, no flip storm, check fails on the limiter', async (t) => {
  const primary = await startRedis({ password: SECRET })
  const replica = await startRedis({ password: SECRET, extraArgs: ['--replicaof', '127.0.0.1', String(primary.port), '--masterauth', SECRET] })
  const built = await buildApp({ url: replica.url, rateLimit: { max: 1_000_000, timeWindow: 60_000 } })
  t.teardown(() => built.app.close())
  t.same(await load(built, 60), { 200: 1200 })
  const lines = modeLines(built)
  t.equal(lines.length, 1, `one line (got ${lines.length})`)
  t.match(lines[0], { level: 40, msg: /\(read-only\): READONLY / })
  const health = await built.app.redisHealth()
  t.equal(health.status, 'degraded')
  t.match(health.rateLimit, { mode: 'local', cause: /^Redis commands failing \(read-only\): READONLY / })
  t.equal(await replica.command('DBSIZE'), ':0', 'nothing written on the replica')
  const { code, failure } = await check(replica.url)
  t.equal(code, 1)
  t.match(failure, { step: 'limiter', class: 'read-only' })
})
