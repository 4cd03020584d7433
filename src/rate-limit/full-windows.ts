import type { TakenWindow } from './compact-windows.js'

/** A key's fixed window, with what the bound needs: its place in recency order. */
export interface FullWindow extends TakenWindow {
  readonly key: string
  /** Requests counted since the key came in (the count it came in with, plus one a request). */
  hits: number
  /** Neighbours in recency order: toward the least recently used, toward the most. */
  older: FullWindow | undefined
  newer: FullWindow | undefined
}

/** How many of the least recently used windows an eviction compares. */
export const EVICTION_SAMPLE = 8

/**
 * The memory limiter's windows kept with their key, at most `maxKeys`: a Map
 * to find them, and a doubly linked list in recency order. The list, not the
 * Map's own order, keeps recency: moving a Map entry to the end (delete, then
 * set) leaves a hole at its old place, and taking the first entry of a Map
 * skips every hole left at its front since the last rehash, microseconds
 * once thousands of keys have gone through (measured in BENCHMARKS.md).
 */
export class FullWindows {
  readonly #windows = new Map<string, FullWindow>()
  #oldest: FullWindow | undefined
  #newest: FullWindow | undefined

  constructor (readonly maxKeys: number) {}

  get size (): number {
    return this.#windows.size
  }

  get (key: string): FullWindow | undefined {
    return this.#windows.get(key)
  }

  /** Marks a window held here the most recently used. */
  touch (window: FullWindow): void {
    // The newest stays where it is: one hot key (a client, a route) is the common case.
    if (window === this.#newest) return
    this.#unlink(window)
    this.#append(window)
  }

  /**
   * Adds a window for a key not held here, as the most recently used. Past
   * `maxKeys` one of the EVICTION_SAMPLE least recently used (never the one
   * added) goes: the first whose window has ended, dropped, since nothing is
   * lost with it; else the one with the fewest hits (the oldest of those on a
   * tie), returned for the caller to keep elsewhere.
   */
  add (window: FullWindow, now: number): FullWindow | undefined {
    this.#windows.set(window.key, window)
    this.#append(window)
    if (this.#windows.size <= this.maxKeys) return undefined
    // maxKeys ≥ 1, so past it there is a window older than the one just added.
    let candidate = this.#oldest as FullWindow
    let victim = candidate
    for (let compared = 0; compared < EVICTION_SAMPLE && candidate !== window; compared++) {
      if (candidate.endsAt <= now) {
        this.#remove(candidate)
        return undefined
      }
      if (candidate.hits < victim.hits) victim = candidate
      candidate = candidate.newer as FullWindow
    }
    this.#remove(victim)
    return victim
  }

  #remove (window: FullWindow): void {
    this.#windows.delete(window.key)
    this.#unlink(window)
  }

  #append (window: FullWindow): void {
    window.older = this.#newest
    window.newer = undefined
    if (this.#newest === undefined) this.#oldest = window
    else this.#newest.newer = window
    this.#newest = window
  }

  /** Takes a window out of the list; never the newest (which is never touched nor evicted). */
  #unlink (window: FullWindow): void {
    const newer = window.newer as FullWindow
    newer.older = window.older
    if (window.older === undefined) this.#oldest = newer
    else window.older.newer = newer
  }
}
