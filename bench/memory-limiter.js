#!/usr/bin/env node
// npm run bench:memory: the memory limiter alone (what decides while Redis is
// down), this working tree against an earlier commit (by default b812c9f, the
// plain LRU that issue 11 measured). Each figure comes from a fresh child
// process, the two limiters alternating; medians of --runs.
//
// - ns per increment: one hot key; 4,000 keys taking turns (under the 5,000-key
//   cap); a flood of 960,000 one-shot keys (40 s at 24,000 a second) with one
//   client at 3 requests a second among them, whose admitted / refused requests
//   (max 100 a minute) are shown; a flood of keys that each come twice.
// - memory: heap (JS objects plus typed arrays) and RSS growth after 1,000,000
//   distinct keys (once each, then twice each), and right after construction.
//
//   node bench/memory-limiter.js [--baseline <git rev>] [--runs 5] [--out results.json]
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import ts from 'typescript'
import { machine } from './meta.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SELF = fileURLToPath(import.meta.url)
const RULE = { timeWindow: 60_000, max: 100, continueExceeding: false, exponentialBackoff: false }
const CACHE = 5000
const START = 1_000_000

// --- the limiters -----------------------------------------------------------------------

/**
 * Transpiles src/rate-limit/memory-limiter.ts and what it imports, as `read` gives them (the
 * working tree, or a commit), into a temporary directory of .mjs files. Returns the directory.
 */
function transpileLimiter (label, read) {
  const dir = mkdtempSync(join(tmpdir(), `frr-limiter-${label}-`))
  const pending = ['memory-limiter']
  const done = new Set()
  while (pending.length > 0) {
    const name = pending.pop()
    if (done.has(name)) continue
    done.add(name)
    const source = read(`src/rate-limit/${name}.ts`)
    for (const [, dependency] of source.matchAll(/from '\.\/([\w-]+)\.js'/g)) pending.push(dependency)
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    writeFileSync(join(dir, `${name}.mjs`), outputText.replace(/from '\.\/([\w-]+)\.js'/g, "from './$1.mjs'"))
  }
  return dir
}

async function limiterClass (dir) {
  return (await import(pathToFileURL(join(dir, 'memory-limiter.mjs')).href)).MemoryLimiter
}

// --- what a child measures ----------------------------------------------------------------

