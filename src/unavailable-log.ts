import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from './connection/connection-monitor.js'

/*
 * Requests answered 503 because Redis is unavailable, in the log: a count,
 * not a stack per request. During an outage every request that needs Redis
 * fails the same way, and the connection's own log line already says why;
 * Fastify's default error handler would add an error-level line with a
 * 19-line stack for each (megabytes a second under load).
 */

/** How often the count of 503s is logged while they go on. */
export const SUMMARY_INTERVAL_MS = 10_000

/**
 * Counts the 503s: the first of a series is logged at once, then one line
 * per interval with how many there were and on which routes, until an
 * interval passes without any. Whatever is left is logged on close.
 */
export class UnavailableReplies {
  #count = 0
  readonly #routes = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined

  constructor (private readonly logger: Logger, private readonly intervalMs = SUMMARY_INTERVAL_MS) {}

  /** True from the first 503 of a series until an interval passes without one. */
  get inSeries (): boolean {
    return this.#timer !== undefined
  }

  record (request: FastifyRequest, cause: string): void {
    const route = `${request.method} ${request.routeOptions.url ?? request.url}`
    if (this.#timer === undefined) {
      this.logger.warn({ redisUnavailable: { route, cause } }, `Answering 503 (Redis unavailable) to ${route}: ${cause}. Further 503s are counted and logged every ${this.intervalMs / 1000} s, not one line each`)
      this.#timer = setInterval(() => { this.#summarise() }, this.intervalMs).unref()
      return
    }
    this.#count++
    this.#routes.set(route, (this.#routes.get(route) ?? 0) + 1)
  }

  /** Logs what is not yet summed up and stops the timer. */
  close (): void {
    this.#summarise()
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #summarise (): void {
    if (this.#count === 0) {
      // A quiet interval ends the series: the next 503 is logged at once again.
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    const routes = Object.fromEntries(this.#routes)
    this.logger.warn({ redisUnavailable: { answered503: this.#count, routes } }, `${this.#count} more request${this.#count === 1 ? '' : 's'} answered 503 (Redis unavailable): ${[...this.#routes].map(([route, n]) => `${route} ×${n}`).join(', ')}`)
    this.#count = 0
    this.#routes.clear()
  }
}

/**
 * Keeps Fastify's default error handler from logging `error` for this reply
 * (it logs `{ req, res, err }` at error level with the stack). Every other
 * line of the reply's logger, and any other error logged through it, is
 * left as it is; Fastify's "request completed" line still records the 503.
 */
export function quietDefaultErrorLog (reply: FastifyReply, error: Error): void {
  const log = reply.log
  const quiet = Object.create(log) as FastifyBaseLogger
  quiet.error = function logUnlessThisError (this: FastifyBaseLogger, first: unknown, ...rest: unknown[]): void {
    if ((first as { err?: unknown } | null)?.err === error) return
    ;(log.error as (...args: unknown[]) => void).call(log, first, ...rest)
  }
  reply.log = quiet
}
