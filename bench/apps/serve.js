// Shared by every app variant: the measured routes, then listen on PORT (0 =
// any free port) on loopback and print "listening <port>" for the harness.
// A failed boot prints "boot-failed <message>" and exits 1.
import Fastify from 'fastify'

/**
 * The limits, from the harness: BENCH_MAX requests per BENCH_WINDOW_MS. By
 * default far above any run's request count, so nothing is refused and only
 * the limiter's cost is measured; the abusive scenario sets a small max.
 */
const max = Number(process.env.BENCH_MAX ?? 1e9)
const timeWindow = Number(process.env.BENCH_WINDOW_MS ?? 60_000)
/** The global limit (GET /). */
export const RATE_LIMIT = { max, timeWindow }
/** GET /own has a limit of its own (`config.rateLimit`): another rule, its own counters. */
export const OWN_RATE_LIMIT = { max, timeWindow: timeWindow * 2 }

/** The same tiny JSON routes in every variant: / under the global limit, /own with its own. */
export function addRoutes (app) {
  app.get('/', async () => ({ hello: 'world' }))
  app.get('/own', { config: { rateLimit: OWN_RATE_LIMIT } }, async () => ({ hello: 'world' }))
}

export async function serve (setup) {
  // BENCH_TRUST_PROXY=1 (many clients, the abusive one): the client address comes from X-Forwarded-For.
  const app = Fastify({ logger: false, trustProxy: process.env.BENCH_TRUST_PROXY === '1' })
  try {
    await setup(app)
    addRoutes(app)
    await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
  } catch (err) {
    process.stderr.write(`boot-failed ${err.code ?? ''} ${String(err.message).split('\n')[0]}\n`)
    process.exit(1)
  }
  process.stdout.write(`listening ${app.server.address().port}\n`)
  // The harness stops apps by pid; SIGTERM exits at once (no graceful close
  // that could wait on a hanging Redis).
  process.once('SIGTERM', () => process.exit(0))
}
