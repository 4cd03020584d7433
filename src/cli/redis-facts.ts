import type { StepOutcome } from './network-steps.js'

/*
 * What the server says about itself (INFO, CONFIG GET), and what it means
 * for rate-limit counters. Pure: text in, words out.
 */

/** One `field:value` line of an INFO reply, or undefined. */
export function infoField (info: string, field: string): string | undefined {
  for (const line of info.split(/\r?\n/)) {
    if (line.startsWith(`${field}:`)) return line.slice(field.length + 1).trim()
  }
  return undefined
}

/** `role:slave` is what INFO says; we say replica. */
export function serverRole (info: string): string | undefined {
  const role = infoField(info, 'role')
  return role === 'slave' ? 'replica' : role
}

/** The server step's verdict: a replica cannot take the limiter's writes. */
export function describeServer (version: string | undefined, role: string | undefined): StepOutcome {
  const detail = `Redis ${version ?? 'of unknown version'}, role ${role ?? 'unknown'}`
  if (role === 'replica') {
    return { status: 'warn', detail: `${detail}: read-only, so rate-limit counters cannot be written here (the limiter falls back); point the connection at the primary` }
  }
  return { status: 'ok', detail }
}

/**
 * What `maxmemory-policy` means for rate-limit counters, which are small keys
 * that always carry a TTL. `undefined`: neither CONFIG GET nor INFO told us.
 */
export function describePolicy (policy: string | undefined): StepOutcome {
  if (policy === undefined) {
    return { status: 'warn', detail: 'unknown: CONFIG GET and INFO are not available here (renamed, or not allowed for this user); ask the operator for maxmemory-policy' }
  }
  if (policy === 'noeviction') {
    return { status: 'ok', detail: 'noeviction: nothing is evicted; when memory is full, writes fail and the rate limiter falls back instead of losing counts' }
  }
  if (policy.startsWith('allkeys-')) {
    return { status: 'warn', detail: `${policy}: when memory is full any key may be evicted, rate-limit counters included, so limits can reset early; noeviction (or a Redis of its own for the limiter) keeps them` }
  }
  if (policy.startsWith('volatile-')) {
    return { status: 'warn', detail: `${policy}: when memory is full keys with a TTL are evicted, and rate-limit counters always have one, so limits can reset early (noeviction keeps them)` }
  }
  return { status: 'warn', detail: `${policy}: not a policy this check knows; see the Redis documentation for maxmemory-policy` }
}
