import { EventEmitter } from 'node:events'
import { classifyFailure, isTopologyMismatch, type FailureClass } from '../failure-class.js'

export type BreakerState =
  | { status: 'closed'; consecutiveFailures: number }
  | { status: 'open'; since: number; cause: FailureClass; message: string }

export interface BreakerEvents {
  change: [current: BreakerState, previous: BreakerState]
}

/**
 * Stops requests from waiting on a Redis that answers badly while its
 * connection still looks fine. It opens after `failureThreshold` consecutive
 * failures, or at the first timeout (a timeout already cost a request the
 * whole command timeout; the next one should not pay it again), missing
 * permission (only a change on the server mends that) or a server of the
 * wrong kind (a cluster node or a sentinel reached as one server). Only
 * `close()` closes it again: the caller probes Redis in the background.
 */
export class Breaker extends EventEmitter<BreakerEvents> {
  #state: BreakerState = { status: 'closed', consecutiveFailures: 0 }

  constructor (readonly failureThreshold: number) {
    super()
  }

  get state (): BreakerState {
    return this.#state
  }

  get isOpen (): boolean {
    return this.#state.status === 'open'
  }

  recordSuccess (): void {
    if (this.#state.status === 'closed' && this.#state.consecutiveFailures !== 0) this.#state.consecutiveFailures = 0
  }

  recordFailure (error: unknown): void {
    if (this.#state.status === 'open') return
    const cause = classifyFailure(error)
    const failures = this.#state.consecutiveFailures + 1
    if (cause === 'hanging' || cause === 'no-permission' || isTopologyMismatch(cause) || failures >= this.failureThreshold) {
      this.#set({ status: 'open', since: Date.now(), cause, message: error instanceof Error ? error.message : String(error) })
    } else {
      this.#state.consecutiveFailures = failures
    }
  }

  /**
   * While open: takes the reason of an error reply that says something new
   * (another class, another command denied) and announces it. Timeouts and
   * connection errors say nothing new about why Redis refuses, and are ignored.
   */
  recordCause (error: unknown): void {
    const state = this.#state
    if (state.status !== 'open' || !(error instanceof Error) || error.name !== 'ReplyError' || error.message === state.message) return
    const cause = classifyFailure(error)
    // A cluster node's MOVED names another slot for each key, a sentinel's unknown command its arguments: nothing new.
    if (cause === state.cause && isTopologyMismatch(cause)) return
    this.#set({ status: 'open', since: state.since, cause, message: error.message })
  }

  close (): void {
    if (this.#state.status === 'open') this.#set({ status: 'closed', consecutiveFailures: 0 })
  }

  #set (next: BreakerState): void {
    const previous = this.#state
    this.#state = next
    this.emit('change', next, previous)
  }
}
