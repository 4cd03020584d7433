// (c) This plugin, imported by its public name (package self-reference to the
// repo's dist/), or from BENCH_PLUGIN_DIR (a package root, for tuning copies).
// Configured from the environment (REDIS_URL) as a user would.
import { loadPlugin } from './load-plugin.js'
import { RATE_LIMIT, serve } from './serve.js'

const { default: resilientRedis } = await loadPlugin()

// BENCH_TRACE=1: every connection and rate-limit mode change on stderr, with a wall-clock timestamp.
if (process.env.BENCH_TRACE === '1') {
  const { subscribe } = await import('node:diagnostics_channel')
  const at = () => (performance.timeOrigin + performance.now()).toFixed(1)
  subscribe('fastify-resilient-redis:connection', ({ state, previous }) => process.stderr.write(`trace ${at()} connection ${previous.status} -> ${state.status} ${state.failure ?? ''}\n`))
  subscribe('fastify-resilient-redis:rate-limit', ({ mode, previous, cause }) => process.stderr.write(`trace ${at()} rate-limit ${previous} -> ${mode} ${cause ?? ''}\n`))
}

await serve(async (app) => {
  // The health route (never rate limited) lets the harness read the limiter's report after the load.
  await app.register(resilientRedis, { rateLimit: RATE_LIMIT, healthRoute: '/health/redis' })
})
