// Per fault, what bench/outage-tries.js found over all its tries.

function spread (values) {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  return { min: sorted[0], median: sorted[Math.floor((sorted.length - 1) / 2)], max: sorted.at(-1), n: sorted.length }
}

export function summarise (results, faults) {
  return faults.map((fault) => {
    const tries = results.filter((r) => r.fault === fault)
    const ran = tries.filter((r) => r.error === undefined)
    const maxLines = Math.max(0, ...ran.flatMap((r) => Object.values(r.stateLines).map((lines) => lines.length)))
    return {
      fault,
      tries: tries.length,
      harnessErrors: tries.filter((r) => r.error !== undefined).map((r) => `#${r.try}: ${r.error}`),
      freezes: ran.filter((r) => r.freeze).length,
      crashes: ran.filter((r) => r.crash).length,
      crashReasons: ran.filter((r) => r.crash).map((r) => r.crashReason),
      healthMaxMs: spread(ran.map((r) => r.healthMaxMs)),
      healthOver100ms: ran.filter((r) => r.healthMaxMs > 100).length,
      loopDelayMaxMs: spread(ran.map((r) => r.loopDelayMaxMs)),
      loopDelayOver100ms: ran.filter((r) => r.loopDelayMaxMs > 100).length,
      healthFailures: ran.reduce((sum, r) => sum + r.healthFailures, 0),
      backMs: spread(ran.map((r) => r.backMs)),
      neverBack: ran.filter((r) => r.backMs === undefined).length,
      newJobBackMs: spread(ran.map((r) => r.newJobBackMs)),
      cpuPercent: spread(ran.map((r) => r.cpuPercent)),
      rssMb: spread(ran.map((r) => r.rssMb)),
      accepted: ran.reduce((sum, r) => sum + r.accepted, 0),
      completed: ran.reduce((sum, r) => sum + r.completed, 0),
      lostWithServer: ran.reduce((sum, r) => sum + r.lostWithServer, 0),
      acceptedNotCompleted: ran.reduce((sum, r) => sum + r.acceptedNotCompleted, 0),
      statuses: ran.reduce((all, r) => { for (const [s, c] of Object.entries(r.statuses)) all[s] = (all[s] ?? 0) + c; return all }, {}),
      maxStateLinesPerConnection: maxLines,
      secretInOutput: ran.filter((r) => r.secretInOutput).length,
      stopMs: spread(ran.map((r) => r.stopMs)),
    }
  })
}

const fmt = (s, unit = ' ms') => s === undefined ? '—' : `${s.min}–${s.max}${unit} (median ${s.median})`

export function printSummary (summary) {
  for (const s of summary) {
    process.stdout.write([
      `\n${s.fault}: ${s.tries} tries${s.harnessErrors.length ? ` (${s.harnessErrors.length} did not run: ${s.harnessErrors.join('; ')})` : ''}`,
      `  freezes ${s.freezes}, crashes ${s.crashes}${s.crashes ? ` (${s.crashReasons.join(' | ')})` : ''}`,
      `  /health max per try ${fmt(s.healthMaxMs)}; tries with /health over 100 ms: ${s.healthOver100ms}; failed probes ${s.healthFailures}`,
      `  the app's own event loop delay, max per try ${fmt(s.loopDelayMaxMs)}; tries over 100 ms: ${s.loopDelayOver100ms}`,
      `  first job completed after Redis answered again: ${fmt(s.backMs)}; never: ${s.neverBack}; the first job added after it completed: ${fmt(s.newJobBackMs)}`,
      `  jobs accepted ${s.accepted}, completed ${s.completed}, lost with the emptied server ${s.lostWithServer}, otherwise not completed ${s.acceptedNotCompleted}`,
      `  answers ${JSON.stringify(s.statuses)}; CPU during the try ${fmt(s.cpuPercent, ' %')}; RSS ${fmt(s.rssMb, ' MB')}`,
      `  most state lines of one connection in one try: ${s.maxStateLinesPerConnection}; tries with the password in the output: ${s.secretInOutput}; SIGTERM to exit ${fmt(s.stopMs)}`,
    ].join('\n') + '\n')
  }
}
