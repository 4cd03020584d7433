import type { Cluster, Redis } from 'ioredis'
import type { ResolvedConnection } from '../config/index.js'
import { classifyFailure, failureHint, keepsKnownFailure, needsConfigChange, type FailureClass } from '../failure-class.js'
import { scrubError, type ScrubbedError } from '../redact.js'
import { noop } from './command-guard.js'
import type { ConnectionMonitor, Logger } from './connection-monitor.js'

/*
 * A Cluster serves on while one of its masters is lost: keys in that
 * master's slots fail (503), the other masters serve theirs, and the client
 * as a whole stays ready (connection-monitor.ts). This follows the masters
 * one by one, so that a lost master is not silent: one line when it stops
 * answering, one when it is back, and the health report names it.
 *
 * ioredis says what happens to each node connection: 'node error' (a refused
 * connect, a socket timeout on a hanging node, a rejected password), and a
 * node connection it makes ('+node') says when it is ready. A master it
 * drops from its slot map (a replica took over its slots) leaves the list at
 * the next slot refresh.
 */

/** A master of the cluster that does not answer, with its failure as last seen. `since` is a `Date.now()` timestamp. */
interface Outage { readonly address: string; readonly since: number; failure: FailureClass; error: ScrubbedError }
export type NodeOutage = Readonly<Outage>

/** `host:port`, as ioredis keys its node connections. */
export function nodeAddress (node: Redis): string {
  return `${String(node.options.host)}:${String(node.options.port)}`
}

export class ClusterNodeWatch {
  readonly #outages = new Map<string, Outage>()

  constructor (
    private readonly cluster: Cluster,
    private readonly connection: ResolvedConnection,
    private readonly monitor: ConnectionMonitor,
    private readonly logger: Logger,
    private readonly secrets: readonly string[]
  ) {
    cluster.on('node error', (error: unknown, address: unknown) => { this.#onNodeError(error, String(address)) })
    cluster.on('+node', (node: Redis) => { node.on('ready', () => { this.#onNodeReady(node) }) })
    cluster.on('refresh', () => { this.#onRefresh() })
  }

  /** The masters that do not answer now, the longest lost first. */
  get outages (): NodeOutage[] {
    return [...this.#outages.values()]
  }

  #onNodeError (rawError: unknown, address: string): void {
    // While the client is down, its own line covers every node. A replica that fails serves no key
    // (commands go to masters); `check` reports replicas.
    if (!this.monitor.ready || !this.#isMaster(address)) return
    const failure = classifyFailure(rawError)
    const error = scrubError(rawError, this.secrets)
    const known = this.#outages.get(address)
    // One line per outage of a master: a reconnect that fails another way (hanging, then refused)
    // updates what the health report says, not the log.
    if (known !== undefined) {
      if (!keepsKnownFailure(known.failure, failure)) {
        known.failure = failure
        known.error = error
      }
      return
    }
    this.#outages.set(address, { address, since: Date.now(), failure, error })
    const fields = { redisClient: this.connection.name, redisUrl: this.connection.display, redisNode: address, redisNodeState: 'down', redisFailure: failure, redisError: error.message }
    const line = `Redis "${this.connection.name}": cluster master ${address} is unavailable (${failure}): ${nodeHint(failure, this.connection, address)}. Keys in its slots answer 503; the other masters serve theirs.`
    if (needsConfigChange(failure)) this.logger.error(fields, line)
    else this.logger.warn(fields, line)
  }

  #onNodeReady (node: Redis): void {
    const outage = this.#outages.get(nodeAddress(node))
    if (outage === undefined) return
    // A stopped server's kernel still accepts the connection, and ioredis may call it ready before
    // anything was answered: back is when the node answers. A ping that fails leaves the outage as
    // it is: the node's next error says how it stands.
    node.ping().then(() => { this.#onNodeBack(outage) }, noop)
  }

  #onNodeBack (outage: Outage): void {
    const { address } = outage
    this.#outages.delete(address)
    const ms = Date.now() - outage.since
    this.logger.info({ redisClient: this.connection.name, redisUrl: this.connection.display, redisNode: address, redisNodeState: 'ready', outageMs: ms },
      `Redis "${this.connection.name}": cluster master ${address} is back after ${ms} ms (was ${outage.failure})`)
  }

  #onRefresh (): void {
    const known = new Set(this.cluster.nodes('all').map(nodeAddress))
    for (const address of this.#outages.keys()) {
      if (known.has(address)) continue
      this.#outages.delete(address)
      this.logger.info({ redisClient: this.connection.name, redisUrl: this.connection.display, redisNode: address, redisNodeState: 'gone' },
        `Redis "${this.connection.name}": cluster master ${address} is no longer in the cluster's slot map: its slots are served by another master now`)
    }
  }

  #isMaster (address: string): boolean {
    return this.cluster.nodes('master').some((node) => nodeAddress(node) === address)
  }
}

/** The hint for a failure of the node at `address` (`host:port`; the host may hold colons, as an IPv6 address does). */
export function nodeHint (failure: FailureClass, connection: ResolvedConnection, address: string): string {
  const at = address.lastIndexOf(':')
  return failureHint(failure, { ...connection, host: address.slice(0, at), port: Number(address.slice(at + 1)) })
}
