// The measurements, one function per kind. Each starts what it needs (its own
// redis-server on a free loopback port, one app process), measures, and stops
// everything it started before returning, whatever happened.
import { setTimeout as sleep } from 'node:timers/promises'
import { startApp } from './app-process.js'
import { combine, hammer, trickle } from './load.js'
import { HOST, freePort, rawCommand, startRedis } from './redis.js'

export const FAULTS = ['healthy', 'healthy-many-clients', 'refused', 'hanging', 'password-missing']
/** Each connection a client of its own (one counter per connection, 50 keys), instead of all from 127.0.0.1 (one key). */
const MANY_CLIENTS = 'healthy-many-clients'
export const BOOT_STATES = ['up', 'refused', 'hanging', 'password-missing', 'password-wrong']
const PASSWORD = 'bench-secret'

/** The counter keys each variant writes (load comes from 127.0.0.1, one key). */
export const COUNTER = {
  'status-quo': { prefix: 'fastify-rate-limit-', key: 'fastify-rate-limit-127.0.0.1' },
  plugin: { prefix: 'frr-rate-limit:', key: 'frr-rate-limit:127.0.0.1', exclude: ['frr-rate-limit:probe', 'frr-rate-limit:__frr_probe__'] },
}

const urlOf = (port, password) => `redis://${password === undefined ? '' : `:${password}@`}${HOST}:${port}`

async function withRedis (options, use) {
  const redis = await startRedis(options)
  try {
    return await use(redis)
  } finally {
    await redis.kill()
  }
}

async function withApp (variant, options, use) {
  const boot = await startApp(variant, options)
  try {
    return await use(boot)
  } finally {
    await boot.app.stop()
  }
}

/**
 * Throughput of every variant while Redis is in state `fault`. All apps are
 * started (each with its own redis-server) and warmed up with Redis healthy
 * (password-missing: Redis requires a password the apps lack from the start).
 * Then the load is sliced: `rounds` rounds, each giving every variant one
 * slice of `sliceS` seconds, the order rotating, so background noise on the
 * machine hits every variant alike. Only one app is loaded at a time. A
 * variant's fault is injected right before its first slice, so the switch to
 * the fault is part of what is measured. Healthy slices send a fixed number
 * of requests, so the counter in Redis can be compared with the answers
 * exactly.
 */
export async function throughput (fault, variants, { sliceS, rounds, warmupS, pluginDir }) {
  const distinctClients = fault === MANY_CLIENTS
  const healthy = fault === 'healthy' || distinctClients
  const apps = []
  try {
    // Started side by side (booting is no measurement here), then loaded one at a time.
    const started = await Promise.allSettled(variants.map(async (variant) => {
      const entry = { variant, slices: [] }
      apps.push(entry)
      if (variant !== 'none' && variant !== 'rate-limit-memory') entry.redis = await startRedis({ password: fault === 'password-missing' ? PASSWORD : undefined })
      entry.boot = await startApp(variant, { redisUrl: entry.redis === undefined ? undefined : urlOf(entry.redis.port), pluginDir, trustProxy: distinctClients })
    }))
    // Every start settled (nothing left half-started for the cleanup below to miss).
    const failed = started.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    apps.sort((a, b) => variants.indexOf(a.variant) - variants.indexOf(b.variant))
    for (const entry of apps) {
      if (!entry.boot.ok) continue
      // In two halves: the second one's rate (JIT warm by then) sizes the first healthy slice.
      await hammer(entry.boot.port, { duration: warmupS / 2, distinctClients })
      const warm = await hammer(entry.boot.port, { duration: warmupS / 2, distinctClients })
      entry.rate = Math.max(warm.reqPerSec, 500)
    }
    if (healthy) {
      await sleep(200) // requests cut off at the end of a warm-up finish on the server
      for (const { redis } of apps) if (redis !== undefined) await redis.command('FLUSHALL')
    }
    for (let round = 0; round < rounds; round++) {
      for (const entry of rotate(apps, round)) {
        if (!entry.boot.ok) continue
        if (round === 0 && entry.redis !== undefined) {
          if (fault === 'refused') await entry.redis.kill()
          if (fault === 'hanging') entry.redis.pause()
        }
        const common = { appPid: entry.boot.app.pid, redisPid: entry.redis?.pid, distinctClients }
        // Healthy slices: as many requests as the last rate says fit in sliceS.
        const amount = Math.max(1000, Math.round(entry.rate * sliceS))
        const slice = await hammer(entry.boot.port, healthy ? { amount, ...common } : { duration: sliceS, ...common })
        if (healthy) {
          slice.amount = amount
          entry.rate = Math.max(slice.reqPerSec, 500)
        }
        entry.slices.push(slice)
      }
    }
    const results = {}
    for (const entry of apps) {
      const { variant, boot, redis, slices } = entry
      if (!boot.ok) {
        results[variant] = { booted: false, bootMessage: boot.message, bootMs: Math.round(boot.bootMs) }
        continue
      }
      const result = { booted: true, ...combine(slices), slices: slices.map(({ latencies, ...slice }) => slice), ioredisLogLines: boot.app.ioredisLines }
      // Without the first slice, which holds the switch to the fault (e.g. the one command timeout a hang costs).
      if (slices.length > 1) result.afterFirstSlice = combine(slices.slice(1))
      const counter = COUNTER[variant.split('@')[0]]
      if (healthy && counter !== undefined) {
        const { sum, keys } = await redis.sumKeys(counter.prefix, counter.exclude)
        result.counted = sum
        result.counterKeys = keys
        result.exact = sum === result.ok && result.ok === slices.reduce((total, slice) => total + slice.amount, 0)
      }
      results[variant] = result
    }
    return results
  } finally {
    for (const { boot } of apps) await boot?.app.stop()
    for (const { redis } of apps) await redis?.kill()
  }
}

