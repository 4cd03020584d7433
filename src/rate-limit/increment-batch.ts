import { settleWithin } from './deadline.js'
import { isBreakerFailure, replyError } from './failure-cause.js'
import type { Failover } from './failover.js'
import type { Count } from './memory-limiter.js'
import { atPhaseEnd } from './phase-end.js'

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
 * Most batches in flight at once: the requests of one poll phase, and those of
 * the next while the first waits for its reply. More measured no faster (issue 14).
 */
export const MAX_BATCHES_IN_FLIGHT = 2

export interface IncrementBatchOptions {
  incrementMany: IncrementMany
  failover: Failover
  /** Longest a batch's requests wait for Redis before they are decided without it. */
  decisionTimeout: number
  /** Hears of each plain counter (mode 0) Redis counted over its max: its last count and the window's ms left. */
  onOverLimit: (counter: string, current: number, ttl: number) => void
  /**
   * On a Redis Cluster, the hash slot of a counter: a batch then makes one
   * call per slot, since a cluster runs a script only on keys of one slot
   * (CROSSSLOT otherwise). Absent on one server: one call for the batch.
   */
  slotOf?: (counter: string) => number
  /** Hears of a counter whose call failed for a reason that reaches the breaker: where Redis failed. */
  onRedisFailure: (counter: string) => void
}

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
 * Counts increments in batches, one script call each. The requests read in
 * one poll phase of the event loop go out together at its end (phase-end.ts),
 * while fewer than MAX_BATCHES_IN_FLIGHT are in flight; past that they queue
 * until a reply, which sends what queued. Under load a request costs
 * bookkeeping instead of a Redis command of its own (one socket write, one
 * reply, one ioredis command per batch); when idle it waits no longer than
 * the phase it arrived in. Progress never depends on a clock an app's tests
 * may fake (sinon, node:test mock timers): with a fake in place a request
 * with nothing in flight is sent at once, and replies send everything else.
 * Order is kept: counters are incremented in the order their first request
 * arrived (batches go out in order on one connection), and a request joins an
 * earlier entry only if nothing else for the same counter came in between. On
 * a cluster a batch is one call per hash slot (each in that order), and counts
 * as in flight until all its calls have settled.
 */
