import type { Redis } from 'ioredis'
import type { Subscriptions } from './subscriptions.js'

/*
 * A subscribed connection sends nothing of its own: when the server hangs or
 * the network between silently drops it (a failover behind a load balancer,
 * a NAT entry gone), no command is pending, so no timeout ever fires. The
 * client says ready, the health report says ready, and no message arrives
 * again. A PING now and then is a pending command: with the role's socket
 * timeout, a silent connection is dropped and made again (and its
 * subscriptions with it) within the interval plus the command timeout.
 */

/** How often a subscribed connection checks that the server still answers. */
export const SUBSCRIBER_HEARTBEAT_MS = 2000

/** PINGs `client` every SUBSCRIBER_HEARTBEAT_MS while it is ready and subscribed to something; stops when it ends. */
export function keepSubscriberAlive (client: Redis, subscriptions: Subscriptions): void {
  const timer = setInterval(() => {
    if (client.status !== 'ready') return
    if (![...subscriptions.channels.values()].some((channels) => channels.size > 0)) return
    // A failure is the point: the socket timeout has already dropped the connection.
    client.ping().catch(() => {})
  }, SUBSCRIBER_HEARTBEAT_MS)
  timer.unref()
  client.once('end', () => { clearInterval(timer) })
}
