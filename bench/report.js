// Turns the runs into medians, ratios and text tables (the targets verdict is targets.js).
import { targets } from './targets.js'

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

const ratio = (a, b) => (a == null || b == null || !b) ? null : a / b

/** The variant each ratio compares with (same scenario, same run); status quo and one server of the same topology. */
function references (variant) {
  const [base, topology] = variant.split('@')[0].split('~')
  return {
    vsNone: 'none',
    vsStatusQuo: base === 'status-quo' || base === 'none' ? undefined : topology === undefined ? 'status-quo' : `status-quo~${topology}`,
    vsReference: base === 'rate-limit-memory' || base === 'none' ? undefined : 'rate-limit-memory',
    vsOneServer: topology === undefined ? undefined : base,
  }
}

const ORDER = ['none', 'status-quo', 'rate-limit-memory', 'plugin', 'rate-limiter-flexible']

/** Medians over runs (and per-run ratios' medians) of everything measured. */
export function summarize (runs, { scenarios, bootStates, outages }) {
  const throughput = {}
  for (const { id } of scenarios) {
    const variants = [...new Set(runs.flatMap((r) => Object.keys(r.throughput[id] ?? {})))]
    if (variants.length === 0) continue
    throughput[id] = {}
    const rank = (v) => ORDER.indexOf(v.split('@')[0].split('~')[0]) * 10 + (v.includes('~') ? 1 : 0)
    for (const variant of variants.sort((a, b) => rank(a) - rank(b))) {
      const results = runs.map((r) => r.throughput[id]?.[variant]).filter(Boolean)
      const booted = results.filter((r) => r.booted)
      const row = { runs: results.length, booted: booted.length }
      if (booted.length === 0) {
        Object.assign(row, { bootMessage: results[0].bootMessage, bootMs: median(results.map((r) => r.bootMs)) })
        throughput[id][variant] = row
        continue
      }
      for (const metric of ['answeredPerSec', 'okPerSec', 'p50', 'p99', 'max', 'errors', 'timeouts', 'appCpuUsPerReq', 'redisCpuUsPerReq', 'ioredisLogLines', 'admitted', 'counterKeys']) row[metric] = median(booted.map((r) => r[metric]))
      row.statuses = Object.fromEntries(Object.keys(booted[0].statuses).map((s) => [s, median(booted.map((r) => r.statuses[s]))]))
      row.worstErrors = maxOf(booted.map((r) => r.errors + r.timeouts))
      row.worstNon2xx = maxOf(booted.map((r) => r.answered - r.statuses['2xx']))
      if (booted.some((r) => r.exact !== undefined)) row.exactEveryRun = booted.every((r) => r.exact === true)
      row.probeDetail = booted.find((r) => r.probe !== undefined && !r.probe.exact)?.probe.detail ?? booted[0].probe?.detail
      row.countedInRedis = median(booted.map((r) => r.probe?.countedInRedis))
      row.decisionsOutsideRedis = maxOf(booted.map((r) => r.limiter?.decisionsOutsideRedis))
      row.refusedWithoutRedis = median(booted.map((r) => r.limiter?.refusedWithoutRedis))
      row.p99AfterFirstSlice = median(booted.map((r) => r.afterFirstSlice?.p99))
      for (const [name, other] of Object.entries(references(variant))) {
        if (other === undefined) continue
        row[`${name}Runs`] = runs.map((r) => ratio(r.throughput[id]?.[variant]?.answeredPerSec, r.throughput[id]?.[other]?.answeredPerSec)).filter((v) => v !== null)
        row[name] = median(row[`${name}Runs`])
      }
      row.vsReferenceAfterFirstSlice = median(runs.map((r) => ratio(r.throughput[id]?.[variant]?.afterFirstSlice?.answeredPerSec, r.throughput[id]?.['rate-limit-memory']?.afterFirstSlice?.answeredPerSec)))
      throughput[id][variant] = row
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

function table (header, rows) {
  const cells = [header, ...rows].map((row) => row.map((c) => c === null || c === undefined ? '–' : String(c)))
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)))
  const line = (row) => row.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n')
}

