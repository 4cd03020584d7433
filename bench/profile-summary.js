#!/usr/bin/env node
// Summarizes V8 CPU profiles of the app processes (BENCH_NODE_ARGS="--cpu-prof
// --cpu-prof-dir=DIR"): self time by package (this package's dist/,
// @fastify/rate-limit, ioredis, fastify, node internals, …) and the functions
// with the most self time.
//   node bench/profile-summary.js DIR/*.cpuprofile [--top 15] [--origin 'this package (dist/)']
// (--origin: only the functions of that origin, e.g. ioredis)
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' }, origin: { type: 'string' } } })
if (positionals.length === 0) throw new Error('usage: node bench/profile-summary.js <file.cpuprofile>… [--top N]')

/** Where a function comes from, by its script URL. */
function origin (url, name) {
  if (url === '') return name === '(garbage collector)' ? 'gc' : name.startsWith('(') ? name : 'native'
  if (url.startsWith('node:')) return 'node internals'
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1]
  if (pkg !== undefined) return pkg
  if (url.includes('/dist/')) return 'this package (dist/)'
  if (url.includes('/bench/')) return 'bench app'
  return url
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  // samples and timeDeltas: each sample's time goes to the node it hit
  profile.samples.forEach((id, i) => { self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)) })
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const idle = [...self.entries()].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0)
  const busy = total - idle
  const groups = new Map()
  const functions = new Map()
  for (const [id, time] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame
    if (functionName === '(idle)') continue
    const group = origin(url, functionName)
    groups.set(group, (groups.get(group) ?? 0) + time)
    if (values.origin !== undefined && group !== values.origin) continue
    const fn = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|bench)\//, '$1/')}:${lineNumber + 1}`
    functions.set(fn, (functions.get(fn) ?? 0) + time)
  }
  const pct = (t) => `${(100 * t / busy).toFixed(1).padStart(5)} %`
  process.stdout.write(`${file}: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms\n  self time by origin:\n`)
  for (const [group, time] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 12)) process.stdout.write(`    ${pct(time)}  ${group}\n`)
  process.stdout.write('  functions with the most self time:\n')
  for (const [fn, time] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) process.stdout.write(`    ${pct(time)}  ${fn}\n`)
}
