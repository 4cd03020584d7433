import { Redis } from 'ioredis'
import type { Address, ResolvedTopology } from '../config/index.js'
import { classifyFailure } from '../failure-class.js'
import type { Logger } from './connection-monitor.js'

type SentinelTopology = Extract<ResolvedTopology, { kind: 'sentinel' }>

/** The channel on which every sentinel announces a failover: `<name> <old ip> <old port> <new ip> <new port>`. */
export const SWITCH_CHANNEL = '+switch-master'

/** How often a lost subscription to a sentinel is tried again. */
const SENTINEL_RESUBSCRIBE_MS = 1000

/*
 * ioredis asks the sentinels for the master only when it connects. Between a
 * failover and the next reconnect its connection stays on the old master,
 * which keeps taking writes until the sentinels demote it (about 10 s after a
 * planned SENTINEL FAILOVER, measured): every one of them is lost. Its own
 * `failoverDetector` drops the connection at +switch-master, but one that
 * arrives while a reconnect asks the sentinels ends the client for good
 * (ioredis 6.0.0: the connector's promise rejects, and the client goes to
 * `end`), which is the usual case when the master was killed.
 */

/**
 * Follows one Sentinel client's master set: it listens to +switch-master on
 * every sentinel, and at the first announcement of a failover
 * - drops a connection still on the old master (so no write reaches it),
 * - and, while a reconnect waits out its backoff, reconnects now;
 * a reconnect that lands on the old master (a sentinel that has not heard of
 * the failover yet answered) is dropped at once. A write refused with
 * READONLY means the server was demoted under the connection: one reconnect
 * through the sentinels, once per server, so a server the sentinels still
 * name stays in use (its writes are refused, and the rate limiter counts in
 * memory) instead of being reconnected to in a loop.
 */
export class MasterFollower {
  #client!: Redis
  #subscribers: Redis[] = []
  /** The failover last acted on, `old ip:port>new ip:port`: every sentinel announces it. */
  #lastSwitch: string | undefined
  /** The master of before the last failover, until the client is ready elsewhere. */
  #stale: string | undefined
  /** The server a READONLY reply last made the client leave. */
  #leftForReadOnly: string | undefined
  /** A failover was announced while connecting or connected: the reconnect that follows skips the backoff. */
  #reconnectNow = false

  constructor (
    private readonly topology: SentinelTopology,
    private readonly clientName: string,
    private readonly logger: Logger
  ) {}

  /** For ioredis `reconnectOnError`: 1 (reconnect, the command fails) on the first READONLY from a server. */
  readonly onErrorReply = (error: Error): 1 | false => {
    if (classifyFailure(error) !== 'read-only') return false
    const at = this.#address()
    if (at === this.#leftForReadOnly) return false
    this.#leftForReadOnly = at
    this.logger.warn({ redisClient: this.clientName, redisServer: at },
      `Redis "${this.clientName}": ${at} refuses writes (READONLY), it is no longer the master of "${this.topology.masterName}"; asking the sentinels for the master`)
    return 1
  }

  /**
   * The client's retryStrategy, around the plugin's backoff: right after a
   * failover the sentinels name a master that answers, so the reconnect goes
   * at once (an outage's backoff is up to 500 ms by then).
   */
  reconnectDelay (backoff: number): number {
    if (!this.#reconnectNow) return backoff
    this.#reconnectNow = false
    return 0
  }

  /** Starts following, for `client` (made with onErrorReply and reconnectDelay). */
  attach (client: Redis): void {
    this.#client = client
    this.#subscribers = this.topology.sentinels.map((sentinel) => this.#subscribe(sentinel))
    client.on('connect', () => { this.#leaveStale() })
    client.on('ready', () => {
      this.#stale = undefined
      this.#reconnectNow = false
    })
  }

  close (): void {
    for (const subscriber of this.#subscribers) subscriber.disconnect()
  }

  #subscribe (sentinel: Address): Redis {
    const { sentinelUsername, sentinelPassword } = this.topology
    const subscriber = new Redis({
      host: sentinel.host,
      port: sentinel.port,
      ...(sentinelUsername === undefined ? {} : { username: sentinelUsername }),
      ...(sentinelPassword === undefined ? {} : { password: sentinelPassword }),
      connectionName: `fastify-resilient-redis:${this.clientName}:failover`,
      // The client's own connection reports the sentinels' outages; this one only listens.
      retryStrategy: () => SENTINEL_RESUBSCRIBE_MS,
      enableReadyCheck: false,
      maxRetriesPerRequest: null,
    })
    subscriber.on('error', () => {})
    subscriber.on('message', (channel: string, message: string) => { if (channel === SWITCH_CHANNEL) this.#onSwitch(message) })
    subscriber.subscribe(SWITCH_CHANNEL).catch(() => {})
    return subscriber
  }

  #onSwitch (message: string): void {
    const [name, oldHost, oldPort, newHost, newPort] = message.split(' ')
    const change = `${oldHost}:${oldPort}>${newHost}:${newPort}`
    const client = this.#client
    if (name !== this.topology.masterName || change === this.#lastSwitch) return
    this.#lastSwitch = change
    this.#stale = `${oldHost}:${oldPort}`
    this.#leftForReadOnly = undefined
    this.logger.info({ redisClient: this.clientName, redisServer: `${newHost}:${newPort}` },
      `Redis "${this.clientName}": the sentinels moved master "${name}" from ${this.#stale} to ${newHost}:${newPort}; following it`)
    // Waiting out a reconnect's backoff: go now (the sentinels already name the new master).
    // Otherwise the connection is dropped if it is to the old master, and the attempt under way
    // (its socket not connected yet) is dropped when it connects there; either reconnects at once.
    if (client.status === 'reconnecting') {
      if (cancelPendingReconnect(client)) client.connect().catch(() => {})
      return
    }
    this.#reconnectNow = true
    this.#leaveStale()
  }

  /** Drops the connection if it is to the old master (only once connected: dropping one that asks the sentinels would end the client). */
  #leaveStale (): void {
    const { status } = this.#client
    if ((status === 'connect' || status === 'ready') && this.#address() === this.#stale) this.#client.disconnect(true)
  }

  /** `ip:port` of the server the client's socket is connected to (an error reply came on it). */
  #address (): string {
    const { remoteAddress, remotePort } = this.#client.stream
    return `${String(remoteAddress).replace(/^::ffff:/, '')}:${String(remotePort)}`
  }
}

/**
 * Stops the timer of a reconnect that waits out its backoff, so that the
 * reconnect can go now: false if there is none (a client closed while it
 * waited, which must stay closed). ioredis keeps that timer in a field its
 * types call private (Redis.js, 6.x); a reconnect started beside it would
 * leave it to fire later, and after a close it would connect again.
 */
function cancelPendingReconnect (client: Redis): boolean {
  const internals = client as unknown as { reconnectTimeout?: ReturnType<typeof setTimeout> | null }
  if (internals.reconnectTimeout === undefined || internals.reconnectTimeout === null) return false
  clearTimeout(internals.reconnectTimeout)
  internals.reconnectTimeout = null
  return true
}
