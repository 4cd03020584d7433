// The plugin with Fastify's default logger (JSON lines, level info) into
// BENCH_LOG_FILE, and a route that needs Redis: what an app logs while Redis
// is down. Loaded like plugin.js (BENCH_PLUGIN_DIR for another build).
import Fastify from 'fastify'
import { loadPlugin } from './load-plugin.js'

const { default: resilientRedis } = await loadPlugin()
const app = Fastify({ logger: { level: 'info', file: process.env.BENCH_LOG_FILE } })
await app.register(resilientRedis, { rateLimit: { max: 1e9, timeWindow: '1 minute' } })
app.get('/', async () => ({ visits: await app.redis.incr('bench:visits') }))
await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`listening ${app.server.address().port}\n`)
process.once('SIGTERM', () => process.exit(0))
