// A Fastify app with the plugin registered, its log lines captured in memory,
// and two routes: one that never touches Redis and one that does.
import Fastify, { type FastifyInstance } from 'fastify'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { resilientRedis, type ResilientRedisOptions } from '../../src/index.js'

export interface TestApp {
  app: FastifyInstance
  /** Every log line so far, as parsed JSON objects. */
  logs: Array<Record<string, unknown>>
  /** Log lines written by this plugin (bound `plugin: 'fastify-resilient-redis'`). */
  pluginLogs: () => Array<Record<string, unknown>>
  /** The plugin's connection state lines (those with `redisState`), without the rate limiter's. */
  connectionLogs: () => Array<Record<string, unknown>>
  /** All log output as one string, for grepping secrets. */
  logText: () => string
  /** Milliseconds `register` + `ready` took. */
  bootMs: number
}

export interface CapturedLogs {
  /** A stream for Fastify's `logger: { stream }`. */
  stream: Writable
  /** Every line so far, parsed. */
  logs: Array<Record<string, unknown>>
  /** Every line so far, as written. */
  logText: () => string
}

/** Collects a pino logger's JSON lines in memory. */
export function captureLogs (): CapturedLogs {
  const logs: Array<Record<string, unknown>> = []
  const raw: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue
        raw.push(line)
        logs.push(JSON.parse(line) as Record<string, unknown>)
      }
      done()
    },
  })
  return { stream, logs, logText: () => raw.join('\n') }
}

export async function buildApp (options: ResilientRedisOptions, routes?: (app: FastifyInstance) => void): Promise<TestApp> {
  const { stream, logs, logText } = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream } })
  const started = performance.now()
  await app.register(resilientRedis, { env: {}, ...options })
  app.get('/plain', async () => ({ ok: true }))
  app.get('/redis', async () => ({ value: await app.redis.get('frr:test') }))
  routes?.(app)
  await app.ready()
  const bootMs = performance.now() - started
  return {
    app,
    logs,
    pluginLogs: () => logs.filter((line) => line.plugin === 'fastify-resilient-redis'),
    connectionLogs: () => logs.filter((line) => line.plugin === 'fastify-resilient-redis' && line.redisState !== undefined),
    logText,
    bootMs,
  }
}

/**
 * How long a test waits for what must happen on its own (a reconnect, a probe that succeeds, a
 * state change): generous, so that only a bug (it never happens) fails the wait, never a busy
 * machine. How fast it happens is measured by the benchmarks (npm run bench), not by tests.
 */
export const EVENTUALLY_MS = 15_000

/**
 * Bound on register + ready where the point is that boot never waits on a sick Redis. Registration
 * waits at most connectWait (1 s); one that waited on the sick server instead would wait until
 * Fastify's plugin timeout (10 s) fails ready() itself. Below that, this names the bug clearly,
 * and no busy machine comes near it.
 */
export const BOOT_BOUND_MS = 8000

/** Polls `check` every 25 ms until it returns true, for at most `ms`. */
export async function waitFor (check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(25)
  }
  return check()
}
