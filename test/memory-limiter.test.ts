// The in-process fallback limiter: fixed windows with the same rules as the
// Redis script, a hard bound on memory, and limits that a flood of keys cannot
// lift (issue 11, item 5). Time is the `now` argument: simulated, never the clock.
import t from 'tap'
import { MemoryLimiter, type IncrementRule } from '../src/rate-limit/memory-limiter.js'
import { COMPACT_SLOTS, MAX_COMPACT_SLOTS, compactSlots } from '../src/rate-limit/compact-windows.js'
import { EVICTION_SAMPLE } from '../src/rate-limit/full-windows.js'
import { fingerprint } from '../src/rate-limit/fingerprint.js'

const rule: IncrementRule = { timeWindow: 1000, max: 2, continueExceeding: false, exponentialBackoff: false }
const SEEDS = { a: 0x1234567, b: 0x7654321 }

t.test('counts within a window and starts a new one when it ends', async (t) => {
  const limiter = new MemoryLimiter(10)
  t.same(limiter.increment('a', rule, 0), { current: 1, ttl: 1000 })
  t.same(limiter.increment('a', rule, 400), { current: 2, ttl: 600 })
  t.same(limiter.increment('a', rule, 900), { current: 3, ttl: 100 }, 'past max the window is not extended')
  t.same(limiter.increment('a', rule, 1000), { current: 1, ttl: 1000 }, 'a new window')
  t.same(limiter.increment('a', rule, 1500), { current: 2, ttl: 500 })
  t.same(limiter.increment('b', rule, 1000), { current: 1, ttl: 1000 }, 'keys are separate')
})

t.test('read reports without counting', async (t) => {
  const limiter = new MemoryLimiter(10)
  t.same(limiter.read('a', 0), { current: 0, ttl: 0 })
  limiter.increment('a', rule, 0)
  t.same(limiter.read('a', 250), { current: 1, ttl: 750 }, 'a key seen once')
  t.same(limiter.read('a', 250), { current: 1, ttl: 750 })
  t.same(limiter.read('a', 1000), { current: 0, ttl: 0 }, 'an ended window reads as empty')
  limiter.increment('b', rule, 0)
  t.same(limiter.increment('b', rule, 100), { current: 2, ttl: 900 }, 'the reads of a did not count for b')
  t.same(limiter.read('b', 300), { current: 2, ttl: 700 }, 'a full window')
  t.same(limiter.read('b', 1000), { current: 0, ttl: 0 }, 'an ended full window reads as empty')
  t.same(limiter.increment('a', rule, 1100), { current: 1, ttl: 1000 }, 'reads never counted for a either')
})

t.test('continueExceeding restarts the window on every request past max', async (t) => {
  const limiter = new MemoryLimiter(10)
  const continuing = { ...rule, continueExceeding: true }
  limiter.increment('a', continuing, 0)
  limiter.increment('a', continuing, 100)
  t.same(limiter.increment('a', continuing, 500), { current: 3, ttl: 1000 })
})

t.test('exponentialBackoff doubles the window per request past max', async (t) => {
  const limiter = new MemoryLimiter(10)
  const backoff = { ...rule, exponentialBackoff: true }
  limiter.increment('a', backoff, 0)
  limiter.increment('a', backoff, 0)
  t.same(limiter.increment('a', backoff, 0), { current: 3, ttl: 1000 })
  t.same(limiter.increment('a', backoff, 0), { current: 4, ttl: 2000 })
  t.same(limiter.increment('a', backoff, 0), { current: 5, ttl: 4000 })
  const huge = new MemoryLimiter(10)
  const long = { ...backoff, timeWindow: 2 ** 52, max: 0 }
  huge.increment('a', long, 0)
  t.equal(huge.increment('a', long, 0).ttl, Number.MAX_SAFE_INTEGER, 'capped at the largest safe integer')
})

