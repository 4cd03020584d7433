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

/**
 * `duration` seconds of load, or exactly `amount` requests (every one
 * answered: what the counting check needs). req/s runs to the last response,
 * not to autocannon's next one-second tick.
 */
export async function hammer (port, { duration, amount, connections = LOAD.connections, timeoutS = LOAD.timeoutS, appPid, redisPid, distinctClients = false }) {
  // autocannon's own histogram keeps whole milliseconds; keep every 2xx latency (float ms) instead.
  let latencies = new Float64Array(1 << 16)
  let count = 0
  let last = 0
  const cpuBefore = [cpuMs(appPid), cpuMs(redisPid)]
  const started = performance.now()
  const instance = autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections,
    timeout: timeoutS,
    // autocannon stops (and reports) on its sampling tick: every 100 ms, not every second, so a duration is kept
    sampleInt: 100,
    ...(amount === undefined ? { duration } : { amount }),
    // one client address per connection (X-Forwarded-For; the app trusts the proxy): one counter each
    ...(distinctClients ? { setupClient: clientAddress() } : {}),
  })
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    last = performance.now()
    if (statusCode < 200 || statusCode > 299) return
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2)
      grown.set(latencies)
      latencies = grown
    }
    latencies[count++] = responseTime
  })
  const result = await instance
  const appCpuMs = cpuMs(appPid) - cpuBefore[0]
  const redisCpuMs = cpuMs(redisPid) - cpuBefore[1]
  const elapsedS = amount === undefined ? result.duration : ((last || performance.now()) - started) / 1000
  const ok = result['2xx']
  return {
    ok,
    elapsedS,
    reqPerSec: ok / elapsedS,
    // non-2xx answers and socket errors; timeouts are counted on their own
    errors: result.non2xx + (result.errors - result.timeouts),
    timeouts: result.timeouts,
    // CPU time the app (and its Redis) used per answered request: barely moved by other load on the machine
    appCpuUsPerReq: ok === 0 ? null : appCpuMs * 1000 / ok,
    redisCpuUsPerReq: ok === 0 || redisPid === undefined ? null : redisCpuMs * 1000 / ok,
    appCpuMs,
    redisCpuMs,
    ...percentiles(latencies.subarray(0, count)),
    latencies: latencies.subarray(0, count),
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

/** One result from several slices of load: answers over time, latencies merged. */
export function combine (slices) {
  const sum = (field) => slices.reduce((total, s) => total + s[field], 0)
  const merged = new Float64Array(sum('ok') + 1)
  let at = 0
  for (const { latencies } of slices) {
    merged.set(latencies, at)
    at += latencies.length
  }
  const ok = sum('ok')
  const elapsedS = sum('elapsedS')
  const appCpuMs = sum('appCpuMs')
  const redisCpuMs = sum('redisCpuMs')
  return {
    ok,
    elapsedS,
    reqPerSec: ok / elapsedS,
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    appCpuUsPerReq: ok === 0 ? null : appCpuMs * 1000 / ok,
    redisCpuUsPerReq: ok === 0 ? null : redisCpuMs * 1000 / ok,
    ...percentiles(merged.subarray(0, at)),
  }
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