const f0 = (x) => x == null ? null : Math.round(x).toLocaleString('en-US')
const f2 = (x) => x == null ? null : x.toFixed(2)
const ms = (x) => x == null ? null : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`

const k = (n) => n == null ? '–' : n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n))

/** Plain-text tables for stdout (and BENCHMARKS.md). */
export function render (summary, meta, scenarios) {
  const out = []
  const { options } = meta
  out.push(`Throughput — median of ${options.runs} run(s); per run and variant ${options.rounds} slice(s) of about ${options.sliceS} s, interleaved with the other variants, after a ${options.warmupS} s warm-up; a request unanswered after ${options.timeoutS} s is a timeout. answered/s counts every answer (any status), split 2xx/429/503; latencies and CPU are per answer; ratios are of answered/s.`)
  const rows = []
  for (const [id, variants] of Object.entries(summary.throughput)) {
    for (const [variant, r] of Object.entries(variants)) {
      if (r.booted === 0) {
        rows.push([id, variant, 'did not boot', ...Array(11).fill(null)])
        continue
      }
      const st = r.statuses
      rows.push([id, variant, f0(r.answeredPerSec), `${k(st['2xx'])}/${k(st['429'])}/${k(st['503'])}${st.other ? `+${k(st.other)}` : ''}`, f2(r.p50), f2(r.p99), f0(r.errors + r.timeouts),
        f2(r.appCpuUsPerReq), f2(r.redisCpuUsPerReq),
        r.vsNone == null ? null : `${f2(r.vsNone)}×`, r.vsStatusQuo == null ? null : `${f2(r.vsStatusQuo)}×`, r.vsReference == null ? null : `${f2(r.vsReference)}×`,
        r.exactEveryRun === undefined ? null : r.exactEveryRun ? 'exact' : 'NOT exact'])
    }
  }
  out.push(table(['scenario', 'variant', 'answered/s', '2xx/429/503', 'p50 ms', 'p99 ms', 'err+t/o', 'app µs/ans', 'Redis µs/ans', 'vs none', 'vs status quo', 'vs memory ref', 'exact'], rows))
  const failedBoots = Object.entries(summary.throughput).flatMap(([id, variants]) => Object.entries(variants).filter(([, r]) => r.booted === 0).map(([variant, r]) => `  ${variant} in ${id}: did not boot (${r.bootMessage})`))
  if (failedBoots.length > 0) out.push(...failedBoots)
  // A count this package did not take in Redis is one it decided outside Redis (its report says how many, and why).
  const outside = Object.entries(summary.throughput).flatMap(([id, variants]) => Object.entries(variants).filter(([, r]) => r.exactEveryRun === false && r.decisionsOutsideRedis > 0).map(([variant, r]) => `  ${variant} in ${id}: not exact because ${r.decisionsOutsideRedis} decision(s) were made outside Redis (Redis slower than decisionTimeout; the limiter's report)`))
  if (outside.length > 0) out.push(...outside)
  const abusive = Object.entries(summary.throughput).filter(([id]) => id.startsWith('abusive'))
  if (abusive.length > 0) {
    out.push('', 'Abusive client — admitted (2xx) of 100 × max sent; what Redis counted for the key; the probe after the load (429 headers/body against Redis\'s PTTL)')
    out.push(table(['scenario', 'variant', 'admitted', 'counted in Redis', 'refused without Redis', 'decided outside Redis', 'probe'], abusive.flatMap(([id, variants]) => Object.entries(variants).filter(([v]) => v !== 'none').map(([variant, r]) => [id, variant, f0(r.admitted), f0(r.countedInRedis), f0(r.refusedWithoutRedis), f0(r.decisionsOutsideRedis), r.probeDetail]))))
  }

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

  const verdict = targets(summary, scenarios)
  out.push('', 'Targets')
  out.push(table(['target', 'measured', 'verdict'], verdict.map((r) => [r.target, r.measured, r.pass === undefined ? 'info' : r.pass === null ? 'n/a' : r.pass ? 'PASS' : 'FAIL'])))
  return out.join('\n')
}