t.test('a first request kept as a fingerprint: the window still runs from it, under every rule', async (t) => {
  const limiter = new MemoryLimiter(10)
  t.same(limiter.increment('plain', rule, 0), { current: 1, ttl: 1000 })
  t.same(limiter.increment('plain', rule, 700), { current: 2, ttl: 300 }, 'the second request keeps the window of the first')

  const strict = { ...rule, max: 1 }
  const continuing = { ...strict, continueExceeding: true }
  limiter.increment('c', continuing, 0)
  t.same(limiter.increment('c', continuing, 300), { current: 2, ttl: 1000 }, 'continueExceeding restarts it at the second request past max 1')
  t.same(limiter.read('c', 800), { current: 2, ttl: 500 })
  t.same(limiter.increment('c', continuing, 1200), { current: 3, ttl: 1000 }, 'and at the next')

  const backoff = { ...strict, exponentialBackoff: true }
  limiter.increment('e', backoff, 0)
  t.same(limiter.increment('e', backoff, 300), { current: 2, ttl: 1000 }, 'exponentialBackoff: one window past max')
  t.same(limiter.increment('e', backoff, 400), { current: 3, ttl: 2000 }, 'then two')

  // max 0: the first request is already over the limit; its window still ends timeWindow after it.
  const none = { ...rule, max: 0 }
  t.same(limiter.increment('z', { ...none, continueExceeding: true }, 0), { current: 1, ttl: 1000 })
  t.same(limiter.increment('z', { ...none, continueExceeding: true }, 600), { current: 2, ttl: 1000 }, 'continueExceeding from the second')
  t.same(limiter.increment('y', { ...none, exponentialBackoff: true }, 0), { current: 1, ttl: 1000 })
  t.same(limiter.increment('y', { ...none, exponentialBackoff: true }, 600), { current: 2, ttl: 2000 }, 'exponentialBackoff from the second')

  t.same(limiter.increment('late', rule, 0), { current: 1, ttl: 1000 })
  t.same(limiter.increment('late', rule, 1000), { current: 1, ttl: 1000 }, 'a first request whose window ended: a first request again')
  t.same(limiter.increment('late', rule, 1400), { current: 2, ttl: 600 }, 'counted from the new first request')
})

// Issue 11, item 5, as measured: Redis down, a flood of one-shot X-Forwarded-For values at 24,000
// new keys a second, one client at 3 requests a second, max 100 a minute, for 40 seconds.
t.test('a 24,000/s flood of one-shot keys does not lift the limit of a client at 3 requests a second', async (t) => {
  const limiter = new MemoryLimiter(5000)
  const limit: IncrementRule = { timeWindow: 60_000, max: 100, continueExceeding: false, exponentialBackoff: false }
  const start = 1_000_000
  const gap = 1000 / 3
  const floodPerGap = 8000
  let flooded = 0
  let admitted = 0
  let refused = 0
  let maxSize = 0
  const wrong: string[] = []
  for (let i = 0; i < 120; i++) {
    const at = start + i * gap
    for (let f = 0; f < floodPerGap; f++, flooded++) {
      limiter.increment(`203.${flooded >>> 16}.${(flooded >>> 8) & 0xff}.${flooded & 0xff}`, limit, at - gap + (f * gap) / floodPerGap)
      maxSize = Math.max(maxSize, limiter.size)
    }
    const count = limiter.increment('198.51.100.7', limit, at)
    if (count.current <= limit.max) admitted++
    else refused++
    // Never lost, never reset early: request i is the (i + 1)-th of the window that began at `start`.
    if (count.current !== i + 1 || count.ttl !== start + 60_000 - at) wrong.push(`request ${i + 1}: ${JSON.stringify(count)}`)
  }
  t.equal(flooded, 960_000, '40 s of 24,000 keys a second')
  t.same({ admitted, refused }, { admitted: 100, refused: 20 }, 'limited exactly')
  t.same(wrong, [], 'every count and window end exact')
  t.equal(limiter.capacity, 5000 + COMPACT_SLOTS, 'memory: the full-window bound plus the compact table, fixed')
  t.ok(maxSize <= limiter.capacity, `size never above its capacity (at most ${maxSize})`)
  t.equal(limiter.size, COMPACT_SLOTS + 1, 'the compact table is full; the client alone has a full window')
})

