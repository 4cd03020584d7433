/**
 * Hands the outcome of `promise` to `onValue` or `onError`, exactly once:
 * its own, or after `ms` a timeout error (classified `hanging`, like an
 * ioredis command timeout) if it has not settled by then. A rate-limit
 * decision can always be made without Redis, so it need not wait the
 * client's whole command timeout, nor forever on a client that has none.
 */
export function settleWithin<T> (promise: Promise<T>, ms: number, onValue: (value: T) => void, onError: (error: unknown) => void): void {
  let pending = true
  const timer = setTimeout(() => {
    // After the event loop was blocked (a long synchronous task, a GC pause) this fires late,
    // before the poll phase has read a reply that may be waiting in the socket: give it that
    // phase, so only Redis's silence counts, never the app's own stall.
    setImmediate(() => {
      if (!pending) return
      pending = false
      onError(new Error('Command timed out'))
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
      if (!pending) return
      pending = false
      clearTimeout(timer)
      onError(error)
    }
  )
}

/** `promise`, or a rejection with the same timeout error after `ms` if it has not settled by then. */
export function withinDeadline<T> (promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => { settleWithin(promise, ms, resolve, reject) })
}
