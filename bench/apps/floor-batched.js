// Diagnostic reference (issue 14, not part of the default run): the least a
// limiter that counts every request in Redis *before* answering it can cost
// under @fastify/rate-limit. One script call per event-loop phase for every
// request of that phase (the same requests for one key counted with one
// INCRBY), no limit on calls in flight, and none of the safety a real store
// needs: no deadline, no breaker, no fallback, no validation. What it
// reaches at 10 connections bounds what this package's design can reach.
import rateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import { RATE_LIMIT, serve } from './serve.js'

const client = new Redis(process.env.REDIS_URL)
// KEYS: counters; ARGV: window ms, then one n per counter. Returns current, ttl per counter.
client.defineCommand('floorIncrement', {
  lua: `
local window = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local n = tonumber(ARGV[i + 1])
  local count = redis.call('INCRBY', KEYS[i], n)
  local ttl
  if count == n then
    redis.call('PEXPIRE', KEYS[i], window)
    ttl = window
  else
    ttl = redis.call('PTTL', KEYS[i])
  end
  out[2 * i - 1] = count
  out[2 * i] = ttl
end
return out`,
})

/** Requests queued this phase: counter → callbacks, one map per window (one per route rule). */
let queued = new Map()
let scheduled = false

function flush () {
  scheduled = false
  const batch = queued
  queued = new Map()
  for (const [window, counters] of batch) {
    const keys = [...counters.keys()]
    const args = keys.map((key) => counters.get(key).length)
    client.floorIncrement(keys.length, ...keys, window, ...args, (error, reply) => {
      keys.forEach((key, i) => {
        const callbacks = counters.get(key)
        const current = reply?.[2 * i]
        const ttl = reply?.[2 * i + 1]
        callbacks.forEach((callback, j) => error ? callback(error) : callback(null, { current: current - callbacks.length + 1 + j, ttl }))
      })
    })
  }
}

class FloorStore {
  constructor (_globalParams, prefix = 'floor-rate-limit:') { this.prefix = prefix }

  incr (key, callback, timeWindow) {
    let counters = queued.get(timeWindow)
    if (counters === undefined) queued.set(timeWindow, counters = new Map())
    const counter = this.prefix + key
    const callbacks = counters.get(counter)
    if (callbacks === undefined) counters.set(counter, [callback])
    else callbacks.push(callback)
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }

  child (routeOptions) {
    return new FloorStore(undefined, `${this.prefix}${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}:`)
  }
}

await serve(async (app) => {
  await app.register(rateLimit, { ...RATE_LIMIT, store: FloorStore })
})
