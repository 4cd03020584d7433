// Turns the runs into medians, ratios, the targets verdict, and text tables.

export const median = (values) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}
const maxOf = (values) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x))
  return v.length === 0 ? null : Math.max(...v)
}

/** The `none` result a fault's ratios use: the one measured next to it, else the nearest before it. */
function baselineOf (run, fault, faults) {
  for (let i = faults.indexOf(fault); i >= 0; i--) {
    const none = run.throughput[faults[i]]?.none
    if (none?.booted) return none
  }
  return undefined
}

const ratio = (a, b) => (a === undefined || b === undefined || !b) ? null : a / b

/** Medians over runs (and per-run ratios' medians) of everything measured. */
export function summarize (runs, { faults, bootStates, outages }) {
  const throughput = {}
  for (const fault of faults) {
    throughput[fault] = {}
    const variants = [...new Set(runs.flatMap((r) => Object.keys(r.throughput[fault] ?? {})))]
    for (const variant of ['none', 'status-quo', 'plugin', ...variants.filter((v) => !['none', 'status-quo', 'plugin'].includes(v))]) {
      const results = runs.map((r) => r.throughput[fault]?.[variant]).filter(Boolean)
      if (results.length === 0) continue
      const booted = results.filter((r) => r.booted)
      const row = { runs: results.length, booted: booted.length }
      if (booted.length === 0) {
        row.bootMessage = results[0].bootMessage
        row.bootMs = median(results.map((r) => r.bootMs))
      } else {
        for (const metric of ['reqPerSec', 'p50', 'p99', 'max', 'errors', 'timeouts', 'appCpuUsPerReq', 'redisCpuUsPerReq', 'ioredisLogLines']) row[metric] = median(booted.map((r) => r[metric]))
        row.worstErrors = maxOf(booted.map((r) => r.errors + r.timeouts))
        if (booted.some((r) => r.exact !== undefined)) row.exactEveryRun = booted.every((r) => r.exact === true)
        row.vsNoneRuns = runs.map((r) => ratio(r.throughput[fault]?.[variant]?.reqPerSec, baselineOf(r, fault, faults)?.reqPerSec)).filter((x) => x !== null)
        row.vsNone = median(row.vsNoneRuns)
        row.vsNoneAfterFirstSlice = median(runs.map((r) => ratio(r.throughput[fault]?.[variant]?.afterFirstSlice?.reqPerSec, baselineOf(r, fault, faults)?.afterFirstSlice?.reqPerSec)))
        row.p99AfterFirstSlice = median(booted.map((r) => r.afterFirstSlice?.p99))
        if (variant.startsWith('plugin')) {
          row.vsStatusQuoRuns = runs.map((r) => ratio(r.throughput[fault]?.[variant]?.reqPerSec, r.throughput[fault]?.['status-quo']?.reqPerSec)).filter((x) => x !== null)
          row.vsStatusQuo = median(row.vsStatusQuoRuns)
        }
      }
      throughput[fault][variant] = row
    }
  }

  const boot = {}
  for (const variant of ['status-quo', 'plugin']) {
    boot[variant] = {}
    for (const state of bootStates) {
      const results = runs.map((r) => r.boot[variant]?.[state]).filter(Boolean)
      if (results.length === 0) continue
      boot[variant][state] = {
        ok: results.every((r) => r.ok),
        ms: median(results.map((r) => r.ms)),
        msMax: maxOf(results.map((r) => r.ms)),
        deltaMs: median(runs.map((r) => r.boot[variant]?.[state] && r.boot[variant]?.up ? r.boot[variant][state].ms - r.boot[variant].up.ms : undefined)),
        deltaMsMax: maxOf(runs.map((r) => r.boot[variant]?.[state] && r.boot[variant]?.up ? r.boot[variant][state].ms - r.boot[variant].up.ms : undefined)),
        message: results.find((r) => !r.ok)?.message,
      }
    }
  }

  const recovery = {}
  for (const variant of ['status-quo', 'plugin']) {
    recovery[variant] = {}
    for (const outage of outages) {
      const results = runs.map((r) => r.recovery[variant]?.[outage]).filter(Boolean)
      if (results.length === 0) continue
      recovery[variant][outage] = {
        ms: median(results.map((r) => r.recoveryMs)),
        msMin: Math.min(...results.map((r) => r.recoveryMs ?? Infinity)),
        msMax: maxOf(results.map((r) => r.recoveryMs)),
        notBack: results.filter((r) => r.recoveryMs === null).length,
        answeredDuringOutage: median(results.map((r) => r.answeredDuringOutage)),
      }
    }
  }
  return { throughput, boot, recovery }
}

