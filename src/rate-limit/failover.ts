import type { Logger } from '../connection/connection-monitor.js'
import { rateLimitChannel } from '../diagnostics.js'
import { Breaker } from './breaker.js'
import { DecisionTimeoutError } from './deadline.js'
import { commandFailureCause, needsOperator, type LimiterIdentity } from './failure-cause.js'
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
  /** Named in the ACL rule a missing permission's log line gives. */
  identity: LimiterIdentity
  logger: Logger | undefined
}

export interface FailoverReport {
  mode: LimiterMode
  /** When the current mode began (ISO 8601). */
  since: string
  /** Why decisions are made outside Redis (absent in mode `redis`): the words of the log line. */
  cause?: string
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
  /** The cause last logged, so that a new reason while outside Redis is logged once. */
  #loggedCause: string | undefined
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
      this.#loggedCause = this.#cause()
      options.logger?.warn({ rateLimitMode: this.#mode, cause: this.#loggedCause }, `Rate limiting starts ${describeMode(this.#mode)} until Redis is available: ${this.#loggedCause}`)
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
      ...(this.#mode === 'redis' ? {} : { cause: this.#cause() }),
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
    if (next === this.#mode) {
      // The connection monitor logs its own changes; only the breaker's new reasons are news here.
      if (next !== 'redis' && trigger === 'probe') this.#logNewCause()
      return
    }
    const previous = this.#mode
    const elapsed = Date.now() - this.#since
    this.#mode = next
    this.#since = Date.now()
    const cause = next !== 'redis' ? this.#cause()
      : trigger === 'probe' ? 'Redis answers the background probe again' : 'the Redis connection is ready again'
    if (next === 'redis') {
      const outside = this.decisionsOutsideRedis - this.#decisionsAtSwitch
      this.#loggedCause = undefined
      this.options.logger?.info({ rateLimitMode: next, previousMode: previous, cause, decisionsOutsideRedis: outside }, `Rate limiting counts in Redis again after ${(elapsed / 1000).toFixed(1)} s: ${cause} (${outside} decisions made without it)`)
    } else {
      this.#decisionsAtSwitch = this.decisionsOutsideRedis
      this.#loggedCause = cause
      this.#log({ rateLimitMode: next, previousMode: previous, cause }, `Rate limiting switched to ${describeMode(next)}: ${cause}`)
    }
    if (rateLimitChannel.hasSubscribers) rateLimitChannel.publish({ mode: next, previous, cause, decisionsOutsideRedis: this.decisionsOutsideRedis })
  }

  /**
   * Still outside Redis, for another reason found by the probe (out of
   * memory, then a permission taken away): one line. While the connection is
   * down its monitor speaks for it, so a breaker that opens or changes then
   * adds nothing.
   */
  #logNewCause (): void {
    const cause = this.#cause()
    if (!this.options.readiness.ready || cause === this.#loggedCause) return
    this.#loggedCause = cause
    this.#log({ rateLimitMode: this.#mode, cause }, `Rate limiting still ${describeMode(this.#mode as FailMode)}, now because: ${cause}`)
  }

  /** Error level for what only an operator mends (a missing permission, memory full), warn for the rest. */
  #log (fields: object, line: string): void {
    const { state } = this.breaker
    if (state.status === 'open' && needsOperator(state.cause)) this.options.logger?.error(fields, line)
    else this.options.logger?.warn(fields, line)
  }

  #cause (): string {
    const { state } = this.breaker
    return state.status === 'open' ? commandFailureCause(state.cause, state.message, this.options.identity) : `Redis unavailable (${this.options.readiness.cause})`
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
        (error: unknown) => {
          this.#probing = false
          if (this.#closed) return
          this.#scheduleProbe(PROBE_INTERVAL_MS)
          // A new reason in Redis's reply (NOPERM for another command, OOM after a hang) is logged once.
          this.breaker.recordCause(error)
        }
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
