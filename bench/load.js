// Load from the parent process: autocannon (programmatic) for throughput, and
// a light open-loop trickle for the recovery measurements.
import { readFileSync } from 'node:fs'
import http from 'node:http'
import autocannon from 'autocannon'

const TICKS_PER_MS = 100 / 1000 // USER_HZ is 100 on Linux

/** CPU time (user + system, ms) a process has used so far; 0 when it is gone. */
export function cpuMs (pid) {
  if (pid === undefined) return 0
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS
  } catch {
    return 0
  }
}

export const LOAD = { connections: 50, timeoutS: 1 }

/** The statuses counted apart; anything else answered is `other`. */
const STATUSES = ['2xx', '429', '503', 'other']
const statusOf = (code) => code >= 200 && code <= 299 ? '2xx' : code === 429 ? '429' : code === 503 ? '503' : 'other'

/**
 * `duration` seconds of load, or exactly `amount` requests (every one
 * answered: what the counting check needs), on `path`. Clients: `clients`
 * 1 sends no X-Forwarded-For (the key is 127.0.0.1) unless `address` is
 * given (one made-up client, every connection), more gives each connection
 * its own address (the app trusts the proxy). Rates run to the last
 * response, not to autocannon's next sampling tick.
 *
 * Throughput is counted twice: `okPerSec` (2xx only) and `answeredPerSec`
 * (every answer, whatever its status, split in `statuses`), so that
 * scenarios where the limiter refuses can be compared. Latencies are those
 * of every answer. CPU: `appPid` from /proc, `redisCpuMs()` (INFO cpu of the
 * bench's own redis-server(s)) before and after; both per answer.
 */
export async function hammer (port, { duration, amount, path = '/', connections = LOAD.connections, timeoutS = LOAD.timeoutS, appPid, redisCpuMs, clients = 1, address }) {
  // autocannon's own histogram keeps whole milliseconds; keep every latency (float ms) instead.
  let latencies = new Float64Array(1 << 16)
  let count = 0
  let last = 0
  const statuses = Object.fromEntries(STATUSES.map((s) => [s, 0]))
  const redisBefore = redisCpuMs === undefined ? null : await redisCpuMs()
  const appBefore = cpuMs(appPid)
  const started = performance.now()
  const instance = autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections,
    timeout: timeoutS,
    // autocannon stops (and reports) on its sampling tick: every 100 ms, not every second, so a duration is kept
    sampleInt: 100,
    ...(amount === undefined ? { duration } : { amount }),
    ...(address !== undefined ? { headers: { 'x-forwarded-for': address } } : clients > 1 ? { setupClient: clientAddress() } : {}),
  })
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    last = performance.now()
    statuses[statusOf(statusCode)]++
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2)
      grown.set(latencies)
      latencies = grown
    }
    latencies[count++] = responseTime
  })
  const result = await instance
  const appCpuMs = cpuMs(appPid) - appBefore
  const redisAfter = redisCpuMs === undefined ? null : await redisCpuMs()
  const elapsedS = amount === undefined ? result.duration : ((last || performance.now()) - started) / 1000
  return rates({
    answered: count,
    statuses,
    elapsedS,
    // socket errors other than timeouts; timeouts on their own
    errors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    appCpuMs,
    redisCpuMs: redisBefore === null || redisAfter === null ? null : redisAfter - redisBefore,
  }, latencies.subarray(0, count))
}

/** Per-second and per-answer figures, and percentiles, of summed counts. */
function rates (counts, latencies) {
  const { answered, elapsedS, appCpuMs, redisCpuMs } = counts
  return {
    ...counts,
    ok: counts.statuses['2xx'],
    answeredPerSec: answered / elapsedS,
    okPerSec: counts.statuses['2xx'] / elapsedS,
    // CPU time the app (and its Redis) used per answered request: barely moved by other load on the machine
    appCpuUsPerReq: answered === 0 ? null : appCpuMs * 1000 / answered,
    redisCpuUsPerReq: answered === 0 || redisCpuMs === null ? null : redisCpuMs * 1000 / answered,
    ...percentiles(latencies),
    latencies,
  }
}

function clientAddress () {
  let next = 0
  return (client) => {
    const i = next++
    client.setHeaders({ 'x-forwarded-for': `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` })
  }
}

function percentiles (latencies) {
  const sorted = Float64Array.from(latencies).sort()
  const n = sorted.length
  const at = (p) => n === 0 ? null : sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]
  return { p50: at(50), p99: at(99), max: at(100) }
}

/** One result from several slices of load: answers over time, latencies merged (without the arrays). */
export function combine (slices) {
  const sum = (field) => slices.reduce((total, s) => total + s[field], 0)
  const merged = new Float64Array(sum('answered') + 1)
  let at = 0
  for (const { latencies } of slices) {
    merged.set(latencies, at)
    at += latencies.length
  }
  const statuses = Object.fromEntries(STATUSES.map((s) => [s, slices.reduce((total, slice) => total + slice.statuses[s], 0)]))
  const redis = slices.some((s) => s.redisCpuMs === null) ? null : sum('redisCpuMs')
  const { latencies, ...combined } = rates({ answered: sum('answered'), statuses, elapsedS: sum('elapsedS'), errors: sum('errors'), timeouts: sum('timeouts'), appCpuMs: sum('appCpuMs'), redisCpuMs: redis }, merged.subarray(0, at))
  return combined
}

/**
 * One GET every `intervalMs` whether or not the previous ones were answered
 * (open loop, at most 64 sockets, each request given up after 15 s).
 * Returns `stop()` that ends the trickle and every socket it opened.
 */
export function trickle (port, intervalMs = 10) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const counts = { sent: 0, answered: 0, failed: 0 }
  const timer = setInterval(() => {
    counts.sent++
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, timeout: 15_000 }, (res) => {
      res.resume()
      res.on('end', () => { counts.answered++ })
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => { counts.failed++ })
  }, intervalMs)
  return {
    counts,
    stop () {
      clearInterval(timer)
      agent.destroy()
    },
  }
}
