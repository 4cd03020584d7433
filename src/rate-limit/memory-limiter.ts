import { CompactWindows, compactSlots } from './compact-windows.js'
import type { Seeds } from './fingerprint.js'
import { FullWindows, type FullWindow } from './full-windows.js'

/** What a limiter decided: the count in the current window and the ms left in it. */
export interface Count {
  current: number
  ttl: number
}

export interface IncrementRule {
  timeWindow: number
  max: number
  continueExceeding: boolean
  exponentialBackoff: boolean
}

export interface MemoryLimiterOptions {
  /** Slots of the compact table (a power of two). @default compactSlots(maxKeys) */
  compactSlots?: number
  /** Fingerprint seeds, for tests. @default random */
  seeds?: Seeds
}

/**
 * Fixed-window counters in process memory, for when Redis cannot count, in a
 * bounded amount of memory, and such that a flood of keys cannot lift a limit.
 *
 * Two tiers. A key's first request in a window goes to CompactWindows: a
 * fingerprint, a count and the window's end, no string. Its second request
 * takes it out into FullWindows (key, count, end), at most `maxKeys`, where the
 * keys in use are found by their string, exactly, and without computing a
 * fingerprint. Past `maxKeys`, FullWindows gives up the
 * window with the fewest hits among its least recently used, which goes back to
 * the compact table with its count (or is dropped if it has ended: nothing is
 * lost with it).
 *
 * Exactness: every increment writes at most one entry into the compact table
 * (a first request, or the window FullWindows gives up), and an entry is kept
 * there for `compactSlots` writes. So a key's count is never lost nor reset
 * early while fewer than `compactSlots` (65,536) requests of other keys come
 * between two of its requests in a window, whatever those keys are: at 24,000
 * new keys a second, 2.7 s. A flood of one-shot keys only churns the compact
 * table and never touches FullWindows.
 */
export class MemoryLimiter {
  readonly #full: FullWindows
  readonly #compact: CompactWindows

  constructor (readonly maxKeys: number, options: MemoryLimiterOptions = {}) {
    this.#full = new FullWindows(maxKeys)
    this.#compact = new CompactWindows(options.compactSlots ?? compactSlots(maxKeys), options.seeds)
  }

  /** Keys held: those with a full window (at most maxKeys) plus those in the compact table (at most its slots). */
  get size (): number {
    return this.#full.size + this.#compact.size
  }

  /** The most keys `size` can count. */
  get capacity (): number {
    return this.maxKeys + this.#compact.slots
  }

  increment (key: string, rule: IncrementRule, now = Date.now()): Count {
    let window = this.#full.get(key)
    if (window === undefined) {
      const kept = this.#compact.take(key, now, now + rule.timeWindow)
      // A first request: its window always ends timeWindow after it, whatever the rule (as in Redis).
      if (kept === undefined) return { current: 1, ttl: rule.timeWindow }
      // A later one: counted below, on the window as the compact table kept it.
      window = { key, count: kept.count, endsAt: kept.endsAt, first: kept.first, second: kept.second, hits: kept.count, older: undefined, newer: undefined }
      const givenUp = this.#full.add(window, now)
      if (givenUp !== undefined) this.#compact.put(givenUp)
    } else {
      this.#full.touch(window)
    }
    return this.#count(window, rule, now)
  }

  read (key: string, now = Date.now()): Count {
    const window = this.#full.get(key) ?? this.#compact.peek(key, now)
    if (window === undefined || window.endsAt <= now) return { current: 0, ttl: 0 }
    return { current: window.count, ttl: window.endsAt - now }
  }

  /** One more request of a key with a full window: the rules of the Redis script. */
  #count (window: FullWindow, rule: IncrementRule, now: number): Count {
    window.hits++
    if (window.endsAt <= now) {
      window.count = 1
      window.endsAt = now + rule.timeWindow
    } else {
      window.count++
      if (rule.continueExceeding && window.count > rule.max) {
        window.endsAt = now + rule.timeWindow
      } else if (rule.exponentialBackoff && window.count > rule.max) {
        window.endsAt = now + Math.min(rule.timeWindow * 2 ** (window.count - rule.max - 1), Number.MAX_SAFE_INTEGER)
      }
    }
    return { current: window.count, ttl: window.endsAt - now }
  }
}
