import type { ResilientClient } from './connection/client-factory.js'
import { classifyFailure, failureHint, type FailureClass } from './failure-class.js'
import type { RateLimitReport } from './rate-limit/fail-open-store.js'
import { withinDeadline } from './rate-limit/deadline.js'
import { scrubError } from './redact.js'

export interface ClientHealth {
  /**
   * `ready`: connected and answering a PING (a PING this ACL user may not
   * send still gets an answer: `ready`, with `failure: 'no-permission'`);
   * `connecting`: first attempt under way; `down`: see `failure`.
   */
  state: 'ready' | 'connecting' | 'down'
  /** The server, password redacted. */
  url: string
  /** When the client entered this state (ISO 8601). */
  since: string
  /** Round trip of this report's PING, when the client was ready (not for blocking and queue clients: a PING waits behind their blocking reads). */
  latencyMs?: number
  failure?: FailureClass
  /** What the failure means and what to check. */
  hint?: string
  /** The last error, scrubbed of secrets. */
  error?: string
}

export interface RedisHealthReport {
  /**
   * `down`: no client ready. `degraded`: some client not ready, or one that
   * answers but lacks a permission, or rate limiting deciding outside Redis
   * (`rateLimit.cause` says why). `up`: none of that.
   */
  status: 'up' | 'degraded' | 'down'
  clients: Record<string, ClientHealth>
  /** Where rate-limit decisions are made (`redis`, or the fail mode while Redis cannot count), or `disabled`. */
  rateLimit: RateLimitReport | { mode: 'disabled' }
}

/**
 * Builds the health report. Only clients already known to be ready are
 * pinged, and a PING is bounded by `pingTimeout`, so the report comes
 * back quickly even while Redis hangs.
 */
export async function buildHealthReport (clients: readonly ResilientClient[], options: { secrets: readonly string[]; pingTimeout: number }, rateLimit: (() => RateLimitReport) | undefined): Promise<RedisHealthReport> {
  const { secrets, pingTimeout } = options
  const entries = await Promise.all(clients.map(async ({ client, monitor }): Promise<[string, ClientHealth]> => {
    const { connection } = monitor
    const state = monitor.state
    const base = { url: connection.display, since: new Date(state.since).toISOString() }
    // A blocking or queue connection always has a blocking read in flight: a PING would wait behind
    // it and look like a hang. Its monitor says how it stands (its guard or BullMQ find a hang).
    if (state.status === 'ready' && (connection.role === 'blocking' || connection.role === 'queue')) return [connection.name, { state: 'ready', ...base }]
    if (state.status === 'ready') {
      const started = performance.now()
      try {
        // Bounded here too: an app's own client may have no command timeout.
        await withinDeadline(client.ping(), pingTimeout)
        return [connection.name, { state: 'ready', ...base, latencyMs: Math.round((performance.now() - started) * 100) / 100 }]
      } catch (error) {
        const failure = classifyFailure(error)
        // Refused by the ACL is still an answer: the server is there and talks to this user.
        const state = failure === 'no-permission' ? 'ready' : 'down'
        return [connection.name, { state, ...base, failure, hint: failureHint(failure, connection), error: scrubError(error, secrets).message }]
      }
    }
    if (state.status === 'connecting') return [connection.name, { state: 'connecting', ...base }]
    return [connection.name, { state: 'down', ...base, failure: state.failure, hint: failureHint(state.failure, connection), error: state.error.message }]
  }))
  const ready = entries.filter(([, health]) => health.state === 'ready').length
  const limiter = rateLimit === undefined ? { mode: 'disabled' as const } : rateLimit()
  const impaired = ready < entries.length || entries.some(([, health]) => health.failure !== undefined) ||
    (limiter.mode !== 'redis' && limiter.mode !== 'disabled')
  return {
    status: ready === 0 ? 'down' : impaired ? 'degraded' : 'up',
    clients: Object.fromEntries(entries),
    rateLimit: limiter,
  }
}
