/* The settings each role needs; the roles themselves are described in client-role.ts. */
import type { RedisOptions } from 'ioredis'
import type { ConnectionRole } from '../client-role.js'

/** How the plugin bounds a role's commands itself, beyond ioredis's options. */
export interface RoleGuard {
  /** A blocking command's bound is its block time plus commandTimeout; other commands get commandTimeout. */
  deadlines: boolean
  /** Keep every subscription and make it again after each reconnect. */
  resubscribe: boolean
  /**
   * Commands sent before the first ready wait for it (the offline queue is
   * on until then, off after): `subscribe()` straight after creating the
   * client works, as the ioredis README writes it. The wait is bounded: with
   * no retries per request, each failed connection attempt fails what waits.
   */
  queueUntilReady: boolean
}

export interface RoleSettings {
  options: Pick<RedisOptions, 'enableOfflineQueue' | 'maxRetriesPerRequest' | 'commandTimeout' | 'socketTimeout' | 'autoResubscribe'>
  guard: RoleGuard
}

/** The ioredis settings and the plugin's own guards for a role. */
export function roleSettings (role: ConnectionRole, commandTimeout: number): RoleSettings {
  switch (role) {
    case 'command':
      return {
        options: { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout, socketTimeout: commandTimeout },
        guard: { deadlines: false, resubscribe: false, queueUntilReady: false },
      }
    case 'blocking':
      // No ioredis timeouts: they would cut a BLPOP at commandTimeout. The guard bounds each command instead.
      return {
        options: { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: undefined, socketTimeout: undefined },
        guard: { deadlines: true, resubscribe: false, queueUntilReady: false },
      }
    case 'subscriber':
      // ioredis resubscribes without handling a failure (the subscription is then lost); the guard does it.
      return {
        options: { enableOfflineQueue: true, maxRetriesPerRequest: 0, commandTimeout, socketTimeout: commandTimeout, autoResubscribe: false },
        guard: { deadlines: false, resubscribe: true, queueUntilReady: true },
      }
    case 'queue':
      return {
        options: { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, socketTimeout: undefined },
        guard: { deadlines: false, resubscribe: false, queueUntilReady: false },
      }
  }
}
