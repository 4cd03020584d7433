import type { RateLimitPluginOptions } from '@fastify/rate-limit'
import { DEFAULT_NAMESPACE } from '../acl-rule.js'
import { InvalidSettingError } from '../errors.js'
import { parseFlag } from '../config/redis-url.js'
import type { FailMode } from './failover.js'

/**
 * The `rateLimit` option: any @fastify/rate-limit option except the store
 * (this plugin supplies it), plus what happens while Redis cannot count.
 */
export interface RateLimitSettings extends Omit<RateLimitPluginOptions, 'store' | 'redis' | 'skipOnError'> {
  /**
   * While Redis cannot count: `local` counts per process in memory with the
   * same max and window, `open` admits every request, `closed` answers 503.
   * @default 'local'
   */
  failMode?: FailMode
  /** Consecutive failed Redis calls that switch to `failMode` (a timeout switches at once). @default 3 */
  failureThreshold?: number
  /**
   * Longest a request waits for Redis to count it (ms); past it, it is decided
   * as if Redis were down and the breaker opens. Raise it only for a Redis
   * whose round trip nears it. @default 100
   */
  decisionTimeout?: number
  /**
   * Most keys the memory limiter holds with a full window (two requests or more
   * in it); past it, the one with the fewest hits among the 8 least recently
   * used moves, with its count, to a fixed table of 65,536 fingerprints (or
   * `cache`, if more, up to 2^20), which also keeps every key seen once. @default 5000
   */
  cache?: number
  /** Prefix of the Redis keys. @default 'frr-rate-limit:' */
  nameSpace?: string
}

export type ResolvedRateLimit =
  | { enabled: false; reason: 'option' | 'DISABLE_THROTTLING' }
  | ({ enabled: true; pluginOptions: Omit<RateLimitSettings, keyof StoreSettings> } & StoreSettings)

const FAIL_MODES: readonly FailMode[] = ['local', 'open', 'closed']

function positiveInteger (value: unknown, setting: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? 'from 1' : `from 1 to ${max}`
    throw new InvalidSettingError(setting, `must be a whole number ${range} (got ${String(value)})`, `leave it out for the default (${fallback})`)
  }
  return value
}

/** The fail-open store's own settings, validated, defaults filled in. */
export interface StoreSettings {
  failMode: FailMode
  failureThreshold: number
  decisionTimeout: number
  cache: number
  nameSpace: string
}

/**
 * Validates the store's settings, wherever they were given: `owner` prefixes
 * each setting's name in the error (`rateLimit.` for the plugin's option,
 * `createFailOpenStore ` for the store on its own).
 */
export function resolveStoreSettings (settings: { [K in keyof StoreSettings]?: unknown }, owner: string): StoreSettings {
  const { failMode = 'local', failureThreshold, decisionTimeout, cache, nameSpace = DEFAULT_NAMESPACE } = settings
  if (!FAIL_MODES.includes(failMode as FailMode)) {
    throw new InvalidSettingError(`${owner}failMode option`, `must be 'local', 'open' or 'closed' (got ${JSON.stringify(failMode)})`, "leave it out for 'local'")
  }
  if (typeof nameSpace !== 'string') {
    throw new InvalidSettingError(`${owner}nameSpace option`, `must be a string (got ${typeof nameSpace})`, "leave it out for 'frr-rate-limit:'")
  }
  return {
    failMode: failMode as FailMode,
    failureThreshold: positiveInteger(failureThreshold, `${owner}failureThreshold option`, 3),
    // In ms, bounded like the other timeouts (a timer past 2^31 - 1 ms would fire at once).
    decisionTimeout: positiveInteger(decisionTimeout, `${owner}decisionTimeout option`, 100, 60_000),
    cache: positiveInteger(cache, `${owner}cache option`, 5000),
    nameSpace,
  }
}

/** Validates the `rateLimit` option (and DISABLE_THROTTLING) before anything connects. */
export function resolveRateLimit (settings: RateLimitSettings | false | undefined, env: Record<string, string | undefined>): ResolvedRateLimit {
  if (settings === false) return { enabled: false, reason: 'option' }
  const disable = env.DISABLE_THROTTLING
  if (disable !== undefined && disable !== '' && parseFlag(disable, 'DISABLE_THROTTLING')) return { enabled: false, reason: 'DISABLE_THROTTLING' }
  if (settings !== undefined && (typeof settings !== 'object' || settings === null || Array.isArray(settings))) {
    throw new InvalidSettingError('rateLimit option', 'must be false or an object of @fastify/rate-limit options', 'pass false to turn rate limiting off, or e.g. { max: 100, timeWindow: 60000 }')
  }
  const { failMode, failureThreshold, decisionTimeout, cache, nameSpace, ...pluginOptions } = settings ?? {}
  for (const owned of ['store', 'redis'] as const) {
    if (owned in pluginOptions) {
      throw new InvalidSettingError(`rateLimit.${owned} option`, 'is supplied by this plugin', 'leave it out, or register @fastify/rate-limit yourself with createFailOpenStore()')
    }
  }
  return {
    enabled: true,
    ...resolveStoreSettings({ failMode, failureThreshold, decisionTimeout, cache, nameSpace }, 'rateLimit.'),
    pluginOptions,
  }
}
