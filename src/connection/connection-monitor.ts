import { EventEmitter } from 'node:events'
import type { Cluster, Redis } from 'ioredis'
import { AUTH_RETRY_DELAY, MAX_RECONNECT_DELAY } from './client-options.js'
import type { ResolvedConnection } from '../config/index.js'
import { connectionChannel } from '../diagnostics.js'
import { classifyFailure, failureHint, needsConfigChange, type FailureClass } from '../failure-class.js'
import { scrubError, type ScrubbedError } from '../redact.js'
import { askServerMode, mismatchError, topologyMismatch, type ServerMode } from './server-mode.js'

/** Where one connection stands. `since` is a `Date.now()` timestamp. */
export type ConnectionState =
  | { status: 'connecting'; since: number }
  | { status: 'ready'; since: number }
  | { status: 'down'; since: number; failure: FailureClass; error: ScrubbedError }

/** The subset of a Fastify/pino logger we use. */
export interface Logger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export interface ConnectionMonitorEvents {
  state: [current: ConnectionState, previous: ConnectionState]
}

/**
 * Follows one ioredis client through its life and turns ioredis's stream of
 * events (an error per reconnect attempt) into state changes, each logged
 * once, with the password scrubbed from everything.
 *
 * It also checks what ioredis lets pass: a password sent to a server that has
 * none is accepted silently, leaving an open server in use. After each
 * connect we send an explicit AUTH and treat that reply as a failure. And
 * settings of one server that reach a cluster node or a sentinel connect
 * fine: the connection of one server also asks the server what it is
 * (server-mode.ts), and is down, with one error line naming the settings to
 * use, when it is not a standalone server.
 */
export class ConnectionMonitor extends EventEmitter<ConnectionMonitorEvents> {
  #state: ConnectionState = { status: 'connecting', since: Date.now() }
  #client: Redis | Cluster | undefined
  #closing = false
  /** A drop from `ready` is logged with the cause the next attempt finds, not as a line of its own. */
  #dropUnreported = false
  readonly #settled: Promise<void>
  #settle!: () => void

  constructor (
    readonly connection: ResolvedConnection,
    private readonly logger: Logger,
    private readonly secrets: readonly string[]
  ) {
    super()
    this.#settled = new Promise((resolve) => { this.#settle = resolve })
  }

  get state (): ConnectionState {
    return this.#state
  }

  /** True only when the connection is up and verified: safe to send commands. */
  get ready (): boolean {
    return this.#state.status === 'ready'
  }

  /** Resolves once the first connection attempt succeeded or failed for a known reason. */
  firstAttemptSettled (): Promise<void> {
    return this.#settled
  }

