/*
 * Redis Cluster's key → hash slot mapping, as the cluster specification
 * defines it: CRC16 (XMODEM: polynomial 0x1021, initial value 0) of the key's
 * UTF-8 bytes, modulo 16384. A key with a hash tag (a `{` followed later by a
 * `}` with at least one byte between) is hashed by the tag alone, so keys
 * that share a tag share a slot. The store groups a tick's counters by slot,
 * since a cluster runs a script only on keys of one slot.
 *
 * Not cluster-key-slot, what ioredis before 6.1 routes with: version 1.1.1
 * hashes `foo{}{bar}` by `bar`, where Redis hashes the whole key (an empty
 * first tag means no tag). ioredis 6.1 vendors a fixed copy, but it is not
 * public API and this package accepts ioredis 6.0 too;
 * test/cluster-rate-limit.test.ts checks every case against a real cluster.
 */

export const SLOT_COUNT = 16384

/** CRC16 of every byte value, for one table lookup per byte. */
const CRC_TABLE = (() => {
  const table = new Uint16Array(256)
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8
    for (let bit = 0; bit < 8; bit++) crc = (crc & 0x8000) !== 0 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[byte] = crc
  }
  return table
})()

/** CRC16 of characters from..to of a string whose every character is one byte (0-255). */
function crc16OfByteString (key: string, from: number, to: number): number {
  let crc = 0
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ (CRC_TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff] as number)
  return crc
}

/** The slot of a key given as a string of its bytes. */
function byteStringSlot (key: string): number {
  const open = key.indexOf('{')
  if (open >= 0) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) return crc16OfByteString(key, open + 1, close) % SLOT_COUNT
  }
  return crc16OfByteString(key, 0, key.length) % SLOT_COUNT
}

const NOT_ASCII = /[^\x00-\x7f]/

/** The slot Redis Cluster keeps `key` in. */
export function hashSlot (key: string): number {
  // An ASCII key (the usual IP or id) is its own UTF-8 bytes: no encoding on the hot path.
  if (!NOT_ASCII.test(key)) return byteStringSlot(key)
  // Any other key is hashed by its UTF-8 bytes, read here as a latin1 string of them.
  return byteStringSlot(Buffer.from(key).toString('latin1'))
}

/** A short hash tag per slot, found once: a key holding `{tag}` lives in that slot. */
const tags = new Map<number, string>()

/**
 * A tag whose key is in `slot` (0 to 16383, as hashSlot gives): the first
 * decimal number that hashes there. Every slot has one below 10^6 (the tests
 * check all 16384), so the search ends. Used to put the breaker's probe key
 * on the node that failed.
 */
export function tagForSlot (slot: number): string {
  let tag = tags.get(slot)
  if (tag === undefined) {
    for (let n = 0; tag === undefined; n++) {
      const candidate = String(n)
      if (byteStringSlot(candidate) === slot) tag = candidate
    }
    tags.set(slot, tag)
  }
  return tag
}
