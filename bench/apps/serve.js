// Shared by every app variant: the measured route, then listen on PORT (0 =
// any free port) on loopback and print "listening <port>" for the harness.
// A failed boot prints "boot-failed <message>" and exits 1.
import Fastify from 'fastify'

/** The same tiny JSON route in every variant. */
export function addRoutes (app) {
  app.get('/', async () => ({ hello: 'world' }))
}

/** Global limit far above any run's request count: nothing is refused, only the limiter's cost is measured. */
export const RATE_LIMIT = { max: 1e9, timeWindow: '1 minute' }

export async function serve (setup) {
  // BENCH_TRUST_PROXY=1 (the many-clients scenario): the client address comes from X-Forwarded-For.
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
