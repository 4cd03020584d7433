import { settleWithin } from './deadline.js'
import { isBreakerFailure, replyError } from './failure-cause.js'
import type { Failover } from './failover.js'
import type { Count } from './memory-limiter.js'

export type Callback = (error: Error | null, result?: Count) => void
/** Decides one request without Redis (the store's failMode), when Redis could not count it after all. */
export type DecideOutside = (counter: string, callback: Callback, timeWindow: number, max: number) => void
/** Calls INCREMENT_SCRIPT on the client with these arguments (see scriptArguments). */
export type IncrementMany = (args: Array<string | number>) => Promise<Array<number | string>>

/** Bits of the script's `mode` argument. */
export const CONTINUE_EXCEEDING = 1
export const EXPONENTIAL_BACKOFF = 2

/** Most counters in one script call; a busier batch makes several calls. */
export const MAX_COUNTERS_PER_CALL = 500

/**
 * Requests of one batch for one counter, counted together: `n` requests raise
 * it by `n` in one INCRBY, and the i-th of them gets the count it would have
 * got alone (`current - n + 1 + i`), so counting stays exact. A request with
 * continueExceeding or exponentialBackoff is always an entry of its own: its
 * expiry depends on its own count.
 */
interface Entry {
  counter: string
  timeWindow: number
  max: number
  mode: number
  callbacks: Callback[]
  decideOutside: DecideOutside
}

/**
 * Counts increments in batches, one script call each, driven by Redis's
 * replies rather than by a timer: with no call in flight a request is sent at
 * once; while one is, requests queue, and the reply sends everything queued
 * as the next call. Under load a request costs bookkeeping instead of a Redis
 * command of its own (one socket write, one reply, one ioredis command per
 * batch); when idle it costs no wait at all. No timer decides when a batch
 * goes out, so a fake clock in an app's tests (sinon, node:test mock timers)
 * cannot hold requests back.
 * Order is kept: counters are incremented in the order their first request
 * arrived, and a request joins an earlier entry only if nothing else for the
 * same counter came in between.
 */
export class IncrementBatch {
  #entries: Entry[] = []
  /** The latest queued entry per counter: the only one a request may join. */
  readonly #latest = new Map<string, Entry>()
  /** Script calls sent and not yet settled. */
  #inFlight = 0

  constructor (
    private readonly incrementMany: IncrementMany,
    private readonly failover: Failover,
    /** Longest a batch's requests wait for Redis before they are decided without it. */
    private readonly decisionTimeout: number
  ) {}

  add (counter: string, callback: Callback, timeWindow: number, max: number, mode: number, decideOutside: DecideOutside): void {
    const latest = this.#latest.get(counter)
    if (mode === 0 && latest !== undefined && latest.mode === 0 && latest.timeWindow === timeWindow && latest.max === max) {
      latest.callbacks.push(callback)
      return
    }
    const entry: Entry = { counter, timeWindow, max, mode, callbacks: [callback], decideOutside }
    this.#entries.push(entry)
    this.#latest.set(counter, entry)
    if (this.#inFlight === 0) this.#flush()
  }

  #flush (): void {
    const entries = this.#entries
    this.#entries = []
    this.#latest.clear()
    if (entries.length <= MAX_COUNTERS_PER_CALL) {
      this.#send(entries)
      return
    }
    for (let from = 0; from < entries.length; from += MAX_COUNTERS_PER_CALL) {
      this.#send(entries.slice(from, from + MAX_COUNTERS_PER_CALL))
    }
  }

  #send (entries: Entry[]): void {
    // Redis may have gone while these requests waited behind the previous call.
    if (!this.failover.useRedis) {
      decideAllOutside(entries)
      return
    }
    this.#inFlight++
    settleWithin(this.incrementMany(scriptArguments(entries)), this.decisionTimeout,
      (reply) => {
        this.#inFlight--
        // Whatever a callback does, what queued must not wait for good.
        try {
          this.#settle(entries, reply)
        } finally {
          this.#sendQueued()
        }
      },
      (error) => {
        this.#inFlight--
        // The breaker first: what queued behind a failed call is then decided without Redis.
        if (isBreakerFailure(error)) this.failover.breaker.recordFailure(error)
        try {
          this.failover.countWaited(error, decideAllOutside(entries))
        } finally {
          this.#sendQueued()
        }
      }
    )
  }

  /** Once no call is in flight, what queued meanwhile goes out as one call. */
  #sendQueued (): void {
    if (this.#inFlight === 0 && this.#entries.length > 0) this.#flush()
  }

  #settle (entries: Entry[], reply: Array<number | string>): void {
    const { breaker } = this.failover
    let counted = false
    for (let i = 0; i < entries.length; i++) {
      const { counter, timeWindow, max, callbacks, decideOutside } = entries[i] as Entry
      // Number(): a client with ioredis's stringNumbers option gets integers as strings.
      const current = Number(reply[2 * i])
      if (current === -1) {
        // Redis refused this counter. A reply about this one key (WRONGTYPE, say) is no sign of a
        // sick Redis: decide its requests outside Redis, and let only replies that are (OOM,
        // READONLY…) reach the breaker.
        const error = replyError(String(reply[2 * i + 1]))
        if (isBreakerFailure(error)) breaker.recordFailure(error)
        this.failover.countWaited(error, callbacks.length)
        for (const callback of callbacks) decideOutside(counter, callback, timeWindow, max)
        continue
      }
      counted = true
      const ttl = Number(reply[2 * i + 1])
      const first = current - callbacks.length + 1
      for (let j = 0; j < callbacks.length; j++) (callbacks[j] as Callback)(null, { current: first + j, ttl })
    }
    if (counted) breaker.recordSuccess()
  }
}

/**
 * INCREMENT_SCRIPT's arguments: how many counters, the counters, how many
 * rules, each rule (window, max, mode) once, then per counter its n and rule
 * number. A batch usually has one rule (one route's limit), so a counter costs
 * two small arguments besides its key.
 */
function scriptArguments (entries: Entry[]): Array<string | number> {
  const args: Array<string | number> = [entries.length]
  const rules: Entry[] = []
  const perCounter: number[] = []
  for (const entry of entries) {
    args.push(entry.counter)
    let rule = rules.length - 1
    while (rule >= 0 && !sameRule(rules[rule] as Entry, entry)) rule--
    if (rule < 0) rule = rules.push(entry) - 1
    perCounter.push(entry.callbacks.length, rule)
  }
  args.push(rules.length)
  for (const { timeWindow, max, mode } of rules) args.push(timeWindow, max, mode)
  for (const value of perCounter) args.push(value)
  return args
}

function sameRule (a: Entry, b: Entry): boolean {
  return a.timeWindow === b.timeWindow && a.max === b.max && a.mode === b.mode
}

/** Decides every request of `entries` outside Redis; returns how many there were. */
function decideAllOutside (entries: Entry[]): number {
  let decisions = 0
  for (const { counter, timeWindow, max, callbacks, decideOutside } of entries) {
    for (const callback of callbacks) decideOutside(counter, callback, timeWindow, max)
    decisions += callbacks.length
  }
  return decisions
}
