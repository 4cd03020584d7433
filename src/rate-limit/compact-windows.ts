import { fingerprint, randomSeeds, type Seeds } from './fingerprint.js'

/**
 * The least number of windows the memory limiter keeps as fingerprints: 2.7 s
 * of a flood of 24,000 new keys a second, eight times the 8,000 new keys such a
 * flood sends between two requests of a client sending 3 a second.
 */
export const COMPACT_SLOTS = 65_536

/** The most slots the compact table takes, whatever `cache` says: 32 MB. */
export const MAX_COMPACT_SLOTS = 2 ** 20

/**
 * Slots of the compact table for a limiter holding `maxKeys` full windows:
 * COMPACT_SLOTS, or `maxKeys` rounded up to a power of two if that is more, so
 * a window kept here survives at least as many new keys as the least recently
 * used key of a plain LRU of `maxKeys` keys did; at most MAX_COMPACT_SLOTS, as
 * the table is allocated whole at once (a `cache` of a billion must not try to
 * take 32 GB at boot).
 */
export function compactSlots (maxKeys: number): number {
  let slots = COMPACT_SLOTS
  while (slots < maxKeys && slots < MAX_COMPACT_SLOTS) slots *= 2
  return slots
}

/** A window as kept here: its count and the Date.now() at which it ends. */
export interface CompactWindow {
  count: number
  endsAt: number
}

/** A window taken out, with its key's fingerprint (fingerprint.ts): all it takes to put it back. */
export interface TakenWindow extends CompactWindow {
  readonly first: number
  readonly second: number
}

/**
 * Fixed windows kept without their key: a 64-bit fingerprint of the key
 * (fingerprint.ts), the count and the window's end, in typed arrays. The
 * memory limiter keeps here every key with one request in its window, and
 * every window it moves out of its map of full windows to make room; a key's
 * next request takes its window back out. Most keys of a flood never come back
 * and only ever churn this table.
 *
 * Storage: a ring of `slots` entries, written in order and overwritten once
 * full, the oldest first, so an entry is kept for exactly `slots` writes after
 * its own, however fast they come; and an open-addressing index (linear
 * probing, at most half full) from the fingerprint to the ring slot. 32 bytes a
 * slot, allocated once: 2 MB for 65,536 slots.
 */
export class CompactWindows {
  /** Per ring slot: the fingerprint's two halves, the window; a count of 0 marks a free slot. */
  readonly #first: Int32Array
  readonly #second: Int32Array
  readonly #count: Float64Array
  readonly #endsAt: Float64Array
  /** Index cells: ring slot + 1, or 0 for an empty cell. */
  readonly #index: Int32Array
  readonly #indexMask: number
  /** The ring slot the next write takes. */
  #next = 0
  #size = 0
  readonly #seeds: Seeds
  /** The fingerprint being looked up (scratch, so a decision allocates nothing). */
  readonly #print = new Int32Array(2)

  /** `slots`: a power of two. `seeds`: for tests; random by default. */
  constructor (readonly slots: number, seeds: Seeds = randomSeeds()) {
    if (!Number.isSafeInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`slots must be a power of two (got ${slots})`)
    this.#first = new Int32Array(slots)
    this.#second = new Int32Array(slots)
    this.#count = new Float64Array(slots)
    this.#endsAt = new Float64Array(slots)
    this.#index = new Int32Array(slots * 2)
    this.#indexMask = slots * 2 - 1
    this.#seeds = seeds
  }

  /** Windows kept (some of them may have ended since). */
  get size (): number {
    return this.#size
  }

  /** The window of `key` if one is kept and still running. */
  peek (key: string, now: number): CompactWindow | undefined {
    fingerprint(key, this.#seeds, this.#print)
    const cell = this.#find()
    if (cell < 0) return undefined
    const slot = (this.#index[cell] as number) - 1
    const endsAt = this.#endsAt[slot] as number
    return endsAt > now ? { count: this.#count[slot] as number, endsAt } : undefined
  }

  /**
   * A request for `key`. If a running window of the key is kept here, removes
   * it and returns it. Otherwise keeps this request as the first of a window
   * ending at `endsAt` and returns undefined.
   */
  take (key: string, now: number, endsAt: number): TakenWindow | undefined {
    fingerprint(key, this.#seeds, this.#print)
    const cell = this.#find()
    if (cell >= 0) {
      const slot = (this.#index[cell] as number) - 1
      const kept = this.#endsAt[slot] as number
      const count = this.#count[slot] as number
      this.#remove(cell, slot)
      if (kept > now) return { count, endsAt: kept, first: this.#print[0] as number, second: this.#print[1] as number }
      // Its window ended: a first request again, kept afresh at the head of the ring.
    }
    this.#add(1, endsAt)
    return undefined
  }

  /**
   * Keeps again, with its count and end as they are now, a window taken out
   * earlier: its fingerprint came with it, so its key needs no hashing (and
   * its string no reading) again.
   */
  put (window: TakenWindow): void {
    this.#print[0] = window.first
    this.#print[1] = window.second
    this.#add(window.count, window.endsAt)
  }

  /** The index cell of the fingerprint in #print, or -1. */
  #find (): number {
    const first = this.#print[0] as number
    const second = this.#print[1] as number
    const index = this.#index
    let cell = first & this.#indexMask
    for (let entry = index[cell] as number; entry !== 0; entry = index[cell] as number) {
      if (this.#first[entry - 1] === first && this.#second[entry - 1] === second) return cell
      cell = (cell + 1) & this.#indexMask
    }
    return -1
  }

  /** Keeps the fingerprint in #print in the next ring slot, overwriting the oldest entry once the ring is full. */
  #add (count: number, endsAt: number): void {
    const slot = this.#next
    this.#next = (slot + 1) & (this.slots - 1)
    // The slot's entry is the oldest in the table, so it is in its home cell: an entry only
    // ever sits past its home behind older entries (inserts go to the first empty cell,
    // removals move entries back in order), and no entry is older than this one.
    if (this.#count[slot] !== 0) this.#remove((this.#first[slot] as number) & this.#indexMask, slot)
    const first = this.#print[0] as number
    let cell = first & this.#indexMask
    while (this.#index[cell] !== 0) cell = (cell + 1) & this.#indexMask
    this.#index[cell] = slot + 1
    this.#first[slot] = first
    this.#second[slot] = this.#print[1] as number
    this.#count[slot] = count
    this.#endsAt[slot] = endsAt
    this.#size++
  }

  /**
   * Frees a ring slot and empties its index cell without tombstones: each later
   * entry of the same run moves back into the hole unless its home cell lies
   * after the hole, so every entry stays reachable from its home by probing
   * forward.
   */
  #remove (cell: number, slot: number): void {
    this.#count[slot] = 0
    this.#size--
    const index = this.#index
    const mask = this.#indexMask
    let hole = cell
    for (let at = (cell + 1) & mask; index[at] !== 0; at = (at + 1) & mask) {
      const entry = index[at] as number
      const home = (this.#first[entry - 1] as number) & mask
      // Distances measured forward, around the end of the index.
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        index[hole] = entry
        hole = at
      }
    }
    index[hole] = 0
  }
}
