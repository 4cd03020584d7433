// Issue 14's targets (and issue 13 item 8's cluster check), each with what was
// measured and whether it holds; boot and recovery keep their earlier bounds.

/** " (runs 0.91–1.12)" when there were several runs. */
export const spread = (values) => values === undefined || values.length < 2 ? '' : ` (runs ${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`
const x = (r, field) => r?.[field] == null ? 'n/a' : `${r[field].toFixed(2)}×${spread(r[`${field}Runs`])}`

export function targets (summary, scenarios) {
  const rows = []
  const add = (target, measured, pass) => rows.push({ target, measured, pass: pass === null || pass === undefined ? pass : Boolean(pass) })
  const t = summary.throughput
  for (const s of scenarios) {
    const rowsOf = t[s.id]
    if (rowsOf === undefined) continue
    const p = rowsOf.plugin
    const ref = rowsOf['rate-limit-memory']
    const rlf = rowsOf['rate-limiter-flexible']
    if (s.kind === 'healthy' && p?.booted) {
      add(`1. ${s.id}: ≥ 1.5× status quo`, `${x(p, 'vsStatusQuo')}; rate-limiter-flexible ${x(rlf, 'vsStatusQuo')}`, p.vsStatusQuo == null ? null : p.vsStatusQuo >= 1.5)
      add(`   ${s.id}: counting exact`, p.exactEveryRun ? 'Redis counters = 2xx = sent, every run' : 'NOT exact', p.exactEveryRun)
    }
    if (s.kind === 'outage' && p?.booted) {
      add(`2. ${s.id}: ≥ 0.97× memory-store reference`, `${x(p, 'vsReference')}${p.vsReferenceAfterFirstSlice == null ? '' : `; without the 1st slice ${p.vsReferenceAfterFirstSlice.toFixed(2)}×`}; rate-limiter-flexible ${x(rlf, 'vsReference')}`, p.vsReference == null ? null : p.vsReference >= 0.97)
      add(`   ${s.id}: p99 ≤ 5 ms`, `${p.p99?.toFixed(2)} ms; reference ${ref?.p99?.toFixed(2) ?? '–'} ms`, p.p99 != null && p.p99 <= 5)
      add(`   ${s.id}: zero errors`, `${p.worstErrors} errors/timeouts, ${p.worstNon2xx} non-2xx (worst run)`, p.worstErrors === 0 && p.worstNon2xx === 0)
      const delta = p.appCpuUsPerReq == null || ref?.appCpuUsPerReq == null ? null : p.appCpuUsPerReq - ref.appCpuUsPerReq
      add(`   ${s.id}: app CPU ≤ reference + 0.5 µs/req`, delta === null ? 'n/a' : `${p.appCpuUsPerReq.toFixed(2)} vs ${ref.appCpuUsPerReq.toFixed(2)} µs (${delta >= 0 ? '+' : ''}${delta.toFixed(2)})`, delta === null ? null : delta <= 0.5)
    }
    if (s.kind === 'abusive' && p?.booted) {
      add(`3. ${s.id}: ≥ 0.9× memory-store reference`, `${x(p, 'vsReference')}; status quo ${x(rowsOf['status-quo'], 'vsReference')}, rate-limiter-flexible ${x(rlf, 'vsReference')}`, p.vsReference == null ? null : p.vsReference >= 0.9)
      add(`   ${s.id}: exactly max admitted, 429 as Redis counts`, p.exactEveryRun ? `${p.admitted} admitted of ${s.max * 100}; ${p.probeDetail}` : `NOT exact: ${p.admitted} admitted (max ${s.max}); ${p.probeDetail}`, p.exactEveryRun)
    }
    if (s.kind === 'cluster' && rowsOf['plugin~cluster']?.booted) {
      const c = rowsOf['plugin~cluster']
      add(`cluster: ${s.id}: counting exact on 3 masters`, c.exactEveryRun ? `exact, every run; ${c.counterKeys} counter key(s)` : 'NOT exact', c.exactEveryRun)
      add(`   ${s.id}: on 3 masters vs one server`, `this package ${x(c, 'vsOneServer')}; status quo ${x(rowsOf['status-quo~cluster'], 'vsOneServer')}; vs status quo on the cluster ${x(c, 'vsStatusQuo')}`, undefined)
    }
  }
  const b = summary.boot.plugin ?? {}
  for (const [state, bound] of [['refused', 200], ['password-missing', 200], ['password-wrong', 200], ['hanging', 1000]]) {
    if (b[state] === undefined) continue
    const signed = (v) => `${v >= 0 ? '+' : '−'}${Math.abs(Math.round(v))} ms`
    add(`boot, Redis ${state}: ≤ ${bound} ms slower than up`, `${signed(b[state].deltaMs)} (worst run ${signed(b[state].deltaMsMax)})${b[state].ok ? '' : ', FAILED to boot'}`, b[state].ok && b[state].deltaMs <= bound)
  }
  for (const [outage, r] of Object.entries(summary.recovery.plugin ?? {})) {
    add(`back in Redis ≤ 1000 ms after a ${outage / 1000} s outage`, r.msMax === null ? 'not back within 15 s' : `${Math.round(r.ms)} ms (worst run ${Math.round(r.msMax)} ms)`, r.notBack === 0 && r.ms <= 1000)
  }
  return rows
}
