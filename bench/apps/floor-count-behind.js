// Diagnostic reference (issue 14, not part of the default run): counting
// *behind* the answer. Each request is decided at once from a count kept in
// this process and answered without waiting for Redis; once per event-loop
// phase the phase's counts go to Redis in one pipeline (INCRBY, PEXPIRE NX),
// whose replies nobody waits for. Redis ends up with every request counted
// (the harness's exactness check holds once the last pipeline lands), but a
// request's count and headers are this process's, not the count shared by
// every instance: with several instances, up to instances × max requests
// pass in a window. Not a design this package can ship as its default; it
// shows what the Redis write alone costs when nothing waits for it.
import rateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import { RATE_LIMIT, serve } from './serve.js'

const client = new Redis(process.env.REDIS_URL)

/** This process's windows: counter → { current, resetAt }. */
const windows = new Map()
/** Counts not yet written to Redis: counter → { n, window }. */
let unsent = new Map()
let scheduled = false

function send () {
  scheduled = false
  const batch = unsent
  unsent = new Map()
  const pipeline = client.pipeline()
  for (const [counter, { n, window }] of batch) pipeline.incrby(counter, n).pexpire(counter, window, 'NX')
  pipeline.exec()
}

class CountBehindStore {
  constructor (_globalParams, prefix = 'behind-rate-limit:') { this.prefix = prefix }

  incr (key, callback, timeWindow) {
    const counter = this.prefix + key
    const now = Date.now()
    let entry = windows.get(counter)
    if (entry === undefined || entry.resetAt <= now) windows.set(counter, entry = { current: 0, resetAt: now + timeWindow })
    entry.current++
    const pending = unsent.get(counter)
    if (pending === undefined) unsent.set(counter, { n: 1, window: timeWindow })
    else pending.n++
    if (!scheduled) {
      scheduled = true
      setImmediate(send)
    }
    callback(null, { current: entry.current, ttl: entry.resetAt - now })
  }

  child (routeOptions) {
    return new CountBehindStore(undefined, `${this.prefix}${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}:`)
  }
}

await serve(async (app) => {
  await app.register(rateLimit, { ...RATE_LIMIT, store: CountBehindStore })
})
