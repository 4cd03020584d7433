import type { Cluster } from 'ioredis'
import type { ResilientClient } from './connection/client-factory.js'
import { nodeAddress, nodeHint, type ClusterNodeWatch } from './connection/cluster-nodes.js'
import type { ResolvedConnection } from './config/index.js'
import { classifyFailure, keepsKnownFailure, type FailureClass } from './failure-class.js'
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
   * answers but lacks a permission, or a cluster with a master that fails
   * while the others serve, or rate limiting deciding outside Redis
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
  const entries = await Promise.all(clients.map(async ({ client, monitor, nodes }): Promise<[string, ClientHealth]> => {
    const { connection } = monitor
    const state = monitor.state
    const base = { url: connection.display, since: new Date(state.since).toISOString() }
    // A blocking or queue connection always has a blocking read in flight: a PING would wait behind
    // it and look like a hang. Its monitor says how it stands (its guard or BullMQ find a hang).
    if (state.status === 'ready' && (connection.role === 'blocking' || connection.role === 'queue')) return [connection.name, { state: 'ready', ...base }]
    if (state.status === 'ready' && nodes !== undefined) return [connection.name, { ...base, ...await clusterHealth(client as Cluster, nodes, connection, options) }]
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
        return [connection.name, { state, ...base, failure, hint: monitor.hint(failure), error: scrubError(error, secrets).message }]
      }
    }
    if (state.status === 'connecting') return [connection.name, { state: 'connecting', ...base }]
    return [connection.name, { state: 'down', ...base, failure: state.failure, hint: monitor.hint(state.failure), error: state.error.message }]
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

/**
 * A ready cluster whose masters each answer a PING is ready. A master that
 * does not, answers with an error (BUSY, LOADING…), or that the node watch
 * saw lost, leaves the others serving: still ready, with the failure and a
 * hint naming the masters whose keys fail; with no master serving, down.
 */
async function clusterHealth (cluster: Cluster, nodes: ClusterNodeWatch, connection: ResolvedConnection, options: { secrets: readonly string[]; pingTimeout: number }): Promise<Omit<ClientHealth, 'url' | 'since'>> {
  const masters = cluster.nodes('master')
  const started = performance.now()
  const pings = await Promise.all(masters.map(async (node) => withinDeadline(node.ping(), options.pingTimeout).then(() => undefined, (error: unknown) => ({ address: nodeAddress(node), error }))))
  const latencyMs = Math.round((performance.now() - started) * 100) / 100
  // The masters the node watch saw lost (one it dropped has no connection left to ping), then what
  // this report's pings found, which is newer.
  const lost = new Map(nodes.outages.map((outage) => [outage.address, { failure: outage.failure, message: outage.error.message }]))
  for (const ping of pings) {
    if (ping === undefined) continue
    const failure = classifyFailure(ping.error)
    // Refused by the ACL is still an answer, as on one server; a ping cut by a drop of a master
    // known to be lost does not change what its outage is.
    if (failure !== 'no-permission' && !keepsKnownFailure(lost.get(ping.address)?.failure, failure)) {
      lost.set(ping.address, { failure, message: scrubError(ping.error, options.secrets).message })
    }
  }
  const [first] = lost
  if (first === undefined) return { state: 'ready', latencyMs }
  const [address, { failure, message }] = first
  const hint = nodeHint(failure, connection, address)
  const answering = masters.filter((node) => !lost.has(nodeAddress(node))).length
  const which = lost.size === 1 ? `cluster master ${address}` : `${lost.size} cluster masters fail (${[...lost.keys()].join(', ')}); the first`
  return {
    state: answering === 0 ? 'down' : 'ready',
    failure,
    hint: `${which}: ${hint}; keys in ${lost.size === 1 ? 'its' : 'their'} slots answer 503${answering === 0 ? '' : `, the other ${answering === 1 ? 'master serves' : `${answering} masters serve`} theirs`}`,
    error: message,
  }
}
