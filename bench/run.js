#!/usr/bin/env node
// npm run bench: every throughput scenario (scenario-list.js) for every variant,
// boot and recovery; medians of the runs, the targets verdict, JSON in bench/results/.
//
//   node bench/run.js [--runs 1] [--quick] [--slice 1.5] [--rounds 2] [--warmup 1]
//                     [--outages 2,10] [--boot-samples 3] [--abuse-max 400]
//                     [--only throughput,boot,recovery] [--scenarios healthy,abusive,refused,cluster]
//                     [--variants none,plugin] [--plugin-dir /path/to/package/root] [--pin] [--label text] [--out file.json]
// Environment: BENCH_DURATION (slice seconds), BENCH_ROUNDS, BENCH_RUNS (longer runs without flags);
// BENCH_NODE_ARGS (node flags for the app processes, e.g. --cpu-prof).
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { LOAD } from './load.js'
import { machine, versions } from './meta.js'
import { killAllRedis } from './redis.js'
import { median, render, summarize } from './report.js'
import { scenarioList, variantsOf } from './scenario-list.js'
import { BOOT_STATES, boot, recovery } from './scenarios.js'
import { targets } from './targets.js'
import { throughput } from './throughput.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    slice: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    outages: { type: 'string' },
    'boot-samples': { type: 'string' },
    'abuse-max': { type: 'string' },
    only: { type: 'string' },
    scenarios: { type: 'string' },
    variants: { type: 'string' },
    'plugin-dir': { type: 'string' },
    label: { type: 'string' },
    pin: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})

const quick = args.quick
const env = process.env
const options = {
  runs: Number(args.runs ?? env.BENCH_RUNS ?? 1),
  sliceS: Number(args.slice ?? env.BENCH_DURATION ?? (quick ? 0.75 : 1.5)),
  rounds: Number(args.rounds ?? env.BENCH_ROUNDS ?? (quick ? 1 : 2)),
  warmupS: Number(args.warmup ?? 1),
  outagesMs: (args.outages ?? (quick ? '2' : '2,10')).split(',').map((s) => Math.round(Number(s) * 1000)),
  bootSamples: Number(args['boot-samples'] ?? (quick ? 1 : 3)),
  abuseMax: Number(args['abuse-max'] ?? 400),
  timeoutS: LOAD.timeoutS,
  only: (args.only ?? 'throughput,boot,recovery').split(','),
  // scenarios whose id contains one of these words (ids: scenario-list.js)
  scenarios: args.scenarios === undefined ? undefined : args.scenarios.split(','),
  // default: per scenario; e.g. --variants none,plugin,plugin@/tmp/candidate to compare builds
  variants: args.variants === undefined ? undefined : args.variants.split(','),
  pluginDir: args['plugin-dir'] === undefined ? undefined : resolve(args['plugin-dir']),
  label: args.label,
}
for (const [name, value] of Object.entries({ runs: options.runs, slice: options.sliceS, rounds: options.rounds, warmup: options.warmupS, 'boot-samples': options.bootSamples })) {
  if (!Number.isFinite(value) || value <= 0 || value > 100) throw new Error(`--${name} must be a number above 0, at most 100`)
}
if (!Number.isInteger(options.abuseMax) || options.abuseMax < 1 || options.abuseMax > 100_000) throw new Error('--abuse-max: a whole number from 1 to 100000')
if (options.outagesMs.some((ms) => !(ms > 0 && ms <= 60_000))) throw new Error('--outages: seconds, each above 0, at most 60')
if (!Number.isInteger(options.runs) || !Number.isInteger(options.rounds) || !Number.isInteger(options.bootSamples)) throw new Error('--runs, --rounds and --boot-samples are whole numbers')
const scenarios = scenarioList({ abuseMax: options.abuseMax }).filter((s) => options.scenarios === undefined || options.scenarios.some((word) => s.id.includes(word)))
options.pin = args.pin
if (options.pin) {
  // The app on the last CPU, the load generator (this process) and redis-server on the others.
  const cpus = os.availableParallelism()
  if (cpus < 2) throw new Error('--pin needs at least 2 CPUs')
  process.env.BENCH_APP_CPU = String(cpus - 1)
  process.env.BENCH_REDIS_CPU = `0-${cpus - 2}`
  execFileSync('taskset', ['-cp', `0-${cpus - 2}`, String(process.pid)], { stdio: 'ignore' })
}

const shared = { sliceS: options.sliceS, rounds: options.rounds, warmupS: options.warmupS, pluginDir: options.pluginDir }
const log = (line) => process.stderr.write(`${line}\n`)
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length])
const began = performance.now()
const elapsed = () => `${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s`

// Stop everything we started, whatever ends the run.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { killAllRedis(); process.exit(130) })

