/*
 * The Redis side of rate limiting: one script per decision, so counting costs
 * one round trip. ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT,
 * so a restarted or flushed server needs no extra handling.
 */

/**
 * KEYS[1] the counter; ARGV: window (ms), max, continueExceeding (1/0),
 * exponentialBackoff (1/0). Returns { current, ttl in ms }.
 */
export const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local window = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
if count == 1 or (ARGV[3] == '1' and count > max) then
  redis.call('PEXPIRE', KEYS[1], window)
  return { count, window }
end
if ARGV[4] == '1' and count > max then
  local backoff = math.min(window * 2 ^ (count - max - 1), 9007199254740991)
  redis.call('PEXPIRE', KEYS[1], backoff)
  return { count, backoff }
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A counter without expiry (PERSIST, an old crash) would block forever: restart its window.
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
return { count, ttl }
`

/** KEYS[1] the counter. Returns { current, ttl in ms } without changing anything; { 0, 0 } when absent. */
export const READ_SCRIPT = `
local count = redis.call('GET', KEYS[1])
if not count then return { 0, 0 } end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return { tonumber(count), ttl }
`

/** Names under which the scripts are defined on the ioredis client. */
export const INCREMENT_COMMAND = 'frrRateLimitIncrement'
export const READ_COMMAND = 'frrRateLimitRead'
