import type { Cluster, Redis } from 'ioredis'
import type { Logger } from '../connection/connection-monitor.js'
import { askServerMode, mismatchError } from '../connection/server-mode.js'
import { RedisUnavailableError } from '../errors.js'
import { RETRY_AFTER_SECONDS } from '../unavailable-error.js'
import { settleWithin, withinDeadline } from './deadline.js'
import { Failover, type FailMode, type FailoverReport } from './failover.js'
import { isBreakerFailure, replyError } from './failure-cause.js'
import { hashSlot, tagForSlot } from './hash-slot.js'
import { CONTINUE_EXCEEDING, EXPONENTIAL_BACKOFF, IncrementBatch, type Callback, type DecideOutside, type IncrementMany } from './increment-batch.js'
import { MemoryLimiter, type IncrementRule } from './memory-limiter.js'
import { OverLimitCache } from './over-limit-cache.js'
import { readinessOf } from './readiness.js'
import { resolveStoreSettings } from './settings.js'
import { INCREMENT_COMMAND, INCREMENT_SCRIPT, READ_COMMAND, READ_SCRIPT } from './scripts.js'

export interface FailOpenStoreOptions {
  /**
   * The client that counts: `app.redis` (or a named client), or any ioredis
   * client, a `Cluster` too (each tick then makes one script call per hash
   * slot its counters fall in).
   */
  redis: Redis | Cluster
  /**
   * While Redis cannot count: `local` counts in process memory with the same
   * max and window, `open` admits every request, `closed` answers 503.
   * @default 'local'
   */
  failMode?: FailMode
  /** Most keys with a full window in the memory limiter; keys seen once are kept apart, as fingerprints (see RateLimitSettings). @default 5000 */
  cache?: number
  /** Prefix of every Redis key. @default 'frr-rate-limit:' */
  nameSpace?: string
  /** Consecutive failed commands that open the breaker (a timeout opens it at once). @default 3 */
  failureThreshold?: number
  /**
   * Longest a request waits for Redis to count it, in ms. Past it the request
   * is decided as if Redis were down (failMode) and the breaker opens, as on
   * a command timeout; the background probe closes it once Redis answers.
   * @default 100
   */
  decisionTimeout?: number
  /** Receives one line per mode change. */
  logger?: Logger
}

export interface RateLimitReport extends FailoverReport {
  failMode: FailMode
  /**
   * Keys the memory limiter holds a count for: those with a full window (at
   * most `cache`) plus those kept as fingerprints (keys seen once, and windows
   * moved out of the full ones; at most 65,536, or `cache` if more, up to 2^20). Some of
   * their windows may have ended.
   */
  memoryKeys: number
  /** Keys Redis said are over their limit, refused in process until their window ends (at most `cache`). */
  overLimitKeys: number
  /** Requests refused that way, without a Redis call, since the store was made. */
  refusedWithoutRedis: number
}

/**
 * What @fastify/rate-limit passes to `child()` at run time: the merged
 * limiter params plus `routeInfo` (the route's options, or `{}` for a
 * `createRateLimit()` limiter). Its type declarations say RouteOptions, so
 * the methods take `object` and read these fields.
 */
interface ChildParams {
  continueExceeding?: boolean
  exponentialBackoff?: boolean
  nameSpace?: unknown
  routeInfo?: { method?: string | string[]; url?: string }
}
/** Numbers, or strings with ioredis's stringNumbers option. */
type ReadCommand = (key: string) => Promise<[number | string, number | string]>
/** The increment script as ioredis defines it: numkeys, keys, then arguments. */
type IncrementCommand = (...args: Array<string | number>) => ReturnType<IncrementMany>

/** A store class for @fastify/rate-limit's `store` option, with the shared state behind it. */
export interface FailOpenStoreClass {
  /** @fastify/rate-limit constructs it with its global params (`continueExceeding`, `exponentialBackoff`). */
  new (params?: object): FailOpenStore
  /** Where decisions are made now, how many were made outside Redis (and of those, how many were sent to Redis first), how many keys the memory limiter holds. */
  report: () => RateLimitReport
  /** Stops the background probe and listeners. */
  close: () => void
}

