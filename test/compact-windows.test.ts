// The memory limiter's compact table: windows kept under a fingerprint of
// their key in a fixed ring, found through an open-addressing index. Checked
// against a plain model (a Map and an array as the ring) through long runs of
// random operations on a small table, where every path of the index (runs of
// entries, wrap-around at its end, removals that move entries back) is taken.
import t from 'tap'
import { CompactWindows, type CompactWindow } from '../src/rate-limit/compact-windows.js'
import { fingerprint, randomSeeds } from '../src/rate-limit/fingerprint.js'

const SEEDS = { a: 0x1234567, b: 0x7654321 }

/** What CompactWindows must do, written the obvious way. */
class Model {
  readonly #ring: Array<string | undefined>
  readonly #kept = new Map<string, CompactWindow & { slot: number }>()
  #next = 0

  constructor (readonly slots: number) {
    this.#ring = new Array<string | undefined>(slots)
  }

  get size (): number { return this.#kept.size }
  has (key: string): boolean { return this.#kept.has(key) }

  peek (key: string, now: number): CompactWindow | undefined {
    const kept = this.#kept.get(key)
    return kept !== undefined && kept.endsAt > now ? { count: kept.count, endsAt: kept.endsAt } : undefined
  }

  take (key: string, now: number, endsAt: number): CompactWindow | undefined {
    const kept = this.#kept.get(key)
    if (kept !== undefined) {
      this.#kept.delete(key)
      this.#ring[kept.slot] = undefined
      if (kept.endsAt > now) return { count: kept.count, endsAt: kept.endsAt }
    }
    this.put(key, { count: 1, endsAt })
    return undefined
  }

  put (key: string, window: CompactWindow): void {
    const slot = this.#next
    this.#next = (slot + 1) % this.slots
    const old = this.#ring[slot]
    if (old !== undefined) this.#kept.delete(old)
    this.#ring[slot] = key
    this.#kept.set(key, { ...window, slot })
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function random (seed: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

for (const slots of [1, 2, 8, 32]) {
  t.test(`${slots} slot(s): every operation answers as the model does`, async (t) => {
    const table = new CompactWindows(slots, SEEDS)
    const model = new Model(slots)
    const next = random(slots)
    const keys = Array.from({ length: slots * 4 }, (_, i) => `key-${i}`)
    const mismatches: string[] = []
    const print = new Int32Array(2)
    for (let op = 0; op < 20_000 && mismatches.length < 5; op++) {
      const key = keys[Math.floor(next() * keys.length)] as string
      const now = op
      const roll = next()
      let got: unknown
      let want: unknown
      if (roll < 0.2) {
        got = table.peek(key, now)
        want = model.peek(key, now)
      } else if (roll < 0.4 && !model.has(key)) {
        // put() is for windows taken out before, so for keys the table does not hold; it takes their fingerprint.
        const window = { count: 2 + Math.floor(next() * 5), endsAt: now + Math.floor(next() * 40) }
        fingerprint(key, SEEDS, print)
        table.put({ ...window, first: print[0] as number, second: print[1] as number })
        model.put(key, window)
      } else {
        const endsAt = now + 1 + Math.floor(next() * 40)
        const taken = table.take(key, now, endsAt)
        fingerprint(key, SEEDS, print)
        if (taken !== undefined && (taken.first !== print[0] || taken.second !== print[1])) mismatches.push(`op ${op}: ${key} taken out without its fingerprint`)
        got = taken
        want = model.take(key, now, endsAt)
      }
      // A window taken out carries its fingerprint besides what the model knows.
      const taken = got === undefined ? undefined : { count: (got as CompactWindow).count, endsAt: (got as CompactWindow).endsAt }
      if (JSON.stringify(taken) !== JSON.stringify(want) || table.size !== model.size) {
        mismatches.push(`op ${op} on ${key}: got ${JSON.stringify(got)} (size ${table.size}), want ${JSON.stringify(want)} (size ${model.size})`)
      }
    }
    t.same(mismatches, [])
    t.ok(table.size <= slots)
  })
}

t.test('the ring only takes a power of two', async (t) => {
  for (const slots of [0, 3, 1.5, -4, 2 ** 60]) {
    t.throws(() => new CompactWindows(slots, SEEDS), { name: 'RangeError' }, `${slots}`)
  }
  t.equal(new CompactWindows(4).slots, 4, 'random seeds by default')
})

t.test('fingerprints: stable for given seeds, two independent halves, length counted', async (t) => {
  const print = (key: string, seeds = SEEDS): [number, number] => {
    const out = new Int32Array(2)
    fingerprint(key, seeds, out)
    return [out[0] as number, out[1] as number]
  }
  t.same(print('frr-rate-limit:203.0.113.5'), print('frr-rate-limit:203.0.113.5'))
  t.not(print('frr-rate-limit:203.0.113.5')[0], print('frr-rate-limit:203.0.113.6')[0])
  t.not(print('a')[0], print('a\u0000')[0], 'an odd last code unit is not read as a pair with 0')
  t.not(print('')[0], print('\u0000\u0000')[0])
  t.not(print('same key', { a: 1, b: 2 })[0], print('same key', { a: 3, b: 2 })[0], 'the seeds change it')
  const [a, b] = print('éàü-ключ-鍵')
  t.not(a, b, 'the two halves differ')

  const seeds = randomSeeds()
  t.ok(Number.isInteger(seeds.a) && Number.isInteger(seeds.b))
  t.notSame(randomSeeds(), seeds, 'random each time')

  // Distinct keys of a flood: no two share the whole fingerprint, and the first half is spread out.
  const seen = new Set<string>()
  const homes = new Uint32Array(1024)
  for (let i = 0; i < 200_000; i++) {
    const [first, second] = print(`frr-rate-limit:10.${i >>> 16}.${(i >>> 8) & 255}.${i & 255}`)
    seen.add(`${first}:${second}`)
    homes[first & 1023] = (homes[first & 1023] as number) + 1
  }
  t.equal(seen.size, 200_000, 'no full collision')
  t.ok(Math.max(...homes) < 300 && Math.min(...homes) > 100, `home cells evenly used (${Math.min(...homes)}–${Math.max(...homes)} per cell, 195 on average)`)
})