t.test('the compact table has a fixed size, at least as large as the full-window bound', async (t) => {
  t.equal(compactSlots(1), COMPACT_SLOTS)
  t.equal(compactSlots(5000), COMPACT_SLOTS)
  t.equal(compactSlots(COMPACT_SLOTS), COMPACT_SLOTS)
  t.equal(compactSlots(COMPACT_SLOTS + 1), COMPACT_SLOTS * 2)
  t.equal(compactSlots(1_000_000), 2 ** 20)
  t.equal(compactSlots(1e9), MAX_COMPACT_SLOTS, 'allocated whole, so bounded (32 MB)')
  t.equal(MAX_COMPACT_SLOTS, 2 ** 20)
  t.equal(new MemoryLimiter(100_000).capacity, 100_000 + 2 ** 17)
})

t.test('holds at most maxKeys full windows; past it, the oldest of those with the fewest hits moves to the compact table', async (t) => {
  // One compact slot: a window moved there is lost at the next write, which shows which one moved.
  const limiter = new MemoryLimiter(2, { compactSlots: 1 })
  const twice = (key: string, now: number): void => { limiter.increment(key, rule, now); limiter.increment(key, rule, now) }
  twice('a', 0)
  twice('b', 0)
  twice('c', 10) // a and b have as many hits: a, the least recently used, moves out
  t.equal(limiter.size, 3, 'two full windows and the one moved out')
  t.same(limiter.read('a', 20), { current: 2, ttl: 980 }, 'a moved out with its count')
  limiter.increment('d', rule, 20) // a first request: overwrites the only compact slot
  t.same(limiter.read('a', 30), { current: 0, ttl: 0 }, 'a is gone')
  t.same(limiter.read('b', 30).current, 2, 'b kept')
  t.same(limiter.read('c', 30).current, 2, 'c kept')
  t.ok(limiter.size <= limiter.capacity)

  limiter.increment('b', rule, 40) // b: 3 hits, and the most recently used
  twice('e', 50) // c (2 hits) moves out, not b
  limiter.increment('f', rule, 60)
  t.same(limiter.read('c', 70), { current: 0, ttl: 0 }, 'c, with fewer hits, moved out')
  t.same(limiter.read('b', 70).current, 3, 'b, with more, stayed')
})

t.test('a window moved out of the map comes back with its count and its end', async (t) => {
  const limiter = new MemoryLimiter(1)
  limiter.increment('a', rule, 0)
  limiter.increment('a', rule, 100)
  limiter.increment('b', rule, 200)
  limiter.increment('b', rule, 300) // a moves to the compact table
  t.same(limiter.read('a', 400), { current: 2, ttl: 600 })
  t.same(limiter.increment('a', rule, 500), { current: 3, ttl: 500 }, 'counted on, in the same window')
  t.same(limiter.read('b', 600), { current: 2, ttl: 600 }, 'b moved out in turn')
})

t.test('an ended window among those compared is dropped, not moved', async (t) => {
  const limiter = new MemoryLimiter(2)
  limiter.increment('a', rule, 0)
  limiter.increment('a', rule, 0)
  limiter.increment('b', rule, 500)
  limiter.increment('b', rule, 500)
  limiter.increment('c', rule, 1200)
  limiter.increment('c', rule, 1200) // a ended at 1000
  t.equal(limiter.size, 2, 'b and c; a took no compact slot')
  t.same(limiter.read('b', 1300).current, 2)
})

t.test(`eviction compares only the ${EVICTION_SAMPLE} least recently used windows`, async (t) => {
  const limiter = new MemoryLimiter(EVICTION_SAMPLE + 2, { compactSlots: 1 })
  for (let k = 0; k < EVICTION_SAMPLE + 1; k++) {
    for (let n = 0; n < 5; n++) limiter.increment(`busy-${k}`, rule, 0)
  }
  limiter.increment('quiet', rule, 0)
  limiter.increment('quiet', rule, 0) // 2 hits, but the most recently used
  limiter.increment('new', rule, 0)
  limiter.increment('new', rule, 0) // the map is over its bound
  limiter.increment('x', rule, 0) // overwrites what moved out
  t.same(limiter.read('quiet', 0).current, 2, 'the window with the fewest hits was not among those compared')
  t.same(limiter.read('busy-0', 0), { current: 0, ttl: 0 }, 'the least recently used of equal hits moved out')
  t.same(limiter.read('busy-1', 0).current, 5)
})

