// Bounded in-process load: N requests through `app.inject` (no sockets), a
// fixed number in flight, each one's status, latency and rate-limit headers kept.
import type { FastifyInstance, InjectOptions } from 'fastify'
import { setImmediate as nextTurn } from 'node:timers/promises'

export interface Sample {
  /** Order in which the request was started (0-based). */
  index: number
  status: number
  /** When the request was sent, in ms from the start of the load. */
  at: number
  /** Milliseconds from inject() to the response. */
  ms: number
  /** `x-ratelimit-remaining` (or the draft-spec name), when the response has it. */
  remaining: number | undefined
  retryAfter: string | undefined
  body: string
}

export interface LoadOptions {
  /** Most requests to send. */
  total: number
  /** Requests in flight at once. @default 50 */
  concurrency?: number
  /** The request to send as number `index`. @default GET / */
  request?: (index: number) => InjectOptions | string
  /** Checked before each request; true stops the load early (still bounded by `total`). */
  stop?: () => boolean
}

export interface LoadResult {
  samples: Sample[]
  /** Wall time of the whole load. */
  ms: number
  /** How many responses had this status. */
  count: (status: number) => number
  /** How many responses had a status from 500 to 599. */
  serverErrors: () => number
  maxMs: (from?: number) => number
  /** The p-th percentile latency (0–100) of the requests started at index `from` or later. */
  percentileMs: (p: number, from?: number) => number
}

function header (value: string | string[] | number | undefined): string | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? value[0] : String(value)
}

export async function runLoad (app: FastifyInstance, options: LoadOptions): Promise<LoadResult> {
  const { total, concurrency = 50, request = () => '/', stop = () => false } = options
  const samples: Sample[] = []
  let next = 0
  const started = performance.now()

  async function worker (): Promise<void> {
    while (next < total && !stop()) {
      // A real request arrives in an I/O callback of its own. app.inject() of a request decided
      // in memory never leaves the microtask queue, so without this turn of the event loop a
      // worker would starve every timer (command timeouts included) until the load is over.
      await nextTurn()
      if (next >= total || stop()) break
      const index = next++
      const begin = performance.now()
      const res = await app.inject(request(index))
      const ms = performance.now() - begin
      const remaining = header(res.headers['x-ratelimit-remaining'] ?? res.headers['ratelimit-remaining'])
      samples.push({ index, status: res.statusCode, at: begin - started, ms, remaining: remaining === undefined ? undefined : Number(remaining), retryAfter: header(res.headers['retry-after']), body: res.body })
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
  const ms = performance.now() - started
  samples.sort((a, b) => a.index - b.index)

  const latencies = (from: number): number[] => samples.filter((s) => s.index >= from).map((s) => s.ms).sort((a, b) => a - b)
  return {
    samples,
    ms,
    count: (status) => samples.filter((s) => s.status === status).length,
    serverErrors: () => samples.filter((s) => s.status >= 500).length,
    maxMs: (from = 0) => Math.max(0, ...latencies(from)),
    percentileMs: (p, from = 0) => {
      const sorted = latencies(from)
      if (sorted.length === 0) return 0
      return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
    },
  }
}

/** A one-line summary for assertion messages. */
export function describeLoad (result: LoadResult, from = 200): string {
  const statuses = new Map<number, number>()
  for (const s of result.samples) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1)
  const codes = [...statuses].sort(([a], [b]) => a - b).map(([code, n]) => `${code}×${n}`).join(' ')
  return `${result.samples.length} requests in ${Math.round(result.ms)} ms [${codes}], max ${result.maxMs().toFixed(1)} ms, p99 after #${from} ${result.percentileMs(99, from).toFixed(1)} ms`
}