  /** For ioredis `retryStrategy`: quick capped backoff, slower after a failure only a configuration change mends. */
  retryDelay (attempt: number): number {
    if (this.#state.status === 'down' && needsConfigChange(this.#state.failure)) return AUTH_RETRY_DELAY
    return Math.min(25 * 2 ** attempt, MAX_RECONNECT_DELAY)
  }

  /** The AUTH check sent during the handshake of the current connection, ahead of anything ioredis resends. */
  #authCheck: Promise<{ error: unknown } | undefined> | undefined
  /** The server's mode, asked during the handshake of the current connection (one server only). */
  #modeCheck: Promise<ServerMode | undefined> | undefined
  /**
   * On Sentinel, the master the current connection reached: a failure there (a wrong data
   * password, a master that hangs) is that server's, not the first sentinel's the settings name.
   */
  #master: { host: string; port: number } | undefined

  /** What the failure means and what to check, at the server it happened on. */
  hint (failure: FailureClass): string {
    return failureHint(failure, this.#master === undefined ? this.connection : { ...this.connection, ...this.#master })
  }

  readonly #listeners = {
    connect: (): void => { this.#onConnect() },
    ready: (): void => { this.#onReady() },
    // Handling 'error' also keeps ioredis from printing "[ioredis] Unhandled error event".
    error: (error: unknown): void => { this.#onError(error) },
    close: (): void => { this.#onClose() },
  }

  /**
   * Starts following `client`. A client of the app's own may come in any
   * state: already ready (checked now, as on a connect), lazy (connected
   * now: nothing else would), or closed for good (down, and stays so).
   */
  attach (client: Redis | Cluster): void {
    this.#client = client
    client.on('connect', this.#listeners.connect)
    client.on('ready', this.#listeners.ready)
    client.on('error', this.#listeners.error)
    client.on('close', this.#listeners.close)
    if (client.status === 'ready') this.#onReady()
    else if (client.status === 'wait') client.connect().catch(() => {})
    else if (client.status === 'end') this.#toDown('connection-lost', new Error('Connection is closed.'))
  }

  /** Stops reporting; called before the plugin quits the client. */
  close (): void {
    this.#closing = true
  }

  /** Stops reporting and removes every listener: the client lives on without this plugin. */
  detach (): void {
    this.#closing = true
    const client = this.#client as Redis | Cluster
    client.off('connect', this.#listeners.connect)
    client.off('ready', this.#listeners.ready)
    client.off('error', this.#listeners.error)
    client.off('close', this.#listeners.close)
  }

  /** Sends the AUTH check while ioredis is still in its handshake, before it resends commands at ready. */
  #onConnect (): void {
    const { password, username, topology } = this.connection
    if (topology.kind === 'sentinel') {
      // At 'connect' the socket is connected, so its remote end is known (an IPv4 address as IPv4).
      const { remoteAddress, remotePort } = (this.#client as Redis).stream
      this.#master = { host: (remoteAddress as string).replace(/^::ffff:/, ''), port: remotePort as number }
    }
    // Sentinel and Cluster clients find their servers themselves; only settings of one server can reach the wrong kind.
    if (topology.kind === 'single') this.#modeCheck = askServerMode(this.#client as Redis)
    // A cluster takes no command until it is ready (only CLUSTER SLOTS): its check waits for ready, and goes to one node.
    if (password === undefined || username !== undefined || topology.kind === 'cluster') return
    this.#authCheck = (this.#client as Redis | Cluster).call('AUTH', password).then(() => undefined, (error: unknown) => ({ error }))
  }

  #onReady (): void {
    const { password, username, topology } = this.connection
    const client = this.#client as Redis | Cluster
    const modeSent = this.#modeCheck
    this.#modeCheck = undefined
    // An app's own client may come ready, with no connect seen: it is asked now.
    const mode = topology.kind !== 'single' ? undefined : modeSent ?? askServerMode(client)
    const authSent = this.#authCheck
    this.#authCheck = undefined
    // ioredis sends `HELLO 3 AUTH default <password>`, which a server without
    // a password accepts. A bare AUTH tells: it fails on such a server. Until
    // it answers, the connection is not ready for the app.
    const auth = password === undefined || username !== undefined ? undefined
      : authSent ?? client.call('AUTH', password).then(() => undefined, (error: unknown) => ({ error }))
    if (mode === undefined && auth === undefined) {
      this.#toReady()
      return
    }
    void Promise.all([mode, auth]).then(([serverMode, failed]) => {
      // A close while a check was pending ends it either way; nothing more to report.
      if (this.#closing) return
      // The kind of server first: a sentinel without a password also fails the AUTH check, for a reason that is not the point.
      const mismatch = topologyMismatch(serverMode)
      if (mismatch !== undefined) this.#toDown(mismatch, mismatchError(serverMode as ServerMode))
      else if (failed !== undefined) this.#toDown(classifyFailure(failed.error), failed.error)
      else {
        this.#toReady()
        return
      }
      client.disconnect(true)
    })
  }

  #onError (error: unknown): void {
    if (this.#closing) return
    // While ready, an error precedes a 'close'; the reconnect attempts that
    // follow classify the outage. Before that, every error is a failed attempt.
    if (this.#state.status !== 'ready') this.#toDown(classifyFailure(error), error)
  }

  #onClose (): void {
    // The next attempt asks the sentinels again: until it connects, a failure is theirs.
    this.#master = undefined
    if (this.#closing || this.#state.status !== 'ready') return
    this.#dropUnreported = true
    this.#setState({ status: 'down', since: Date.now(), failure: 'connection-lost', error: { name: 'Error', message: 'Connection closed' } })
  }

  #toReady (): void {
    // Only reached from a fresh connect, which follows a close that already left 'ready'.
    const previous = this.#state as Exclude<ConnectionState, { status: 'ready' }>
    const fields = this.#fields()
    if (previous.status === 'connecting') {
      this.logger.info({ ...fields, redisState: 'ready' }, `Redis "${this.connection.name}" connected (${this.connection.display})`)
    } else if (this.#dropUnreported) {
      this.logger.info({ ...fields, redisState: 'ready' }, `Redis "${this.connection.name}" connection dropped and was re-established after ${Date.now() - previous.since} ms`)
    } else {
      this.logger.info({ ...fields, redisState: 'ready', outageMs: Date.now() - previous.since }, `Redis "${this.connection.name}" is back after ${formatDuration(Date.now() - previous.since)} (was ${previous.failure})`)
    }
    this.#dropUnreported = false
    this.#setState({ status: 'ready', since: Date.now() })
    this.#settle()
  }

  #toDown (failure: FailureClass, rawError: unknown): void {
    const previous = this.#state
    const error = scrubError(rawError, this.secrets)
    const sameFailure = previous.status === 'down' && previous.failure === failure
    const since = previous.status === 'down' ? previous.since : Date.now()
    this.#setState({ status: 'down', since, failure, error })
    if (sameFailure && !this.#dropUnreported) return
    const what = previous.status === 'connecting' ? 'is unavailable' : this.#dropUnreported ? 'was lost' : 'is still unavailable'
    this.#dropUnreported = false
    const hint = this.hint(failure)
    const line = `Redis "${this.connection.name}" ${what} (${failure}): ${hint}. Requests go on without it.`
    const fields = { ...this.#fields(), redisState: 'down', redisFailure: failure, redisError: error.message }
    if (needsConfigChange(failure)) this.logger.error(fields, line)
    else this.logger.warn(fields, line)
    this.#settle()
  }

  #setState (next: ConnectionState): void {
    const previous = this.#state
    this.#state = next
    this.emit('state', next, previous)
    if (connectionChannel.hasSubscribers) connectionChannel.publish({ client: this.connection.name, state: next, previous })
  }

  #fields (): Record<string, string> {
    return { redisClient: this.connection.name, redisUrl: this.connection.display }
  }
}

function formatDuration (ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}