// As the store builds a counter for each request: its prefix + the client's address, a new string.
const PREFIX = 'frr-rate-limit:'
const ipOf = (n) => `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
const HOT = ipOf(7)

/**
 * A pattern of requests: the key of request i (made anew each time), and the client of issue 11,
 * if any, every `clientEvery` requests. ns per increment is the time of the loop minus the time
 * of the same loop that only makes the keys, after a warm-up of both on another limiter.
 */
function timed (MemoryLimiter, { requests, keyAt, clientEvery = 0 }) {
  const run = (limiter) => {
    let admitted = 0
    for (let i = 0; i < requests; i++) {
      const now = START + i / 24 // 24,000 requests a second
      limiter.increment(keyAt(i), RULE, now)
      if (clientEvery > 0 && i % clientEvery === clientEvery - 1 && limiter.increment(PREFIX + '198.51.100.7', RULE, now).current <= RULE.max) admitted++
    }
    return admitted
  }
  let lengths = 0
  const onlyKeys = { increment: (key) => { lengths += key.length; return { current: 0 } } }
  run(new MemoryLimiter(CACHE))
  run(onlyKeys)
  const limiter = new MemoryLimiter(CACHE)
  let started = process.hrtime.bigint()
  const admitted = run(limiter)
  const total = Number(process.hrtime.bigint() - started)
  started = process.hrtime.bigint()
  run(onlyKeys)
  const keys = Number(process.hrtime.bigint() - started)
  const increments = requests + (clientEvery === 0 ? 0 : Math.floor(requests / clientEvery))
  return { ns: (total - keys) / increments, keyNs: keys / increments, ...(clientEvery === 0 ? {} : { admitted, refused: increments - requests - admitted }), lengths }
}

const SCENARIOS = {
  'hot key': (MemoryLimiter) => timed(MemoryLimiter, { requests: 2_000_000, keyAt: () => PREFIX + HOT }),
  // Each of 4,000 keys comes back every 4,000 requests.
  'under the cap': (MemoryLimiter) => timed(MemoryLimiter, { requests: 2_000_000, keyAt: (i) => PREFIX + ipOf(i % 4000) }),
  // 40 s of 24,000 new keys a second, one client at 3 a second among them: the scenario of issue 11.
  flood: (MemoryLimiter) => timed(MemoryLimiter, { requests: 960_000, keyAt: (i) => PREFIX + ipOf(i), clientEvery: 8000 }),
  // The same with every key sent twice in a row.
  'two-shot flood': (MemoryLimiter) => timed(MemoryLimiter, { requests: 960_000, keyAt: (i) => PREFIX + ipOf(i >>> 1), clientEvery: 8000 }),
  memory: (MemoryLimiter) => grown(MemoryLimiter, 1),
  'memory, each key twice': (MemoryLimiter) => grown(MemoryLimiter, 2),
}

/** Heap in use (JS objects plus typed arrays) and RSS, after collecting garbage. */
function usage () {
  globalThis.gc()
  globalThis.gc()
  const { heapUsed, arrayBuffers, rss } = process.memoryUsage()
  return { heap: heapUsed + arrayBuffers, rss }
}

/** What a limiter adds to the process, once built and after 1,000,000 distinct keys, each sent `times` in a row. */
function grown (MemoryLimiter, times) {
  const before = usage()
  const limiter = new MemoryLimiter(CACHE)
  const built = usage()
  for (let i = 0; i < 1_000_000 * times; i++) limiter.increment(PREFIX + ipOf(Math.floor(i / times)), RULE, START + i / 24)
  const after = usage()
  return { heapBuilt: built.heap - before.heap, rssBuilt: built.rss - before.rss, heap: after.heap - before.heap, rss: after.rss - before.rss, keys: limiter.size }
}

// --- the parent ---------------------------------------------------------------------------

function inChild (dir, scenario) {
  const child = spawnSync(process.execPath, ['--expose-gc', SELF, '--child', dir, '--scenario', scenario], { encoding: 'utf8' })
  if (child.status !== 0) throw new Error(`${scenario} in ${dir} failed:\n${child.stderr}`)
  return JSON.parse(child.stdout)
}

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const mb = (bytes) => `${bytes < 0 ? '−' : '+'}${(Math.abs(bytes) / 2 ** 20).toFixed(1)} MB`

async function main () {
  const { values: args } = parseArgs({ options: { child: { type: 'string' }, scenario: { type: 'string' }, baseline: { type: 'string', default: 'b812c9f' }, runs: { type: 'string', default: '5' }, out: { type: 'string' } } })
  if (args.child !== undefined) {
    process.stdout.write(JSON.stringify(SCENARIOS[args.scenario](await limiterClass(args.child))))
    return
  }
  const runs = Number(args.runs)
  const variants = [
    { label: `before (${args.baseline})`, dir: transpileLimiter('before', (path) => execFileSync('git', ['show', `${args.baseline}:${path}`], { cwd: ROOT, encoding: 'utf8' })) },
    { label: 'now (working tree)', dir: transpileLimiter('now', (path) => readFileSync(join(ROOT, path), 'utf8')) },
  ]
  const results = {}
  try {
    for (const scenario of Object.keys(SCENARIOS)) {
      const samples = variants.map(() => [])
      for (let run = 0; run < (scenario.startsWith('memory') ? 1 : runs); run++) {
        for (const [i, variant] of variants.entries()) samples[i].push(inChild(variant.dir, scenario))
      }
      results[scenario] = variants.map((variant, i) => ({ variant: variant.label, runs: samples[i] }))
    }
  } finally {
    for (const { dir } of variants) rmSync(dir, { recursive: true, force: true })
  }
  if (args.out !== undefined) writeFileSync(args.out, `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), baseline: args.baseline, runs, results }, null, 2)}\n`)
  console.log(`Memory limiter, Node ${process.version}; ns per increment: median of ${runs} runs (min–max), each in a fresh process`)
  for (const [scenario, rows] of Object.entries(results)) {
    for (const { variant, runs: samples } of rows) {
      if (scenario.startsWith('memory')) {
        const [m] = samples
        console.log(`${scenario.padEnd(26)} ${variant.padEnd(22)} heap ${mb(m.heap)} (at construction ${mb(m.heapBuilt)}), RSS ${mb(m.rss)} (at construction ${mb(m.rssBuilt)}), ${m.keys} keys held`)
        continue
      }
      const ns = samples.map((s) => s.ns)
      const client = samples[0].admitted === undefined ? '' : `  client: ${[...new Set(samples.map((s) => `${s.admitted} admitted / ${s.refused} refused`))].join(', ')}`
      console.log(`${scenario.padEnd(26)} ${variant.padEnd(22)} ${median(ns).toFixed(0).padStart(5)} ns  (${Math.min(...ns).toFixed(0)}–${Math.max(...ns).toFixed(0)}; making the key ${median(samples.map((s) => s.keyNs)).toFixed(0)} ns, not counted)${client}`)
    }
  }
}

await main()
