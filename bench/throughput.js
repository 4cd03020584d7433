// Throughput of every variant in one scenario (see scenario-list.js): each
// variant in its own app process with its own redis-server (or cluster),
// warmed up, then loaded in interleaved slices, one app at a time; counting
// checked against Redis afterwards.
import { setTimeout as sleep } from 'node:timers/promises'
import { startApp } from './app-process.js'
import { limiterReport, probeRefusal } from './checks.js'
import { startCluster } from './cluster.js'
import { combine, hammer } from './load.js'
import { HOST, startRedis } from './redis.js'

const PASSWORD = 'bench-secret'
/** The abusive client, and another over-limit key for the warm-up (so the measured key starts fresh). */
export const ABUSIVE_ADDRESS = '10.9.9.9'
const WARM_ADDRESS = '10.8.8.8'

/** The counter keys each variant writes (prefixes), and the keys that are not request counters. */
const COUNTERS = {
  'status-quo': { prefixes: ['fastify-rate-limit-'] },
  // '{frr-rate-limit}:' is today's default on a cluster; 'frr-rate-limit:' the one-server default (and the cluster's once it batches per slot)
  plugin: { prefixes: ['frr-rate-limit:', '{frr-rate-limit}:'], excludeEndings: ['__frr_probe__', ':probe'] },
  'rate-limiter-flexible': { prefixes: ['rlf-global:', 'rlf-own:'] },
  // The diagnostic references of issue 14 (selected with --variants only).
  'floor-batched': { prefixes: ['floor-rate-limit:'] },
  'floor-count-behind': { prefixes: ['behind-rate-limit:'] },
}

const baseOf = (variant) => variant.split('@')[0].split('~')[0]
const onCluster = (variant) => variant.split('@')[0].endsWith('~cluster')
const needsRedis = (variant) => !['none', 'rate-limit-memory'].includes(baseOf(variant))
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length])

async function startVariant (variant, scenario, pluginDir) {
  const entry = { variant, slices: [] }
  const env = scenario.kind === 'abusive' ? { BENCH_MAX: String(scenario.max), BENCH_WINDOW_MS: String(scenario.windowMs) } : {}
  let redisUrl
  if (needsRedis(variant) && onCluster(variant)) {
    entry.redis = await startCluster()
    redisUrl = `redis+cluster://${entry.redis.nodeList}`
    env.BENCH_CLUSTER_NODES = entry.redis.nodeList
  } else if (needsRedis(variant)) {
    entry.redis = await startRedis({ password: scenario.fault === 'password-missing' ? PASSWORD : undefined })
    redisUrl = `redis://${HOST}:${entry.redis.port}`
  }
  entry.boot = await startApp(variant, { redisUrl, pluginDir, trustProxy: scenario.clients > 1 || scenario.kind === 'abusive', env })
  return entry
}

/**
 * Runs `scenario` for its variants. Healthy (and cluster) slices send a fixed
 * number of requests sized to last about a slice, so the counters in Redis
 * can be compared with the answers exactly; abusive slices send 100 × max
 * requests in all from one client, whose admitted requests must be max;
 * outage slices last `sliceS`. A variant's fault is injected right before its
 * first slice, so the switch to the fault is inside the measurement.
 */
export async function throughput (scenario, variants, { sliceS, rounds, warmupS, pluginDir }) {
  const { kind, fault, path, clients, connections } = scenario
  const counts = kind === 'healthy' || kind === 'cluster'
  const load = kind === 'abusive' ? { path, connections, address: ABUSIVE_ADDRESS } : { path, connections, clients }
  const apps = []
  try {
    // Started side by side (booting is no measurement here), then loaded one at a time.
    const started = await Promise.allSettled(variants.map(async (variant) => { apps.push(await startVariant(variant, scenario, pluginDir)) }))
    const failed = started.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    apps.sort((a, b) => variants.indexOf(a.variant) - variants.indexOf(b.variant))
    for (const entry of apps) {
      if (!entry.boot.ok) continue
      const warm = kind === 'abusive' ? { ...load, address: WARM_ADDRESS } : load
      // In two halves: the second one's rate (JIT warm by then) sizes the first healthy slice.
      await hammer(entry.boot.port, { ...warm, duration: warmupS / 2 })
      entry.rate = Math.max((await hammer(entry.boot.port, { ...warm, duration: warmupS / 2 })).answeredPerSec, 500)
    }
    if (counts) {
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
        const measureRedis = entry.redis !== undefined && fault !== 'refused' && fault !== 'hanging'
        const common = { ...load, appPid: entry.boot.app.pid, redisCpuMs: measureRedis ? () => entry.redis.cpuMs() : undefined }
        const amount = kind === 'abusive' ? Math.ceil(100 * scenario.max / rounds) : Math.max(1000, Math.round(entry.rate * sliceS))
        const slice = await hammer(entry.boot.port, kind === 'outage' ? { ...common, duration: sliceS } : { ...common, amount })
        if (kind !== 'outage') {
          slice.amount = amount
          entry.rate = Math.max(slice.answeredPerSec, 500)
        }
        entry.slices.push(slice)
      }
    }
    const results = {}
    for (const entry of apps) results[entry.variant] = await resultOf(entry, scenario, counts)
    return results
  } finally {
    for (const { boot } of apps) await boot?.app.stop()
    for (const { redis } of apps) await redis?.kill()
  }
}

async function resultOf ({ variant, boot, redis, slices }, scenario, counts) {
  if (!boot.ok) return { booted: false, bootMessage: boot.message, bootMs: Math.round(boot.bootMs) }
  const result = { booted: true, ...combine(slices), slices: slices.map(({ latencies, ...slice }) => slice), ioredisLogLines: boot.app.ioredisLines }
  // Without the first slice, which holds the switch to the fault (e.g. the one decision timeout a hang costs).
  if (slices.length > 1) result.afterFirstSlice = combine(slices.slice(1))
  // Why a count could differ from Redis's: decisions this package made outside Redis (e.g. a reply later than decisionTimeout).
  if (baseOf(variant) === 'plugin') result.limiter = await limiterReport(boot.port)
  const sent = slices.reduce((total, slice) => total + (slice.amount ?? 0), 0)
  const counter = COUNTERS[baseOf(variant)]
  if (counts && counter !== undefined) {
    const { sum, keys, perNode } = await redis.sumKeys(counter.prefixes, counter.excludeEndings)
    Object.assign(result, { counted: sum, counterKeys: keys.length, perNode, exact: sum === result.ok && result.ok === sent })
  }
  if (scenario.kind === 'abusive' && baseOf(variant) !== 'none') {
    // Every request answered, exactly max of them admitted in the one window the run lasts.
    result.admitted = result.ok
    result.admittedExact = result.ok === scenario.max && result.answered === sent
    result.probe = await probeRefusal(baseOf(variant), boot.port, { address: ABUSIVE_ADDRESS, max: scenario.max, redis })
    result.exact = result.admittedExact && result.probe.exact
  }
  return result
}
