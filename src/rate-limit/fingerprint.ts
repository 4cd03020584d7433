/*
 * Two 32-bit hashes of a key, computed in one pass, so that the memory limiter
 * can keep a key without keeping its string (compact-windows.ts). Together they
 * are a 64-bit fingerprint: two given keys match in both with a chance of
 * about 2^-64.
 *
 * Both are seeded from the system's random source, once per limiter, so whoever
 * chooses keys (an X-Forwarded-For header) cannot compute which keys share a
 * fingerprint or crowd one spot of the table. That holds short of an attack on
 * the hash itself: it is built to be fast, not cryptographic.
 */
import { randomFillSync } from 'node:crypto'

export interface Seeds {
  readonly a: number
  readonly b: number
}

export function randomSeeds (): Seeds {
  const [a, b] = randomFillSync(new Int32Array(2))
  return { a: a as number, b: b as number }
}

/**
 * Writes the fingerprint of `key` to `out[0]` and `out[1]` (an output array,
 * not a returned pair: this runs on every decision and allocates nothing).
 *
 * Two UTF-16 code units at a time. For a given pair, each step is a bijection
 * of the state (xor, multiply by an odd constant, xor-shift right): the state
 * never forgets what it took in before, and the shift carries the high bits
 * the multiply produced back down. The two hashes use different constants and
 * seeds. The length goes in last ("a" and "a\0" read the same pairs), then a
 * finaliser spreads every bit over the whole word, since the table uses the
 * low bits of `out[0]` as a position (the multipliers of MurmurHash3's fmix32
 * and of Chris Wellons' lowbias32, both public domain).
 */
export function fingerprint (key: string, seeds: Seeds, out: Int32Array): void {
  let a = seeds.a
  let b = seeds.b
  const length = key.length
  let i = 0
  for (; i + 1 < length; i += 2) {
    const pair = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)
    a = Math.imul(a ^ pair, 0x9e3779b1)
    a ^= a >>> 15
    b = Math.imul(b ^ pair, 0x85ebca77)
    b ^= b >>> 13
  }
  if (i < length) {
    const last = key.charCodeAt(i)
    a = Math.imul(a ^ last, 0x9e3779b1)
    a ^= a >>> 15
    b = Math.imul(b ^ last, 0x85ebca77)
    b ^= b >>> 13
  }
  out[0] = finalise(a ^ length, 0x85ebca6b, 0xc2b2ae35)
  out[1] = finalise(b ^ length, 0x7feb352d, 0x846ca68b)
}

function finalise (h: number, m1: number, m2: number): number {
  h ^= h >>> 16
  h = Math.imul(h, m1)
  h ^= h >>> 13
  h = Math.imul(h, m2)
  return h ^ (h >>> 16)
}
