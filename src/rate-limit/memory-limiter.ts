/** What a limiter decided: the count in the current window and the ms left in it. */
export interface Count {
  current: number
  ttl: number
}

interface Window {
  count: number
  /** Date.now() at which the window ends. */
  endsAt: number
}

export interface IncrementRule {
  timeWindow: number
  max: number
  continueExceeding: boolean
  exponentialBackoff: boolean
}

/**
 * Fixed-window counters in process memory, for when Redis cannot count. The
 * number of keys is bounded: past `maxKeys` the least recently used key is
 * dropped, so a flood of distinct keys during an outage cannot exhaust memory
 * (a dropped key simply starts a fresh window).
 */
export class MemoryLimiter {
  readonly #windows = new Map<string, Window>()
  /** The most recently used key, already last in #windows. */
  #newest: string | undefined

  constructor (readonly maxKeys: number) {}

  get size (): number {
    return this.#windows.size
  }

  increment (key: string, rule: IncrementRule, now = Date.now()): Count {
    let window = this.#windows.get(key)
    if (window === undefined || window.endsAt <= now) {
      window = { count: 1, endsAt: now + rule.timeWindow }
      this.#touch(key, window)
    } else {
      window.count++
      if (rule.continueExceeding && window.count > rule.max) {
        window.endsAt = now + rule.timeWindow
      } else if (rule.exponentialBackoff && window.count > rule.max) {
        window.endsAt = now + Math.min(rule.timeWindow * 2 ** (window.count - rule.max - 1), Number.MAX_SAFE_INTEGER)
      }
      // The newest key stays where it is: one hot key (a client, a route) is the common case.
      if (key !== this.#newest) this.#touch(key, window)
    }
    return { current: window.count, ttl: window.endsAt - now }
  }

  read (key: string, now = Date.now()): Count {
    const window = this.#windows.get(key)
    if (window === undefined || window.endsAt <= now) return { current: 0, ttl: 0 }
    return { current: window.count, ttl: window.endsAt - now }
  }

  /** Marks `key` most recently used (a Map iterates in insertion order) and enforces the bound. */
  #touch (key: string, window: Window): void {
    this.#newest = key
    this.#windows.delete(key)
    this.#windows.set(key, window)
    if (this.#windows.size > this.maxKeys) {
      const oldest = this.#windows.keys().next().value as string
      this.#windows.delete(oldest)
    }
  }
}