t.test('the newest key used again keeps its place; hits decide among the others', async (t) => {
  const limiter = new MemoryLimiter(2, { compactSlots: 1 })
  limiter.increment('a', rule, 0)
  limiter.increment('a', rule, 0)
  limiter.increment('b', rule, 0)
  limiter.increment('b', rule, 0)
  limiter.increment('a', rule, 10) // a moves after b
  limiter.increment('a', rule, 20) // a is already the newest
  limiter.increment('c', rule, 30)
  limiter.increment('c', rule, 30) // b moves out
  limiter.increment('d', rule, 40)
  t.same(limiter.read('a', 50).current, 4, 'a was kept, with every request counted')
  t.same(limiter.read('b', 50), { current: 0, ttl: 0 }, 'b was moved out, then overwritten')
})

// A flood whose keys each come twice reaches the map of full windows and overflows it all the time.
// With one compact slot, a client moved out would lose its count at once: exact counts show it stayed.
t.test('a flood of keys that each come twice does not push out a key with more hits', async (t) => {
  const limiter = new MemoryLimiter(100, { compactSlots: 1 })
  const limit: IncrementRule = { timeWindow: 60_000, max: 100, continueExceeding: false, exponentialBackoff: false }
  const results: number[] = []
  for (let i = 0; i < 3; i++) results.push(limiter.increment('client', limit, i).current)
  limiter.increment('quiet', limit, 3)
  limiter.increment('quiet', limit, 3)
  let flooded = 0
  let maxSize = 0
  for (let i = 3; i < 120; i++) {
    for (let f = 0; f < 1000; f++, flooded++) {
      limiter.increment(`flood-${flooded}`, limit, i)
      limiter.increment(`flood-${flooded}`, limit, i)
    }
    results.push(limiter.increment('client', limit, i).current)
    maxSize = Math.max(maxSize, limiter.size)
  }
  t.same(results, Array.from({ length: 120 }, (_, i) => i + 1), 'every request of the client counted')
  t.ok(maxSize <= limiter.capacity, `size never above its capacity (at most ${maxSize})`)
  t.same(limiter.read('quiet', 200), { current: 0, ttl: 0 }, 'a key with as few hits as the flood was pushed out')
})

t.test('the compact ring wraps around: a first request is kept for exactly its number of slots', async (t) => {
  const limiter = new MemoryLimiter(10, { compactSlots: 4 })
  for (let round = 0; round < 3; round++) {
    const base = round * 100
    for (let k = 0; k < 5; k++) limiter.increment(`r${round}-${k}`, rule, base + k) // the 5th overwrites the 1st
    t.equal(limiter.size, 4 + round, `round ${round}: the ring holds 4; earlier rounds left full windows`)
    t.same(limiter.read(`r${round}-0`, base + 5), { current: 0, ttl: 0 }, `round ${round}: the oldest was overwritten`)
    t.same(limiter.increment(`r${round}-1`, rule, base + 6), { current: 2, ttl: 995 }, `round ${round}: the next oldest was kept`)
  }
})

t.test('two keys whose fingerprints share their first half are told apart by the second', async (t) => {
  const out = new Int32Array(2)
  const byFirst = new Map<number, { key: string; second: number }>()
  let pair: [string, string] | undefined
  for (let i = 0; pair === undefined; i++) {
    const key = `k-${i}`
    fingerprint(key, SEEDS, out)
    const earlier = byFirst.get(out[0] as number)
    if (earlier !== undefined && earlier.second !== out[1]) pair = [earlier.key, key]
    else byFirst.set(out[0] as number, { key, second: out[1] as number })
  }
  const [x, y] = pair
  const limiter = new MemoryLimiter(10, { seeds: SEEDS })
  limiter.increment(x, rule, 0)
  t.same(limiter.read(y, 0), { current: 0, ttl: 0 }, `${y} is not taken for ${x}`)
  t.same(limiter.increment(y, rule, 10), { current: 1, ttl: 1000 }, 'a first request of its own')
  t.same(limiter.increment(x, rule, 20), { current: 2, ttl: 980 })
  t.same(limiter.increment(y, rule, 30), { current: 2, ttl: 980 })
})
