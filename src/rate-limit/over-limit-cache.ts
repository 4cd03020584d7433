import type { Count } from './memory-limiter.js'

/*
 * Keys Redis has said are over their limit, refused in process until their
 * window ends, without asking Redis again (as Envoy's ratelimit service and
 * rate-limiter-flexible's inMemoryBlockOnConsumed do). An abusive client far
 * over its limit would otherwise cost one Redis call per refused request.
 *
 * The answer is the one Redis counting gives: the count goes on from the one
 * Redis returned (so `ban` is reached at the same request on this instance),
 * and the window ends when Redis said it would. Only plain windows are kept:
 * with continueExceeding or exponentialBackoff every request changes the
 * key's expiry in Redis, so those always go to Redis.
 *
 * What Redis no longer sees are the refused requests themselves: its counter
 * stays at the count that first went over. Other instances still refuse the
 * key (its count is over the limit there too); `ban`, which counts refused
 * requests, is then reached per instance rather than across all of them.
 */

// The real clock, taken before an app's tests can fake it: a refusal must end
// when Redis's window does, not when a faked clock says.
const now = performance.now.bind(performance)

interface Refusal {
  current: number
  /** now() at which Redis's window ends. */
  endsAt: number
}

export class OverLimitCache {
  readonly #refusals = new Map<string, Refusal>()
  /** Requests refused here without a Redis call. */
  refused = 0

  /** @param bound Most keys kept; past it the one kept longest goes (it is the likeliest to have ended). */
  constructor (private readonly bound: number) {}

  get size (): number { return this.#refusals.size }

  /** Redis counted `counter` at `current` (over its max), its window ending in `ttl` ms. */
  remember (counter: string, current: number, ttl: number): void {
    if (ttl <= 0) return
    if (!this.#refusals.has(counter) && this.#refusals.size >= this.bound) {
      this.#refusals.delete(this.#refusals.keys().next().value as string)
    }
    this.#refusals.set(counter, { current, endsAt: now() + ttl })
  }

  /**
   * The next count of a key known to be over `max`, or undefined: ask Redis.
   * (`max` may be a function of the request in @fastify/rate-limit: a key
   * over an earlier max but not over this one goes to Redis.)
   */
  refuse (counter: string, max: number): Count | undefined {
    const refusal = this.#refusals.get(counter)
    if (refusal === undefined || refusal.current < max) return undefined
    const ttl = Math.ceil(refusal.endsAt - now())
    if (ttl <= 0) {
      this.#refusals.delete(counter)
      return undefined
    }
    this.refused++
    return { current: ++refusal.current, ttl }
  }
}