/** " (runs 0.91–1.12)" when there were several runs. */
const spread = (values) => values === undefined || values.length < 2 ? '' : ` (runs ${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`

/** The issue's targets, each with what was measured and whether it holds. */
export function targets (summary) {
  const rows = []
  const add = (target, measured, pass) => rows.push({ target, measured, pass: pass === null || pass === undefined ? pass : Boolean(pass) })
  const t = summary.throughput
  const plugin = (fault) => t[fault]?.plugin
  for (const [fault, what] of [['healthy', 'healthy (one client)'], ['healthy-many-clients', 'healthy (50 clients)']]) {
    const p = plugin(fault)
    if (p?.vsStatusQuo == null) continue
    add(`${what}: req/s ≥ 1.3× status quo`, `${p.vsStatusQuo.toFixed(2)}×${spread(p.vsStatusQuoRuns)}`, p.vsStatusQuo >= 1.3)
    add(`${what}: counting exact (Redis counter = 2xx answers)`, p.exactEveryRun ? 'exact in every run' : 'NOT exact', p.exactEveryRun)
  }
  for (const fault of ['refused', 'hanging']) {
    const p = plugin(fault)
    if (p?.booted !== undefined && p.booted > 0) {
      const none = t[fault]?.none
      add(`${fault}: req/s ≥ 0.9× no limiter`, p.vsNone == null ? 'n/a' : `${p.vsNone.toFixed(2)}×${spread(p.vsNoneRuns)}${p.vsNoneAfterFirstSlice == null ? '' : `; without the 1st slice ${p.vsNoneAfterFirstSlice.toFixed(2)}×`}`, p.vsNone == null ? null : p.vsNone >= 0.9)
      add(`${fault}: p99 ≤ 5 ms`, `${p.p99.toFixed(2)} ms${p.p99AfterFirstSlice == null ? '' : `; without the 1st slice ${p.p99AfterFirstSlice.toFixed(2)} ms`}; no limiter ${none?.p99?.toFixed(2) ?? '–'} ms`, p.p99 <= 5)
      add(`${fault}: zero errors and timeouts`, `${p.worstErrors} (worst run)`, p.worstErrors === 0)
    }
  }
  const reference = t.refused?.['rate-limit-memory']
  if (reference?.vsNone != null) {
    add('evidence: @fastify/rate-limit with its own memory store, no Redis at all', `${reference.vsNone.toFixed(2)}×${spread(reference.vsNoneRuns)} no limiter, p99 ${reference.p99.toFixed(2)} ms`, undefined)
  }
  const b = summary.boot.plugin ?? {}
  for (const [state, bound] of [['refused', 200], ['password-missing', 200], ['password-wrong', 200], ['hanging', 1000]]) {
    if (b[state] === undefined) continue
    const signed = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(Math.round(x))} ms`
    add(`boot, Redis ${state}: ≤ ${bound} ms slower than up`, `${signed(b[state].deltaMs)} (worst run ${signed(b[state].deltaMsMax)})${b[state].ok ? '' : ', FAILED to boot'}`, b[state].ok && b[state].deltaMs <= bound)
  }
  for (const [outage, r] of Object.entries(summary.recovery.plugin ?? {})) {
    add(`back in Redis ≤ 1000 ms after a ${outage / 1000} s outage`, r.msMax === null ? 'not back within 15 s' : `${Math.round(r.ms)} ms (worst run ${Math.round(r.msMax)} ms)`, r.notBack === 0 && r.ms <= 1000)
  }
  return rows
}

function table (header, rows) {
  const cells = [header, ...rows].map((row) => row.map((c) => c === null || c === undefined ? '–' : String(c)))
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)))
  const line = (row) => row.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n')
}

const f0 = (x) => x == null ? null : Math.round(x).toLocaleString('en-US')
const f2 = (x) => x == null ? null : x.toFixed(2)
const ms = (x) => x == null ? null : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`

/** Plain-text tables for stdout (and BENCHMARKS.md). */
export function render (summary, meta) {
  const out = []
  const { options } = meta
  out.push(`Throughput — median of ${options.runs} run(s); per run and variant ${options.rounds} slice(s) of ${options.sliceS} s, interleaved with the other variants, after a ${options.warmupS} s warm-up; ${options.connections} connections; a request unanswered after ${options.timeoutS} s is a timeout`)
  const rows = []
  for (const [fault, variants] of Object.entries(summary.throughput)) {
    for (const [variant, r] of Object.entries(variants)) {
      if (r.booted === 0) {
        rows.push([fault, variant, 'did not boot', null, null, null, null, null, null, null, null, null])
        continue
      }
      rows.push([fault, variant, f0(r.reqPerSec), f2(r.p50), f2(r.p99), f0(r.errors), f0(r.timeouts), f0(r.appCpuUsPerReq), f0(r.redisCpuUsPerReq),
        variant === 'none' || r.vsNone == null ? null : `${f2(r.vsNone)}×`,
        r.vsStatusQuo == null ? null : `${f2(r.vsStatusQuo)}×`,
        r.exactEveryRun === undefined ? null : r.exactEveryRun ? 'exact' : 'NOT exact'])
    }
  }
  const failedBoots = Object.entries(summary.throughput).flatMap(([fault, variants]) => Object.entries(variants).filter(([, r]) => r.booted === 0).map(([variant, r]) => `  ${variant} with Redis ${fault}: did not boot (${r.bootMessage})`))
  out.push(table(['scenario', 'variant', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'timeouts', 'app CPU µs/req', 'Redis CPU µs/req', 'vs none', 'vs status quo', 'counting'], rows))
  if (failedBoots.length > 0) out.push(...failedBoots)

  out.push('', `Boot — time from spawn to listening (median of ${options.runs} run(s), each the median of ${options.bootSamples} boot(s); a status quo boot that waits for Fastify's 10 s plugin timeout: first run only); Δ = minus the same variant with Redis up`)
  const bootRows = []
  for (const [variant, states] of Object.entries(summary.boot)) {
    for (const [state, r] of Object.entries(states)) {
      bootRows.push([state, variant, r.ok ? ms(r.ms) : `fails after ${ms(r.ms)}`, state === 'up' ? null : `${r.deltaMs >= 0 ? '+' : ''}${ms(r.deltaMs)}`, r.ok ? null : (r.message ?? '').slice(0, 70)])
    }
  }
  out.push(table(['Redis at boot', 'variant', 'boot', 'Δ vs up', 'failure'], bootRows))

  out.push('', `Recovery — Redis killed under light load (100 req/s), restarted empty on the same port after the outage; time from its first answer until a request is counted in it again (median, min–max of ${options.runs} run(s))`)
  const recRows = []
  for (const [variant, outages] of Object.entries(summary.recovery)) {
    for (const [outage, r] of Object.entries(outages)) {
      recRows.push([`${outage / 1000} s outage`, variant, r.ms === null ? 'not back in 15 s' : ms(r.ms), `${ms(r.msMin)}–${ms(r.msMax)}`, f0(r.answeredDuringOutage)])
    }
  }
  out.push(table(['outage', 'variant', 'back in Redis', 'range', 'answered during outage'], recRows))

  const verdict = targets(summary)
  out.push('', 'Targets')
  out.push(table(['target', 'measured', 'verdict'], verdict.map((r) => [r.target, r.measured, r.pass === undefined ? 'info' : r.pass === null ? 'n/a' : r.pass ? 'PASS' : 'FAIL'])))
  return out.join('\n')
}
