import type { Cluster, Redis } from 'ioredis'
import { monitorOf } from '../connection/client-factory.js'

/** Whether a client may be sent commands now, and when that changes. */
export interface Readiness {
  readonly ready: boolean
  /** Why it is not ready, for log lines: a failure class, or `connecting`. */
  readonly cause: string
  /** Calls `listener` on every change; returns the unsubscribe function. */
  onChange: (listener: () => void) => () => void
}

/**
 * For a client made by this plugin, its ConnectionMonitor (ready means
 * connected and authenticated). For any other ioredis client, its `status`;
 * such a client created with `lazyConnect` is connected here.
 */
export function readinessOf (client: Redis | Cluster): Readiness {
  const monitor = monitorOf(client)
  if (monitor !== undefined) {
    return {
      get ready () { return monitor.ready },
      get cause () { return monitor.state.status === 'down' ? monitor.state.failure : monitor.state.status },
      onChange (listener) {
        monitor.on('state', listener)
        return () => { monitor.off('state', listener) }
      },
    }
  }
  // A lazy client (lazyConnect) waits for its first command, and the store only sends to a ready
  // one: connect it, or it would never count in Redis. Failures reach the client's 'error' event.
  if (client.status === 'wait') client.connect().catch(() => {})
  return {
    get ready () { return client.status === 'ready' },
    get cause () { return client.status },
    onChange (listener) {
      const events = ['ready', 'close', 'end'] as const
      for (const event of events) client.on(event, listener)
      return () => { for (const event of events) client.off(event, listener) }
    },
  }
}