const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length])

/**
 * Time from spawn until the app listens (or gives up) with Redis in `state`
 * at boot: up, refused (nothing listens on the port), hanging (SIGSTOPped:
 * the kernel accepts the connection, nothing answers), or requiring a
 * password the app lacks / has wrong.
 */
export async function boot (variant, state, { pluginDir }) {
  const measure = async (redisUrl) => withApp(variant, { redisUrl, pluginDir }, async (b) => ({
    ok: b.ok,
    ms: b.bootMs,
    ...(b.ok ? {} : { message: b.message }),
    ioredisLogLines: b.app.ioredisLines,
  }))
  switch (state) {
    case 'up': return withRedis({}, (redis) => measure(urlOf(redis.port)))
    case 'refused': return measure(urlOf(await freePort()))
    case 'hanging': return withRedis({}, async (redis) => {
      redis.pause()
      return measure(urlOf(redis.port))
    })
    case 'password-missing': return withRedis({ password: PASSWORD }, (redis) => measure(urlOf(redis.port)))
    case 'password-wrong': return withRedis({ password: PASSWORD }, (redis) => measure(urlOf(redis.port, 'not-the-password')))
  }
  throw new Error(`unknown boot state ${state}`)
}

/**
 * With the app under light load (a request every 10 ms), Redis is killed,
 * stays away `outageMs`, and comes back empty on the same port. Measured:
 * from the moment the new server answers until the first request is counted
 * in it (its counter key exists), polled every 5 ms; null if not within 15 s.
 */
export async function recovery (variant, outageMs, { pluginDir }) {
  return withRedis({}, async (redis) => withApp(variant, { redisUrl: urlOf(redis.port), pluginDir }, async (b) => {
    if (!b.ok) return { booted: false, bootMessage: b.message }
    const { key } = COUNTER[variant.split('@')[0]]
    const load = trickle(b.port, 10)
    try {
      await sleep(500)
      const before = await redis.command('EXISTS', key)
      await redis.kill()
      const answeredAtKill = load.counts.answered
      await sleep(outageMs)
      await redis.restart()
      const back = performance.now()
      const answeredAtReturn = load.counts.answered
      let recoveryMs = null
      while (performance.now() - back < 15_000) {
        const reply = await rawCommand(redis.port, undefined, ['EXISTS', key], 1000).catch(() => ':0')
        if (reply === ':1') {
          recoveryMs = performance.now() - back
          break
        }
        await sleep(5)
      }
      return {
        booted: true,
        countedBeforeOutage: before === ':1',
        recoveryMs,
        answeredDuringOutage: answeredAtReturn - answeredAtKill,
        sent: load.counts.sent,
        ioredisLogLines: b.app.ioredisLines,
      }
    } finally {
      load.stop()
    }
  }))
}