export interface FailOpenStore {
  incr: (key: string, callback: Callback, timeWindow: number, max: number) => void
  read: (key: string, callback: Callback, timeWindow?: number, max?: number) => void
  child: (routeOptions: object) => FailOpenStore
}

function unavailable (): Error {
  return Object.assign(new RedisUnavailableError(), { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } })
}

/**
 * Builds a @fastify/rate-limit store that counts in Redis while Redis is
 * healthy (one script call for all the increments of an event-loop phase
 * queued behind a call in flight, each request still getting its own exact
 * count; see IncrementBatch), and decides in-process,
 * in microseconds, while it is not. Register it with `skipOnError: false`.
 */
export function createFailOpenStore (options: FailOpenStoreOptions): FailOpenStoreClass {
  const { redis, logger } = options
  const { failMode, cache, nameSpace, failureThreshold, decisionTimeout } = resolveStoreSettings(options, 'createFailOpenStore ')
  if (typeof (redis as unknown as Record<string, unknown>)[INCREMENT_COMMAND] !== 'function') {
    // No numberOfKeys: each call passes its own key count first.
    redis.defineCommand(INCREMENT_COMMAND, { lua: INCREMENT_SCRIPT })
    redis.defineCommand(READ_COMMAND, { numberOfKeys: 1, lua: READ_SCRIPT })
  }
  const increment = (redis as unknown as Record<string, IncrementCommand>)[INCREMENT_COMMAND] as IncrementCommand
  const readCounter = (redis as unknown as Record<string, ReadCommand>)[READ_COMMAND] as ReadCommand
  const memory = new MemoryLimiter(cache)
  const onCluster = redis.isCluster
  // On a cluster the probe must reach the node that failed, not whichever holds one fixed key:
  // its key is put in the slot of the last counter Redis failed to count.
  let failedSlot: number | undefined
  const probeKey = (): string => failedSlot === undefined ? `${nameSpace}__frr_probe__` : `${nameSpace}__frr_probe__{${tagForSlot(failedSlot)}}`
  const failover = new Failover({
    readiness: readinessOf(redis),
    failMode,
    failureThreshold,
    // A key no keyGenerator output collides with in practice; one counter, one rule. Held to
    // decisionTimeout like a request: a Redis slower than that stays out of the way, instead of
    // being let back in by each probe and thrown out by the next request. A reply that carries
    // an error (OOM, READONLY as the script returns them) is a failure, not a sign of health.
    probe: async () => {
      const [current, detail] = await withinDeadline(increment.call(redis, 1, probeKey(), 1, 1000, 1, 0, 1, 0), decisionTimeout)
      if (Number(current) === -1) throw replyError(String(detail))
      // A cluster node reached as one server counts the probe key whenever its slot is that node's,
      // and answers MOVED for the keys of the others: it must say it is no cluster node first.
      const { state } = failover.breaker
      if (state.status === 'open' && state.cause === 'cluster-node' && !onCluster) {
        const mode = await withinDeadline(askServerMode(redis), decisionTimeout)
        if (mode === 'cluster') throw mismatchError(mode)
      }
    },
    identity: { username: onCluster ? (redis as Cluster).options.redisOptions?.username : (redis as Redis).options.username, nameSpace },
    logger,
  })
  // Keys over their limit, refused without a Redis call until their window ends; bounded like the memory limiter.
  const overLimit = new OverLimitCache(cache)
  const batch = new IncrementBatch({
    incrementMany: (args) => increment.apply(redis, args),
    failover,
    decisionTimeout,
    onOverLimit: (counter, current, ttl) => { overLimit.remember(counter, current, ttl) },
    ...(onCluster ? { slotOf: hashSlot } : {}),
    onRedisFailure: (counter) => { if (onCluster) failedSlot = hashSlot(counter) },
  })
  let limiters = 0

  class Store implements FailOpenStore {
    readonly #prefix: string
    readonly #continueExceeding: boolean
    readonly #exponentialBackoff: boolean
    /** The script's mode argument for this limiter's increments. */
    readonly #mode: number
    readonly #decideOutside: DecideOutside = (counter, callback, timeWindow, max) => {
      this.#incrementOutside(counter, callback, timeWindow, max)
    }

    constructor (params: object = {}, prefix = nameSpace) {
      const { continueExceeding, exponentialBackoff } = params as ChildParams
      this.#prefix = prefix
      this.#continueExceeding = continueExceeding === true
      this.#exponentialBackoff = exponentialBackoff === true
      this.#mode = (this.#continueExceeding ? CONTINUE_EXCEEDING : 0) | (this.#exponentialBackoff ? EXPONENTIAL_BACKOFF : 0)
    }

    static close (): void { failover.close() }
    static report (): RateLimitReport {
      return { ...failover.report(), failMode, memoryKeys: memory.size, overLimitKeys: overLimit.size, refusedWithoutRedis: overLimit.refused }
    }

    incr (key: string, callback: Callback, timeWindow: number, max: number): void {
      const counter = this.#prefix + key
      if (!failover.useRedis) {
        this.#incrementOutside(counter, callback, timeWindow, max)
        return
      }
      if (this.#mode === 0) {
        const refused = overLimit.refuse(counter, max)
        if (refused !== undefined) {
          callback(null, refused)
          return
        }
      }
      batch.add(counter, callback, timeWindow, max, this.#mode, this.#decideOutside)
    }

    read (key: string, callback: Callback, _timeWindow?: number, max?: number): void {
      const counter = this.#prefix + key
      if (!failover.useRedis) {
        this.#readOutside(counter, callback, max)
        return
      }
      settleWithin(readCounter.call(redis, counter), decisionTimeout,
        ([current, ttl]) => {
          failover.breaker.recordSuccess()
          callback(null, { current: Number(current), ttl: Number(ttl) })
        },
        (error) => {
          if (isBreakerFailure(error)) failover.breaker.recordFailure(error)
          this.#readOutside(counter, callback, max)
        }
      )
    }

    /**
     * A limiter of its own: per route (`config.rateLimit`) its method and URL,
     * per `createRateLimit()` limiter its `nameSpace` or its creation order,
     * which is the same in every instance of the app, so instances share it.
     */
    child (routeOptions: object): Store {
      const { routeInfo, nameSpace: own } = routeOptions as ChildParams
      const name = typeof own === 'string' ? own
        : routeInfo?.url !== undefined ? `${[routeInfo.method].flat().join(',')}:${routeInfo.url}:`
          : `limiter-${++limiters}:`
      return new Store(routeOptions, `${nameSpace}${name}`)
    }

    #incrementOutside (counter: string, callback: Callback, timeWindow: number, max: number): void {
      failover.decisionsOutsideRedis++
      if (failMode === 'closed') {
        callback(unavailable())
        return
      }
      const rule: IncrementRule = { timeWindow, max, continueExceeding: this.#continueExceeding, exponentialBackoff: this.#exponentialBackoff }
      const count = memory.increment(counter, rule)
      // `open` still counts, so the headers tell the truth about use; it just never refuses.
      callback(null, failMode === 'open' ? { current: Math.min(count.current, max), ttl: count.ttl } : count)
    }

    #readOutside (counter: string, callback: Callback, max: number | undefined): void {
      if (failMode === 'closed') {
        callback(unavailable())
        return
      }
      const count = memory.read(counter)
      // As #incrementOutside: `open` tells the count but never reports a request over the limit.
      callback(null, failMode === 'open' && max !== undefined ? { current: Math.min(count.current, max), ttl: count.ttl } : count)
    }
  }
  return Store
}
