/**
 * The error a decision gets when Redis has not answered within its deadline.
 * Its message is an ioredis command timeout's, so it is classified `hanging`
 * and counts as Redis being unavailable; its class tells the two apart.
 */
export class DecisionTimeoutError extends Error {
  constructor () {
    super('Command timed out')
    this.name = 'DecisionTimeoutError'
  }
}

/**
 * Hands the outcome of `promise` to `onValue` or `onError`, exactly once:
 * its own, or after `ms` a DecisionTimeoutError if it has not settled by
 * then. A rate-limit decision can always be made without Redis, so it need
 * not wait the client's whole command timeout, nor forever on a client that
 * has none.
 */
export function settleWithin<T> (promise: Promise<T>, ms: number, onValue: (value: T) => void, onError: (error: unknown) => void): void {
  let pending = true
  let expired = false
  const timer = setTimeout(() => {
    expired = true
    // After the event loop was blocked (a long synchronous task, a GC pause) this fires late,
    // before the poll phase has read a reply that may be waiting in the socket: give it that
    // phase, so only Redis's silence counts, never the app's own stall. Only a reply can still
    // win now: a failure that lands in this phase (the client's own command timeout, overdue
    // in the same stall) is the deadline's, since the decision has already waited it out.
    setImmediate(() => {
      if (!pending) return
      pending = false
      onError(new DecisionTimeoutError())
    })
  }, ms)
  promise.then(
    (value) => {
      if (!pending) return
      pending = false
      clearTimeout(timer)
      onValue(value)
    },
    (error: unknown) => {
      if (!pending || expired) return
      pending = false
      clearTimeout(timer)
      onError(error)
    }
  )
}

/** `promise`, or a rejection with a DecisionTimeoutError after `ms` if it has not settled by then. */
export function withinDeadline<T> (promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => { settleWithin(promise, ms, resolve, reject) })
}
