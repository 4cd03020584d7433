/*
 * The Redis side of rate limiting: one script call counts every request of a
 * batch (see increment-batch.ts), so counting costs one round trip per batch. ioredis sends EVALSHA and
 * falls back to EVAL on NOSCRIPT, so a restarted or flushed server needs no
 * extra handling.
 */

/**
 * Every increment of one batch in one call. KEYS: the counters. ARGV: the
 * number of rules R; R rules of three values each: window (ms), max, mode
 * (1 continueExceeding, 2 exponentialBackoff, 3 both; continueExceeding wins,
 * as in @fastify/rate-limit); then two values per counter: how many requests
 * to count (n) and its rule (0 to R - 1). Counters are handled in order, each
 * exactly as n requests in a row would be. Returns, flattened,
 * { current, ttl in ms } per counter (current after its last request), or
 * { -1, error message } for a counter Redis refused (a key of another type,
 * out of memory...): the other counters are still counted. READONLY (a
 * replica) is the call's error reply instead.
 */
export const INCREMENT_SCRIPT = `
-- Permissions first (Redis 7+): a command this ACL user may not run would fail halfway, after
-- INCRBY, leaving a counter without expiry, or counted here and again in memory.
if redis.acl_check_cmd then
  local key = KEYS[1]
  local function denied (command)
    return "NOPERM this user has no permissions to run the '" .. command .. "' command (the rate limiter's script needs it)"
  end
  if not redis.acl_check_cmd('incrby', key, '1') then return redis.error_reply(denied('incrby')) end
  if not redis.acl_check_cmd('pexpire', key, '1') then return redis.error_reply(denied('pexpire')) end
  if not redis.acl_check_cmd('pttl', key) then return redis.error_reply(denied('pttl')) end
end
local out = {}
local windows, maxes, modes = {}, {}, {}
local rules = tonumber(ARGV[1])
for r = 0, rules - 1 do
  windows[r] = tonumber(ARGV[2 + 3 * r])
  maxes[r] = tonumber(ARGV[3 + 3 * r])
  modes[r] = tonumber(ARGV[4 + 3 * r])
end
local at = 2 + 3 * rules
for i = 1, #KEYS do
  local n = tonumber(ARGV[at])
  local r = tonumber(ARGV[at + 1])
  at = at + 2
  local window, max, mode = windows[r], maxes[r], modes[r]
  local count = redis.pcall('INCRBY', KEYS[i], n)
  local ttl
  if type(count) == 'table' then
    -- A replica refuses every write: the call is refused as a whole, as any other command would be
    -- (so that a client that follows a master set reconnects on it, see master-follower.ts).
    if string.sub(count.err, 1, 8) == 'READONLY' then return count end
    ttl = count.err
    count = -1
  elseif count == n or (mode % 2 == 1 and count > max) then
    redis.call('PEXPIRE', KEYS[i], window)
    ttl = window
  elseif mode >= 2 and count > max then
    ttl = math.min(window * 2 ^ (count - max - 1), 9007199254740991)
    redis.call('PEXPIRE', KEYS[i], ttl)
  else
    ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      -- A counter without expiry (PERSIST, an old crash) would block forever: restart its window.
      redis.call('PEXPIRE', KEYS[i], window)
      ttl = window
    end
  end
  out[2 * i - 1] = count
  out[2 * i] = ttl
end
return out
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
export const INCREMENT_COMMAND = 'frrRateLimitIncrementMany'
export const READ_COMMAND = 'frrRateLimitRead'
