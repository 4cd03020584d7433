// Exactness checks of the abusive scenario: what a refused request gets, set
// against what Redis holds for its key at that moment.
import http from 'node:http'
import { createRequire } from 'node:module'

// The formatter @fastify/rate-limit itself uses for "retry in …" (its dependency, resolved from it).
const { format } = createRequire(import.meta.resolve('@fastify/rate-limit'))('@lukeed/ms')

/** Redis keys of the abusive client's counter, per variant (GET / is the global limit). */
export const ABUSED_KEY = {
  'status-quo': (address) => `fastify-rate-limit-${address}`,
  plugin: (address) => `frr-rate-limit:${address}`,
  'rate-limiter-flexible': (address) => `rlf-global:${address}`,
}

function get (port, path, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, timeout: 2000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }))
    })
    req.on('timeout', () => req.destroy(new Error('probe timed out')))
    req.on('error', reject)
  })
}

/** This package's rate-limit report (its health route): decisions made outside Redis, refusals without Redis. */
export async function limiterReport (port) {
  try {
    const { rateLimit: r } = JSON.parse((await get(port, '/health/redis', {})).body)
    return { mode: r.mode, decisionsOutsideRedis: r.decisionsOutsideRedis, decisionsAfterTimeout: r.decisionsAfterTimeout, decisionsAfterError: r.decisionsAfterError, refusedWithoutRedis: r.refusedWithoutRedis }
  } catch (err) {
    return { error: err.message }
  }
}

const pttl = async (redis, key) => Number(String(await redis.command('PTTL', key)).slice(1))
const counted = async (redis, key) => Number(String(await redis.command('GET', key)).split('\r\n')[1] ?? 0)

/**
 * One more request from the abusive client, after the load. Redis's PTTL of
 * its key is read just before and just after, so the window end Redis gives
 * is known to the second: for @fastify/rate-limit (status quo, this package,
 * its memory store), what Redis counting gives is a 429 with
 * x-ratelimit-limit = max, x-ratelimit-remaining = 0, x-ratelimit-reset =
 * retry-after = the seconds left (rounded up), and the body
 * `Rate limit exceeded, retry in <those seconds>`. rate-limiter-flexible has
 * its own shape: its 429 and Retry-After against the same PTTL.
 * Returns `{ exact, detail, countedInRedis }`.
 */
export async function probeRefusal (variant, port, { address, max, redis }) {
  const key = ABUSED_KEY[variant]?.(address)
  const before = key === undefined ? null : await pttl(redis, key)
  const res = await get(port, '/', { 'x-forwarded-for': address })
  const after = key === undefined ? null : await pttl(redis, key)
  const countedInRedis = key === undefined ? null : await counted(redis, key)
  const problems = []
  if (res.status !== 429) problems.push(`status ${res.status}`)
  // Seconds Redis gave, as @fastify/rate-limit rounds them (Math.ceil of the ms left)
  const allowed = before === null ? null : new Set([Math.ceil(before / 1000), Math.ceil(after / 1000)])
  if (variant === 'rate-limiter-flexible') {
    if (res.headers['x-ratelimit-remaining'] !== '0') problems.push(`x-ratelimit-remaining ${res.headers['x-ratelimit-remaining']}`)
    const retry = Number(res.headers['retry-after'])
    if (!(retry >= Math.round(after / 1000) && retry <= Math.round(before / 1000))) problems.push(`retry-after ${retry}, Redis PTTL ${before}–${after} ms`)
  } else if (variant !== 'none') {
    const seconds = Number(res.headers['x-ratelimit-reset'])
    if (res.headers['x-ratelimit-limit'] !== String(max)) problems.push(`x-ratelimit-limit ${res.headers['x-ratelimit-limit']}`)
    if (res.headers['x-ratelimit-remaining'] !== '0') problems.push(`x-ratelimit-remaining ${res.headers['x-ratelimit-remaining']}`)
    if (res.headers['retry-after'] !== res.headers['x-ratelimit-reset']) problems.push(`retry-after ${res.headers['retry-after']} ≠ reset ${seconds}`)
    if (allowed !== null && !allowed.has(seconds)) problems.push(`reset ${seconds} s, Redis PTTL ${before}–${after} ms`)
    const expected = JSON.stringify({ statusCode: 429, error: 'Too Many Requests', message: `Rate limit exceeded, retry in ${format(seconds * 1000, true)}` })
    if (res.body !== expected) problems.push(`body ${res.body}`)
  }
  return {
    exact: problems.length === 0,
    detail: problems.length === 0 ? `429, reset ${res.headers['x-ratelimit-reset'] ?? '–'} s, retry-after ${res.headers['retry-after']}${before === null ? '' : `, Redis PTTL ${before} ms`}` : problems.join('; '),
    countedInRedis,
  }
}
