#!/usr/bin/env node
// What an app logs during a Redis outage under load: Redis killed, then
// `--seconds` (10) of load on a route that needs Redis, for this build and,
// with --before DIR, another build of the package (e.g. the last release).
// Counts the log lines written during the outage, by level, and their bytes.
//
//   node bench/outage-logs.js [--seconds 10] [--connections 10] [--before /path/to/package/root]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { startApp } from './app-process.js'
import { killAllRedis, startRedis } from './redis.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' }, before: { type: 'string' } } })
const seconds = Number(values.seconds)
const connections = Number(values.connections)
const LEVELS = { 30: 'info', 40: 'warn', 50: 'error' }

async function measure (label, pluginDir) {
  const dir = mkdtempSync(join(tmpdir(), 'frr-logs-'))
  const logFile = join(dir, 'app.log')
  process.env.BENCH_LOG_FILE = logFile
  const redis = await startRedis({ password: 'bench-secret' })
  const started = await startApp(pluginDir === undefined ? 'plugin-logging' : `plugin-logging@${pluginDir}`, { redisUrl: `redis://:bench-secret@127.0.0.1:${redis.port}/0` })
  if (!started.ok) throw new Error(`${label}: app did not boot (${started.message})`)
  await sleep(300)
  const before = readFileSync(logFile, 'utf8').length
  await redis.kill()
  const result = await autocannon({ url: `http://127.0.0.1:${started.port}/`, connections, duration: seconds })
  await sleep(200)
  started.app.stop()
  const lines = readFileSync(logFile, 'utf8').slice(before).split('\n').filter(Boolean).map((line) => JSON.parse(line))
  rmSync(dir, { recursive: true, force: true })
  const byLevel = {}
  for (const line of lines) byLevel[LEVELS[line.level] ?? line.level] = (byLevel[LEVELS[line.level] ?? line.level] ?? 0) + 1
  const requestLines = lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed').length
  return {
    label,
    requests: result.requests.total,
    status503: result['5xx'],
    lines: lines.length,
    byLevel,
    withStack: lines.filter((l) => typeof l.err?.stack === 'string').length,
    otherThanRequestLines: lines.length - requestLines,
    bytes: Buffer.byteLength(lines.map((l) => JSON.stringify(l)).join('\n')),
    secretLeaked: lines.some((l) => JSON.stringify(l).includes('bench-secret')),
  }
}

try {
  const rows = []
  if (values.before !== undefined) rows.push(await measure('before', values.before))
  rows.push(await measure('this build'))
  for (const r of rows) {
    process.stdout.write(`${r.label}: ${r.requests} requests in ${seconds} s (${r.status503} answered 503), ${r.lines} log lines (${JSON.stringify(r.byLevel)}), ${r.withStack} with a stack, ${r.otherThanRequestLines} besides Fastify's incoming/completed lines, ${(r.bytes / 1024).toFixed(0)} KiB; password in the log: ${r.secretLeaked ? 'YES' : 'no'}\n`)
  }
} finally {
  killAllRedis()
}