async function oneRun (index) {
  const run = { throughput: {}, boot: {}, recovery: {} }
  if (options.only.includes('throughput')) {
    for (const scenario of scenarios) {
      const variants = options.variants ?? variantsOf(scenario)
      const results = await throughput(scenario, rotate(variants, index), shared)
      run.throughput[scenario.id] = results
      for (const variant of variants) {
        const r = results[variant]
        const st = r.statuses
        log(`${elapsed()}  run ${index + 1}  ${scenario.id.padEnd(24)} ${variant.padEnd(21)} ${r.booted ? `${Math.round(r.answeredPerSec)} answered/s (2xx ${st['2xx']}, 429 ${st['429']}, 503 ${st['503']}), p99 ${r.p99?.toFixed(2)} ms, ${r.errors} errors, ${r.timeouts} timeouts, app ${r.appCpuUsPerReq?.toFixed(2)} µs, Redis ${r.redisCpuUsPerReq?.toFixed(2) ?? '–'} µs${r.exact === undefined ? '' : r.exact ? ', exact' : `, NOT exact (counted ${r.counted ?? '–'}, admitted ${r.admitted ?? '–'}, 2xx ${r.ok}${r.probe ? `; ${r.probe.detail}` : ''})`}${r.limiter ? `; limiter ${JSON.stringify(r.limiter)}` : ''}` : `did not boot (${r.bootMessage})`}`)
      }
    }
  }
  if (options.only.includes('boot')) {
    for (const variant of ['status-quo', 'plugin']) {
      run.boot[variant] = {}
      // The status quo with Redis refused or hanging waits for Fastify's 10 s
      // plugin timeout (a timer, the same every time): measured in the first
      // run only, one sample each, both at once.
      const slow = variant === 'status-quo' ? ['refused', 'hanging'] : []
      const states = BOOT_STATES.filter((state) => !slow.includes(state))
      const samples = Object.fromEntries(states.map((state) => [state, []]))
      // Sample rounds interleave the states, so a noisy moment hits them alike.
      for (let i = 0; i < options.bootSamples; i++) {
        for (const state of rotate(states, i)) samples[state].push(await boot(variant, state, shared))
      }
      for (const state of states) {
        const list = samples[state]
        run.boot[variant][state] = { ok: list.every((s) => s.ok), ms: median(list.map((s) => s.ms)), samplesMs: list.map((s) => s.ms), message: list.find((s) => !s.ok)?.message }
      }
      if (index === 0) {
        const waited = await Promise.all(slow.map((state) => boot(variant, state, shared)))
        slow.forEach((state, i) => { run.boot[variant][state] = { ...waited[i], samplesMs: [waited[i].ms] } })
      }
      for (const state of BOOT_STATES) {
        const r = run.boot[variant][state]
        if (r === undefined) continue
        log(`${elapsed()}  run ${index + 1}  boot ${state.padEnd(16)} ${variant.padEnd(10)} ${r.ok ? '' : 'FAILED after '}${Math.round(r.ms)} ms${r.ok ? '' : ` (${r.message})`}`)
      }
    }
  }
  if (options.only.includes('recovery')) {
    for (const variant of ['status-quo', 'plugin']) run.recovery[variant] = {}
    for (const outage of options.outagesMs) {
      // Both variants at once, each with its own Redis: the load is light
      // (100 req/s each) and most of the time is the outage itself.
      const [sq, plugin] = await Promise.all([recovery('status-quo', outage, shared), recovery('plugin', outage, shared)])
      run.recovery['status-quo'][outage] = sq
      run.recovery.plugin[outage] = plugin
      for (const [variant, r] of [['status-quo', sq], ['plugin', plugin]]) {
        log(`${elapsed()}  run ${index + 1}  recovery ${outage / 1000} s ${variant.padEnd(10)} ${r.recoveryMs === null ? 'not back within 15 s' : `${Math.round(r.recoveryMs)} ms`}`)
      }
    }
  }
  return run
}

const pluginRoot = options.pluginDir ?? ROOT
const meta = {
  date: new Date().toISOString(),
  label: options.label,
  options: { ...options, outages: options.outagesMs, timeoutS: LOAD.timeoutS },
  versions: versions(ROOT, pluginRoot),
  machine: machine(),
  loadAverageAtStart: os.loadavg(),
}

log(`bench: ${options.runs} run(s), plugin from ${pluginRoot}/dist, load avg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
const runs = []
try {
  for (let i = 0; i < options.runs; i++) runs.push(await oneRun(i))
} finally {
  killAllRedis()
}
meta.loadAverageAtEnd = os.loadavg()
meta.totalSeconds = Math.round((performance.now() - began) / 1000)

const shape = { scenarios, bootStates: BOOT_STATES, outages: options.outagesMs }
const summary = summarize(runs, shape)
const text = render(summary, meta, scenarios)
process.stdout.write(`\n${text}\n\nTotal ${meta.totalSeconds} s; load average at start ${meta.loadAverageAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${meta.loadAverageAtEnd.map((x) => x.toFixed(2)).join(' ')}\n`)

const out = args.out === undefined ? join(ROOT, 'bench', 'results', `${meta.date.replace(/[:.]/g, '-')}.json`) : resolve(args.out)
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, `${JSON.stringify({ meta, scenarios, summary, targets: targets(summary, scenarios), runs }, null, 2)}\n`)
log(`results: ${out}`)
