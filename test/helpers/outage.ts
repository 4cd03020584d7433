// Tools for tests that run real libraries through a Redis outage over real
// HTTP: unhandled rejections caught and kept, a route hit at a steady pace
// with every answer (or its absence) recorded, and a plain route's latency.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

/** Keeps every unhandled rejection from now until the test ends (the process does not die of them meanwhile). */
export function trackUnhandled (t: Test): unknown[] {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })
  return unhandled
}

export interface Answer {
  /** Number of the request, from 0. */
  n: number
  /** Date.now() when it was sent and when its answer came (undefined: no answer within the bound). */
  sentAt: number
  answeredAt: number | undefined
  status: number | undefined
  body: string
  /** Milliseconds from sending to the answer (undefined: none). */
  ms: number | undefined
}

export interface SteadyLoad {
  readonly answers: Answer[]
  /** Stops sending, and resolves once every request sent has its answer or hit the bound. */
  stop: () => Promise<Answer[]>
}

/**
 * Sends `request(n)` every `everyMs` without waiting for the previous answer,
 * so that a request that hangs shows as one without an answer, not as a
 * slower pace. Each is abandoned after `boundMs` (then `status` stays undefined).
 */
export function steadyLoad (request: (n: number, signal: AbortSignal) => Promise<Response>, everyMs: number, boundMs: number): SteadyLoad {
  const answers: Answer[] = []
  const pending = new Set<Promise<void>>()
  let n = 0
  const send = (): void => {
    const answer: Answer = { n: n++, sentAt: Date.now(), answeredAt: undefined, status: undefined, body: '', ms: undefined }
    answers.push(answer)
    const started = performance.now()
    const done = (async () => {
      try {
        const res = await request(answer.n, AbortSignal.timeout(boundMs))
        answer.body = await res.text()
        answer.status = res.status
        answer.ms = performance.now() - started
        answer.answeredAt = Date.now()
      } catch (error) {
        answer.body = `no answer: ${(error as Error).message}`
      }
    })()
    pending.add(done)
    void done.finally(() => pending.delete(done))
  }
  const timer = setInterval(send, everyMs)
  send()
  return {
    answers,
    stop: async () => {
      clearInterval(timer)
      await Promise.all([...pending])
      return answers
    },
  }
}

export interface LatencyProbe {
  /** Stops probing; resolves to what was measured. */
  stop: () => Promise<{ probes: number; failures: number; maxMs: number; maxEventLoopDelayMs: number }>
}

/**
 * Requests `url` one after another, `pauseMs` apart, and keeps the slowest
 * answer; also samples the event loop's delay, which is what a frozen worker
 * loop would show.
 */
export function probeLatency (url: string, pauseMs: number): LatencyProbe {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  let running = true
  let probes = 0
  let failures = 0
  let maxMs = 0
  const loop = (async () => {
    while (running) {
      const started = performance.now()
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
        await res.text()
        if (res.status !== 200) failures++
      } catch {
        failures++
      }
      maxMs = Math.max(maxMs, performance.now() - started)
      probes++
      await sleep(pauseMs)
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      histogram.disable()
      return { probes, failures, maxMs, maxEventLoopDelayMs: histogram.max / 1e6 }
    },
  }
}

/** Resolves `promise`, or undefined after `ms` (the promise is left to settle on its own). */
export async function settleWithin<T> (promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => { resolve(undefined) }, ms) })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Log lines with `redisState` since `since` (a Date.now()), counted by `redisClient`. */
export function stateLinesByClient (lines: Array<Record<string, unknown>>, since: number): Record<string, string[]> {
  const byClient: Record<string, string[]> = {}
  for (const line of lines) {
    if (line.redisState === undefined || Number(line.time) < since) continue
    const client = String(line.redisClient)
    ;(byClient[client] ??= []).push(`${String(line.redisState)}${line.redisFailure === undefined ? '' : `:${String(line.redisFailure)}`}`)
  }
  return byClient
}

/**
 * A second of steady work, then the fault, `outageMs` of it, then the heal:
 * when the fault began and when the heal was done (Date.now()).
 */
export async function throughFault (fault: () => unknown, heal: () => unknown, outageMs: number): Promise<{ faultAt: number; healedAt: number }> {
  await sleep(1000)
  const faultAt = Date.now()
  await fault()
  await sleep(outageMs)
  await heal()
  return { faultAt, healedAt: Date.now() }
}