export class IncrementBatch {
  #entries: Entry[] = []
  /** The latest queued entry per counter: the only one a request may join. */
  readonly #latest = new Map<string, Entry>()
  /** Batches sent and not yet settled (a batch is one call, or one per slot on a cluster). */
  #inFlight = 0
  /** An end-of-phase send is scheduled (see add). */
  #phaseEndScheduled = false
  readonly #phaseEnd = (): void => {
    this.#phaseEndScheduled = false
    this.#sendQueued()
  }

  constructor (private readonly options: IncrementBatchOptions) {}

  add (counter: string, callback: Callback, timeWindow: number, max: number, mode: number, decideOutside: DecideOutside): void {
    const latest = this.#latest.get(counter)
    if (mode === 0 && latest !== undefined && latest.mode === 0 && latest.timeWindow === timeWindow && latest.max === max) {
      latest.callbacks.push(callback)
      return
    }
    const entry: Entry = { counter, timeWindow, max, mode, callbacks: [callback], decideOutside }
    this.#entries.push(entry)
    this.#latest.set(counter, entry)
    if (this.#phaseEndScheduled || this.#inFlight >= MAX_BATCHES_IN_FLIGHT) return
    if (atPhaseEnd(this.#phaseEnd)) this.#phaseEndScheduled = true
    // The clock may be fake: nothing may wait for the immediate. Sent at once from idle; behind
    // a batch in flight, its reply sends what queued.
    else if (this.#inFlight === 0) this.#flush()
  }

  #flush (): void {
    const entries = this.#entries
    this.#entries = []
    this.#latest.clear()
    const { slotOf } = this.options
    const calls: Entry[][] = []
    for (const group of slotOf === undefined ? [entries] : groupBySlot(entries, slotOf)) {
      if (group.length <= MAX_COUNTERS_PER_CALL) {
        calls.push(group)
        continue
      }
      for (let from = 0; from < group.length; from += MAX_COUNTERS_PER_CALL) {
        calls.push(group.slice(from, from + MAX_COUNTERS_PER_CALL))
      }
    }
    this.#inFlight++
    let pending = calls.length
    const settled = (): void => {
      if (--pending > 0) return
      this.#inFlight--
      this.#sendQueued()
    }
    for (const call of calls) this.#send(call, settled)
  }

  /** Sends one call; `settled` is called once its requests are decided. */
  #send (entries: Entry[], settled: () => void): void {
    const { failover, incrementMany, decisionTimeout, onRedisFailure } = this.options
    // Redis may have gone while these requests waited behind the previous call.
    if (!failover.useRedis) {
      try {
        decideAllOutside(entries)
      } finally {
        settled()
      }
      return
    }
    settleWithin(incrementMany(scriptArguments(entries)), decisionTimeout,
      (reply) => {
        // Whatever a callback does, what queued must not wait for good.
        try {
          this.#settle(entries, reply)
        } finally {
          settled()
        }
      },
      (error) => {
        // The breaker first: what queued behind a failed call is then decided without Redis.
        if (isBreakerFailure(error)) {
          onRedisFailure((entries[0] as Entry).counter)
          failover.breaker.recordFailure(error)
        }
        failover.countWaited(error, requestsOf(entries))
        try {
          decideAllOutside(entries)
        } finally {
          settled()
        }
      }
    )
  }

  /** While fewer than MAX_BATCHES_IN_FLIGHT are in flight, what queued goes out as one batch. */
  #sendQueued (): void {
    if (this.#inFlight < MAX_BATCHES_IN_FLIGHT && this.#entries.length > 0) this.#flush()
  }

  #settle (entries: Entry[], reply: Array<number | string>): void {
    const { failover, onOverLimit, onRedisFailure } = this.options
    const { breaker } = failover
    let counted = false
    // A callback is the app's (or a library's): if one throws, the other requests are still answered.
    let thrown: { error: unknown } | undefined
    for (let i = 0; i < entries.length; i++) {
      const { counter, timeWindow, max, mode, callbacks } = entries[i] as Entry
      // Number(): a client with ioredis's stringNumbers option gets integers as strings.
      const current = Number(reply[2 * i])
      if (current === -1) {
        // Redis refused this counter. A reply about this one key (WRONGTYPE, say) is no sign of a
        // sick Redis: decide its requests outside Redis, and let only replies that are (OOM,
        // READONLY…) reach the breaker.
        const error = replyError(String(reply[2 * i + 1]))
        if (isBreakerFailure(error)) {
          onRedisFailure(counter)
          breaker.recordFailure(error)
        }
        failover.countWaited(error, callbacks.length)
        // Decided whatever an earlier callback threw (??= alone would skip the call).
        const threw = decideEachOutside(entries[i] as Entry)
        thrown ??= threw
        continue
      }
      counted = true
      const ttl = Number(reply[2 * i + 1])
      const first = current - callbacks.length + 1
      for (let j = 0; j < callbacks.length; j++) {
        try {
          (callbacks[j] as Callback)(null, { current: first + j, ttl })
        } catch (error) {
          thrown ??= { error }
        }
      }
      if (mode === 0 && current > max) onOverLimit(counter, current, ttl)
    }
    if (counted) breaker.recordSuccess()
    if (thrown !== undefined) throw thrown.error
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

/** The entries of each slot, in their order: the calls of one batch on a cluster. */
function groupBySlot (entries: Entry[], slotOf: (counter: string) => number): Iterable<Entry[]> {
  const groups = new Map<number, Entry[]>()
  for (const entry of entries) {
    const slot = slotOf(entry.counter)
    const group = groups.get(slot)
    if (group === undefined) groups.set(slot, [entry])
    else group.push(entry)
  }
  return groups.values()
}

function sameRule (a: Entry, b: Entry): boolean {
  return a.timeWindow === b.timeWindow && a.max === b.max && a.mode === b.mode
}

/** Decides every request of `entries` outside Redis; a callback that throws is thrown again after the last. */
function decideAllOutside (entries: Entry[]): void {
  let thrown: { error: unknown } | undefined
  for (const entry of entries) {
    const threw = decideEachOutside(entry)
    thrown ??= threw
  }
  if (thrown !== undefined) throw thrown.error
}

/** Decides each of an entry's requests outside Redis, even when a callback throws: returns the first throw. */
function decideEachOutside ({ counter, timeWindow, max, callbacks, decideOutside }: Entry): { error: unknown } | undefined {
  let thrown: { error: unknown } | undefined
  for (const callback of callbacks) {
    try {
      decideOutside(counter, callback, timeWindow, max)
    } catch (error) {
      thrown ??= { error }
    }
  }
  return thrown
}

/** How many requests the entries hold. */
function requestsOf (entries: Entry[]): number {
  let requests = 0
  for (const { callbacks } of entries) requests += callbacks.length
  return requests
}
