// The plugin with Fastify's default logger (JSON lines, level info) into
// BENCH_LOG_FILE, and a route that needs Redis: what an app logs while Redis
// is down. Loaded like plugin.js (BENCH_PLUGIN_DIR for another build).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'

async function load () {
  const dir = process.env.BENCH_PLUGIN_DIR
  if (dir === undefined || dir === '') return import('fastify-resilient-redis')
  const { exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  return import(pathToFileURL(join(dir, exports['.'].import.default)).href)
}

const { default: resilientRedis } = await load()
const app = Fastify({ logger: { level: 'info', file: process.env.BENCH_LOG_FILE } })
await app.register(resilientRedis, { rateLimit: { max: 1e9, timeWindow: '1 minute' } })
app.get('/', async () => ({ visits: await app.redis.incr('bench:visits') }))
await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`listening ${app.server.address().port}\n`)
process.once('SIGTERM', () => process.exit(0))
