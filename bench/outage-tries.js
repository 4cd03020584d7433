#!/usr/bin/env node
// Repeated outage tries of the original failure (issue 12): an app process
// with this plugin and BullMQ (bench/apps/bullmq.js) under a steady request
// load, Redis killed while a job request is in flight and restarted (empty)
// after a short outage, or stopped (SIGSTOP) and resumed. Each try gets a
// fresh redis-server and a fresh app process. Per try: did the process freeze
// (/health unanswered for more than 1 s), crash (exit, e.g. an unhandled
// rejection), how slow was /health at worst, how long after Redis answered
// again was the first job completed, how many jobs were accepted and completed.
//
//   node bench/outage-tries.js [--tries 30] [--faults kill,stop] [--outage-ms 2000]
//                              [--worker-role queue] [--json FILE]
// (npm run bench:outages builds dist/ first.)
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { startApp } from './app-process.js'
import { killAllRedis, startRedis } from './redis.js'
import { summarise, printSummary } from './outage-summary.js'

const { values } = parseArgs({
  options: {
    tries: { type: 'string', default: '30' },
    faults: { type: 'string', default: 'kill,stop' },
    'outage-ms': { type: 'string', default: '2000' },
    'worker-role': { type: 'string', default: 'queue' },
    json: { type: 'string' },
  },
})
const TRIES = Number(values.tries)
const FAULTS = values.faults.split(',')
const OUTAGE_MS = Number(values['outage-ms'])
const SECRET = 'bench-Outage-secret-7Rq'
/** A request every LOAD_EVERY_MS, open loop; each abandoned after REQUEST_BOUND_MS. */
const LOAD_EVERY_MS = 50
const REQUEST_BOUND_MS = 5000
/** /health is asked again PROBE_PAUSE_MS after each answer; no answer within FREEZE_MS is a freeze. */
const PROBE_PAUSE_MS = 10
const FREEZE_MS = 1000
/** How long a try waits for the first job completed after Redis is back before it calls it never. */
const BACK_LIMIT_MS = 10_000
const CLOCK_TICKS = 100

for (const fault of FAULTS) if (fault !== 'kill' && fault !== 'stop') throw new Error(`--faults: "${fault}" is neither kill nor stop`)
if (!(TRIES > 0)) throw new Error('--tries: a positive number')

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds (pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch { return undefined }
}

function rssMb (pid) {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024 } catch { return undefined }
}

/** /health asked one request after another: the slowest answer, and every gap longer than FREEZE_MS. */
function probeHealth (base) {
  let running = true
  let maxMs = 0
  let probes = 0
  let failures = 0
  const stalls = []
  const loop = (async () => {
    while (running) {
      const started = Date.now()
      try {
        const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(FREEZE_MS * 3) })
        await res.text()
        if (res.status !== 200) failures++
      } catch { failures++ }
      const ms = Date.now() - started
      probes++
      maxMs = Math.max(maxMs, ms)
      if (ms > FREEZE_MS) stalls.push({ at: started, ms })
      await sleep(PROBE_PAUSE_MS)
    }
  })()
  return { stop: async () => { running = false; await loop; return { maxMs, probes, failures, stalls } } }
}

/** The app's stdout lines about jobs (see bench/apps/bullmq.js), kept with the harness's own clock. */
function followJobs (child) {
  const jobs = { adding: new Set(), accepted: new Map(), refused: new Set(), completed: new Map(), loopDelays: [] }
  const waiters = new Set()
  let partial = ''
  child.stdout.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()
    for (const line of lines) {
      const [what, n, at] = line.split(' ')
      if (what === 'adding') jobs.adding.add(Number(n))
      else if (what === 'accepted') jobs.accepted.set(Number(n), Number(at))
      else if (what === 'refused') jobs.refused.add(Number(n))
      else if (what === 'completed') jobs.completed.set(Number(n), Number(at))
      else if (what === 'loop-delay') jobs.loopDelays.push({ ms: Number(n), at: Number(at) })
    }
    for (const waiter of waiters) waiter()
  })
  /** Resolves true once check() holds (checked at each stdout chunk), false after ms. */
  const until = (check, ms) => new Promise((resolve) => {
    if (check()) return resolve(true)
    const timer = setTimeout(() => { waiters.delete(waiter); resolve(false) }, ms)
    const waiter = () => { if (check()) { clearTimeout(timer); waiters.delete(waiter); resolve(true) } }
    waiters.add(waiter)
  })
  return { jobs, until }
}

