// The in-process fallback limiter: fixed windows with the same rules as the
// Redis script, and a hard bound on the number of keys.
import t from 'tap'
import { MemoryLimiter, type IncrementRule } from '../src/rate-limit/memory-limiter.js'

const rule: IncrementRule = { timeWindow: 1000, max: 2, continueExceeding: false, exponentialBackoff: false }

t.test('counts within a window and starts a new one when it ends', async (t) => {
  const limiter = new MemoryLimiter(10)
  t.same(limiter.increment('a', rule, 0), { current: 1, ttl: 1000 })
  t.same(limiter.increment('a', rule, 400), { current: 2, ttl: 600 })
  t.same(limiter.increment('a', rule, 900), { current: 3, ttl: 100 }, 'past max the window is not extended')
  t.same(limiter.increment('a', rule, 1000), { current: 1, ttl: 1000 }, 'a new window')
  t.same(limiter.increment('b', rule, 1000), { current: 1, ttl: 1000 }, 'keys are separate')
})

t.test('read reports without counting', async (t) => {
  const limiter = new MemoryLimiter(10)
  t.same(limiter.read('a', 0), { current: 0, ttl: 0 })
  limiter.increment('a', rule, 0)
  t.same(limiter.read('a', 250), { current: 1, ttl: 750 })
  t.same(limiter.read('a', 250), { current: 1, ttl: 750 })
  t.same(limiter.read('a', 1000), { current: 0, ttl: 0 }, 'an ended window reads as empty')
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

t.test('holds at most maxKeys keys, dropping the least recently used', async (t) => {
  const limiter = new MemoryLimiter(3)
  for (const key of ['a', 'b', 'c']) limiter.increment(key, rule, 0)
  limiter.increment('a', rule, 10) // a is now the most recent
  limiter.increment('d', rule, 20) // evicts b
  t.equal(limiter.size, 3)
  t.same(limiter.read('b', 30), { current: 0, ttl: 0 }, 'b was dropped')
  t.same(limiter.read('a', 30).current, 2, 'a was kept')
  for (let i = 0; i < 10_000; i++) limiter.increment(`flood-${i}`, rule, 40)
  t.equal(limiter.size, 3, 'a flood of distinct keys stays within the bound')
})

t.test('the newest key used again keeps its place; the others still age out in order', async (t) => {
  const limiter = new MemoryLimiter(2)
  limiter.increment('a', rule, 0)
  limiter.increment('b', rule, 0)
  limiter.increment('a', rule, 10) // a moves after b
  limiter.increment('a', rule, 20) // a is already the newest
  limiter.increment('c', rule, 30) // evicts b, the least recently used
  t.same(limiter.read('a', 40).current, 3, 'a was kept, with every request counted')
  t.same(limiter.read('b', 40), { current: 0, ttl: 0 }, 'b was dropped')
  limiter.increment('c', rule, 50)
  limiter.increment('d', rule, 60) // evicts a
  t.same(limiter.read('a', 70), { current: 0, ttl: 0 })
  t.same(limiter.read('c', 70).current, 2)
})
