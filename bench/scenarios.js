// Boot and recovery (throughput is throughput.js). Each starts what it needs
// (its own redis-server on a free loopback port, one app process), measures,
// and stops everything it started before returning, whatever happened.
import { setTimeout as sleep } from 'node:timers/promises'
import { startApp } from './app-process.js'
import { trickle } from './load.js'
import { HOST, freePort, rawCommand, startRedis } from './redis.js'

export const BOOT_STATES = ['up', 'refused', 'hanging', 'password-missing', 'password-wrong']
const PASSWORD = 'bench-secret'

/** The counter key each variant writes (load comes from 127.0.0.1, one key). */
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