/** POST /jobs every LOAD_EVERY_MS (job numbers from `from`), without waiting for answers. */
function jobLoad (base, from) {
  const statuses = {}
  const pending = new Set()
  let n = from
  const send = (number = n++) => {
    const done = fetch(`${base}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: number }), signal: AbortSignal.timeout(REQUEST_BOUND_MS) })
      .then(async (res) => { await res.text(); return String(res.status) }, () => 'none')
      .then((status) => { statuses[status] = (statuses[status] ?? 0) + 1 })
    pending.add(done)
    done.finally(() => pending.delete(done))
    return number
  }
  const timer = setInterval(send, LOAD_EVERY_MS)
  return { send, statuses, stop: async () => { clearInterval(timer); await Promise.all([...pending]); return statuses } }
}

/** Plugin log lines with a connection state, by client, from `since` (Date.now()). */
function stateLines (logFile, since) {
  const byClient = {}
  let text = ''
  try { text = readFileSync(logFile, 'utf8') } catch {}
  for (const raw of text.split('\n')) {
    if (raw === '') continue
    let line
    try { line = JSON.parse(raw) } catch { continue }
    if (line.redisState === undefined || line.time < since) continue
    ;(byClient[line.redisClient] ??= []).push(line.redisFailure === undefined ? line.redisState : `${line.redisState}:${line.redisFailure}`)
  }
  return { byClient, text }
}

async function oneTry (fault, index) {
  const dir = mkdtempSync(join(tmpdir(), 'frr-outage-'))
  const logFile = join(dir, 'app.log')
  process.env.BENCH_LOG_FILE = logFile
  process.env.BENCH_WORKER_ROLE = values['worker-role']
  const redis = await startRedis({ password: SECRET })
  const started = await startApp('bullmq', { redisUrl: `redis://:${encodeURIComponent(SECRET)}@127.0.0.1:${redis.port}/0` })
  const result = { fault, try: index + 1 }
  try {
    if (!started.ok) throw new Error(`the app did not boot: ${started.message}`)
    const { app } = started
    const base = `http://127.0.0.1:${started.port}`
    const { jobs, until } = followJobs(app.child)
    const load = jobLoad(base, 0)
    // Warm: jobs go round before the fault.
    if (!(await until(() => jobs.completed.size >= 5, 10_000))) throw new Error('no job went round before the fault')
    const health = probeHealth(base)
    const probedFrom = Date.now()
    await sleep(500)
    // The fault while a job request is in flight: one sent, its route entered, add() not yet answered.
    const inFlight = load.send()
    await until(() => jobs.adding.has(inFlight), 2000)
    const cpuBefore = cpuSeconds(app.pid)
    const faultAt = Date.now()
    if (fault === 'kill') await redis.kill()
    else redis.pause()
    result.inFlightAnswered = jobs.accepted.has(inFlight) || jobs.refused.has(inFlight)
    await sleep(OUTAGE_MS)
    if (fault === 'kill') await redis.restart()
    else redis.resume()
    const healedAt = Date.now()
    const firstAfter = () => [...jobs.completed.values()].filter((at) => at >= healedAt).sort((a, b) => a - b)[0]
    await until(() => firstAfter() !== undefined || app.exited, BACK_LIMIT_MS)
    result.backMs = firstAfter() === undefined ? undefined : firstAfter() - healedAt
    // And the first job added after Redis answered again (the producer's own connection must be back too).
    const firstNew = () => [...jobs.accepted].filter(([n, at]) => at >= healedAt && jobs.completed.has(n)).map(([n]) => jobs.completed.get(n)).sort((a, b) => a - b)[0]
    await until(() => firstNew() !== undefined || app.exited, BACK_LIMIT_MS)
    result.newJobBackMs = firstNew() === undefined ? undefined : firstNew() - healedAt
    await sleep(1000)
    const cpuAfter = cpuSeconds(app.pid)
    result.cpuPercent = cpuBefore === undefined || cpuAfter === undefined ? undefined : Math.round(100 * (cpuAfter - cpuBefore) / ((Date.now() - faultAt) / 1000))
    result.rssMb = Math.round(rssMb(app.pid))
    result.statuses = await load.stop()
    // Jobs accepted by then: wait (bounded) for the worker to finish them.
    const acceptedAfterHeal = () => [...jobs.accepted].filter(([, at]) => at >= healedAt).map(([n]) => n)
    await until(() => app.exited || acceptedAfterHeal().every((n) => jobs.completed.has(n)), 5000)
    const h = await health.stop()
    const probedUntil = Date.now()
    result.healthMaxMs = h.maxMs
    result.healthProbes = h.probes
    result.healthFailures = h.failures
    // Reported every 250 ms for the 250 ms before: the first report after the probe began may reach back a little before it.
    result.loopDelayMaxMs = Math.max(0, ...jobs.loopDelays.filter((d) => d.at >= probedFrom && d.at <= probedUntil + 250).map((d) => d.ms))
    result.freeze = h.stalls.length > 0 && !app.exited
    result.crash = app.exited
    result.crashReason = app.exited ? app.stderr.split('\n').filter(Boolean).slice(-3).join(' / ').slice(0, 300) : undefined
    const acceptedBeforeHeal = [...jobs.accepted].filter(([, at]) => at < healedAt).map(([n]) => n)
    result.accepted = jobs.accepted.size
    result.completed = [...jobs.accepted.keys()].filter((n) => jobs.completed.has(n)).length
    result.acceptedAfterHealNotCompleted = acceptedAfterHeal().filter((n) => !jobs.completed.has(n)).length
    // A killed server restarts empty: jobs it held and had not finished go with it (not a plugin matter).
    result.lostWithServer = fault === 'kill' ? acceptedBeforeHeal.filter((n) => !jobs.completed.has(n)).length : 0
    result.acceptedNotCompleted = result.accepted - result.completed - result.lostWithServer
    const { byClient, text } = stateLines(logFile, faultAt)
    result.stateLines = byClient
    result.secretInOutput = text.includes(SECRET) || app.stderr.includes(SECRET)
    result.stderrLines = app.stderr.split('\n').filter(Boolean).length
    // A frozen process ignores SIGTERM: stop() then needs SIGKILL.
    const stopping = Date.now()
    await app.stop()
    result.stopMs = Date.now() - stopping
  } catch (error) {
    result.error = error.message
  } finally {
    await started.app.stop()
    await redis.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  return result
}

try {
  const results = []
  process.stdout.write(`outage tries: ${TRIES} per fault (${FAULTS.join(', ')}), outage ${OUTAGE_MS} ms, Worker and QueueEvents on a '${values['worker-role']}' client, a job request every ${LOAD_EVERY_MS} ms\n`)
  for (let i = 0; i < TRIES; i++) {
    for (const fault of FAULTS) {
      const r = await oneTry(fault, i)
      results.push(r)
      process.stdout.write(`${fault} #${r.try}: ${r.error ?? `${r.crash ? 'CRASH ' : ''}${r.freeze ? 'FREEZE ' : ''}health max ${r.healthMaxMs} ms (loop delay ${r.loopDelayMaxMs} ms), back ${r.backMs ?? 'never'} ms (a new job ${r.newJobBackMs ?? 'never'} ms), cpu ${r.cpuPercent} %, jobs ${r.completed}/${r.accepted}${r.lostWithServer ? ` (${r.lostWithServer} lost with the emptied server)` : ''}, statuses ${JSON.stringify(r.statuses)}, lines ${JSON.stringify(r.stateLines)}`}\n`)
    }
  }
  const summary = summarise(results, FAULTS)
  printSummary(summary)
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ at: new Date().toISOString(), options: { tries: TRIES, faults: FAULTS, outageMs: OUTAGE_MS, workerRole: values['worker-role'] }, summary, results }, null, 2))
} finally {
  killAllRedis()
}
