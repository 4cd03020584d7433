// Apps test their rate limits with a fake clock (@sinonjs/fake-timers, as
// Jest and Vitest use; node:test's mock timers, as @fastify/rate-limit's own
// suite does). Counting must not wait on a timer such a clock controls: every
// request still answers, counted in Redis, while the clock stands still.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mock } from 'node:test'
import { fileURLToPath } from 'node:url'
import FakeTimers from '@sinonjs/fake-timers'
import { buildApp, EVENTUALLY_MS, type TestApp } from './helpers/app.js'
import { startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'

t.teardown(stopAllRedis)

// Taken before any clock is faked, to bound each request: a regression fails here instead of hanging.
const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout

async function answered<T> (work: Promise<T>): Promise<T | 'never answered'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const never = new Promise<'never answered'>((resolve) => { timer = realSetTimeout(() => { resolve('never answered') }, EVENTUALLY_MS) })
  try {
    return await Promise.race([work, never])
  } finally {
    realClearTimeout(timer)
  }
}

async function limitedApp (server: RedisServer): Promise<TestApp> {
  return buildApp({ host: '127.0.0.1', port: server.port, rateLimit: { max: 3, timeWindow: 60_000 } })
}

/** Five requests to a route limited to 3 a minute, with the clock faked from the first to the last. */
async function fiveRequests (t: Test, test: TestApp, server: RedisServer): Promise<void> {
  const statuses: number[] = []
  const remaining: unknown[] = []
  for (let i = 0; i < 5; i++) {
    const res = await answered(test.app.inject('/plain'))
    if (res === 'never answered') {
      t.fail(`request ${i + 1} never answered while the clock was fake`)
      return
    }
    statuses.push(res.statusCode)
    remaining.push(res.headers['x-ratelimit-remaining'])
  }
  t.same(statuses, [200, 200, 200, 429, 429], 'every request answered, the limit applied')
  t.same(remaining, ['2', '1', '0', '0', '0'])
  const report = await test.app.redisHealth()
  t.equal(report.rateLimit.mode, 'redis')
  t.equal((report.rateLimit as { decisionsOutsideRedis: number }).decisionsOutsideRedis, 0, 'no decision fell back to memory')
  const keys = await server.command('KEYS', 'frr-rate-limit:*')
  t.match(keys, /\*1\r\n/, 'the counter is in Redis')
}

t.test('@sinonjs/fake-timers (its defaults but the microtask queue, as Jest and Vitest fake)', async (t) => {
  const server = await startRedis()
  const test = await limitedApp(server)
  t.teardown(() => test.app.close())
  const clock = FakeTimers.install({ toNotFake: ['nextTick', 'queueMicrotask'] })
  try {
    await fiveRequests(t, test, server)
  } finally {
    clock.uninstall()
  }
})

t.test('node:test mock timers, as @fastify/rate-limit\'s own tests use them', async (t) => {
  const server = await startRedis()
  const test = await limitedApp(server)
  t.teardown(() => test.app.close())
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate', 'Date'], now: 0 })
  try {
    await fiveRequests(t, test, server)
  } finally {
    mock.timers.reset()
  }
})

// A clock faked before the package loads (Jest's fakeTimers.enableGlobally, a setup file): what the
// package takes for Node's setImmediate is then the fake. A child process runs the built package by
// its public name, as an app would, with the fake installed first.
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const FAKED_FIRST = `
import FakeTimers from '@sinonjs/fake-timers'
import { mock } from 'node:test'
if (process.env.FAKE === 'sinon') FakeTimers.install({ toNotFake: ['nextTick', 'queueMicrotask'] })
else mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate', 'Date'], now: 0 })
const { default: Fastify } = await import('fastify')
const { default: resilientRedis } = await import('fastify-resilient-redis')
const app = Fastify()
await app.register(resilientRedis, { env: JSON.parse(process.env.APP_ENV), rateLimit: { max: 3, timeWindow: 60000 } })
app.get('/plain', async () => 'ok')
await app.ready()
const statuses = []
for (let i = 0; i < 5; i++) statuses.push((await app.inject('/plain')).statusCode)
const report = await app.redisHealth()
console.log(JSON.stringify({ statuses, mode: report.rateLimit.mode, outside: report.rateLimit.decisionsOutsideRedis }))
process.exit(0)
`

function runFakedFirst (fake: 'sinon' | 'node:test', server: RedisServer): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', FAKED_FIRST], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', FAKE: fake, APP_ENV: JSON.stringify({ REDIS_URL: server.url }) },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    // A regression hangs the requests: bounded here, in the parent, whose clock is real.
    const killer = realSetTimeout(() => { child.kill('SIGKILL') }, 60_000)
    child.on('exit', (code) => { realClearTimeout(killer); resolve({ code, stdout, stderr }) })
  })
}

for (const fake of ['sinon', 'node:test'] as const) {
  t.test(`a clock faked (${fake}) before the package loads: every request answered, counted in Redis`, async (t) => {
    const server = await startRedis()
    const run = await runFakedFirst(fake, server)
    t.equal(run.code, 0, `the child exited by itself: ${run.stderr}`)
    t.same(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}'), { statuses: [200, 200, 200, 429, 429], mode: 'redis', outside: 0 })
    // The fifth is refused in process: Redis's reply to the fourth said the key is over its limit.
    t.match(await server.command('GET', 'frr-rate-limit:127.0.0.1'), /\$1\r\n4/, 'Redis counted up to the first refusal')
  })
}
