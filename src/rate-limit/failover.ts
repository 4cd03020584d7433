import type { Logger } from '../connection-monitor.js'
import { rateLimitChannel } from '../diagnostics.js'
import { Breaker } from './breaker.js'
import { DecisionTimeoutError } from './deadline.js'
import type { Readiness } from './readiness.js'

/** What to do with a request while Redis cannot count it. */
export type FailMode = 'local' | 'open' | 'closed'
/** Where decisions are made now. */
export type LimiterMode = 'redis' | FailMode

/** How often the background probe tries Redis while the breaker is open. */
export const PROBE_INTERVAL_MS = 100

export interface FailoverOptions {
  readiness: Readiness
  failMode: FailMode
  failureThreshold: number
  /** One request to Redis that succeeds only if counting works (the increment script on a probe key). */
  probe: () => Promise<unknown>
  logger: Logger | undefined
}

export interface FailoverReport {
  mode: LimiterMode
  /** When the current mode began (ISO 8601). */
  since: string
  /** Decisions made outside Redis since the plugin started. */
  decisionsOutsideRedis: number
  /**
   * Of decisionsOutsideRedis, those sent to Redis whose call did not answer
   * within decisionTimeout: each waited that long first.
   */
  decisionsAfterTimeout: number
  /**
   * Of decisionsOutsideRedis, those sent to Redis whose call failed: a
   * connection error, or an error reply (about Redis, or about the request's
   * key). The other decisions outside Redis were never sent to Redis (the
   * breaker was open or the connection down when their turn came).
   */
  decisionsAfterError: number
}

/**
 * Decides, per request and without touching the network, whether Redis
 * counts it: only when the connection is ready and the breaker is closed.
 * Recovery is found by a background probe, never by a user's request. Every
 * change of mode is logged once, with its cause, and published on the
 * `fastify-resilient-redis:rate-limit` diagnostics channel.
 */
export class Failover {
  readonly breaker: Breaker
  decisionsOutsideRedis = 0
  decisionsAfterTimeout = 0
  decisionsAfterError = 0
  #mode: LimiterMode = 'redis'
  #since = Date.now()
  #decisionsAtSwitch = 0
  #probeTimer: NodeJS.Timeout | undefined
  #probing = false
  #closed = false
  readonly #unsubscribe: () => void

  constructor (private readonly options: FailoverOptions) {
    this.breaker = new Breaker(options.failureThreshold)
    this.breaker.on('change', () => { this.#update('probe') })
    this.#unsubscribe = options.readiness.onChange(() => { this.#update('connection') })
    if (!this.useRedis) {
      this.#mode = options.failMode
      options.logger?.warn({ rateLimitMode: this.#mode, cause: this.#cause() }, `Rate limiting starts ${describeMode(this.#mode)} until Redis is available: ${this.#cause()}`)
    }
  }

  /** The hot path: true when this request may go to Redis. */
  get useRedis (): boolean {
    return this.options.readiness.ready && !this.breaker.isOpen
  }

  get mode (): LimiterMode {
    return this.#mode
  }

  report (): FailoverReport {
    return {
      mode: this.#mode,
      since: new Date(this.#since).toISOString(),
      decisionsOutsideRedis: this.decisionsOutsideRedis,
      decisionsAfterTimeout: this.decisionsAfterTimeout,
      decisionsAfterError: this.decisionsAfterError,
    }
  }

  /**
   * Counts `decisions` sent to Redis in a call that ended in `error`, then
   * decided outside Redis (each also counts, as it is made, in
   * decisionsOutsideRedis).
   */
  countWaited (error: unknown, decisions: number): void {
    if (error instanceof DecisionTimeoutError) this.decisionsAfterTimeout += decisions
    else this.decisionsAfterError += decisions
  }

  close (): void {
    this.#closed = true
    this.#unsubscribe()
    clearTimeout(this.#probeTimer)
  }

  #update (trigger: 'probe' | 'connection'): void {
    if (this.#closed) return
    const next: LimiterMode = this.useRedis ? 'redis' : this.options.failMode
    if (this.breaker.isOpen && this.options.readiness.ready) this.#scheduleProbe(0)
    if (next === this.#mode) return
    const previous = this.#mode
    const elapsed = Date.now() - this.#since
    this.#mode = next
    this.#since = Date.now()
    const cause = next !== 'redis' ? this.#cause()
      : trigger === 'probe' ? 'Redis answers the background probe again' : 'the Redis connection is ready again'
    if (next === 'redis') {
      const outside = this.decisionsOutsideRedis - this.#decisionsAtSwitch
      this.options.logger?.info({ rateLimitMode: next, previousMode: previous, cause, decisionsOutsideRedis: outside }, `Rate limiting counts in Redis again after ${(elapsed / 1000).toFixed(1)} s: ${cause} (${outside} decisions made without it)`)
    } else {
      this.#decisionsAtSwitch = this.decisionsOutsideRedis
      this.options.logger?.warn({ rateLimitMode: next, previousMode: previous, cause }, `Rate limiting switched to ${describeMode(next)}: ${cause}`)
    }
    if (rateLimitChannel.hasSubscribers) rateLimitChannel.publish({ mode: next, previous, cause, decisionsOutsideRedis: this.decisionsOutsideRedis })
  }

  #cause (): string {
    return this.breaker.state.status === 'open' ? `Redis commands failing (${this.breaker.state.cause})` : `Redis unavailable (${this.options.readiness.cause})`
  }

  /** Probes until Redis counts again; runs only while the breaker is open and the connection is ready. */
  #scheduleProbe (delay: number): void {
    if (this.#probing || this.#probeTimer !== undefined) return
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined
      if (this.#closed || !this.breaker.isOpen || !this.options.readiness.ready) return
      this.#probing = true
      this.options.probe().then(
        () => { this.#probing = false; this.breaker.close() },
        () => { this.#probing = false; if (!this.#closed) this.#scheduleProbe(PROBE_INTERVAL_MS) }
      )
    }, delay).unref()
  }
}

function describeMode (mode: FailMode): string {
  switch (mode) {
    case 'local': return 'counting in local memory (per process)'
    case 'open': return 'admitting every request (failMode open)'
    case 'closed': return 'refusing requests with 503 (failMode closed)'
  }
}
