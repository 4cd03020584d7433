// (c) This plugin, imported by its public name (package self-reference to the
// repo's dist/), or from BENCH_PLUGIN_DIR (a package root, for tuning copies).
// Configured from the environment (REDIS_URL) as a user would.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { RATE_LIMIT, serve } from './serve.js'

async function load () {
  const dir = process.env.BENCH_PLUGIN_DIR
  if (dir === undefined || dir === '') return import('fastify-resilient-redis')
  const { exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  return import(pathToFileURL(join(dir, exports['.'].import.default)).href)
}

const { default: resilientRedis } = await load()

// BENCH_TRACE=1: every connection and rate-limit mode change on stderr, with a wall-clock timestamp.
if (process.env.BENCH_TRACE === '1') {
  const { subscribe } = await import('node:diagnostics_channel')
  const at = () => (performance.timeOrigin + performance.now()).toFixed(1)
  subscribe('fastify-resilient-redis:connection', ({ state, previous }) => process.stderr.write(`trace ${at()} connection ${previous.status} -> ${state.status} ${state.failure ?? ''}\n`))
  subscribe('fastify-resilient-redis:rate-limit', ({ mode, previous, cause }) => process.stderr.write(`trace ${at()} rate-limit ${previous} -> ${mode} ${cause ?? ''}\n`))
}

await serve(async (app) => {
  await app.register(resilientRedis, { rateLimit: RATE_LIMIT })
})
