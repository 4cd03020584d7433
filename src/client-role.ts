import { InvalidSettingError } from './errors.js'

/**
 * What a connection is used for. Each job needs other settings to stay
 * correct with every wait bounded:
 * - `command` (the default): request/response commands. No offline queue once
 *   ready, no retries, each command bounded by `commandTimeout`, and the
 *   connection dropped when one times out: nothing a request waits on can hang.
 * - `blocking`: BLPOP, BRPOP, BLMOVE, BZPOPMIN, XREAD BLOCK… A blocking
 *   command is bounded by its own block time plus `commandTimeout` (a grace
 *   for the reply to travel), never by `commandTimeout` alone; past that
 *   bound the connection is dropped, so a hanging server is still found. One
 *   that blocks forever (timeout 0) has no bound but TCP keepalive: a server
 *   that is stopped, not gone, is found only by the next command.
 * - `subscriber`: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE (and PUBLISH). Every
 *   subscription is made again after each reconnect, and retried until it
 *   holds; commands are bounded as for `command`.
 * - `queue`: a BullMQ Worker or QueueEvents connection, as BullMQ requires
 *   (`maxRetriesPerRequest: null`, the offline queue on, no command or socket
 *   timeout): BullMQ bounds its own blocking calls and reconnects through the
 *   outage itself.
 */
export type ConnectionRole = 'command' | 'blocking' | 'subscriber' | 'queue'

export const CONNECTION_ROLES: readonly ConnectionRole[] = ['command', 'blocking', 'subscriber', 'queue']

/** Validates a role from an option or `REDIS_<NAME>_ROLE`. */
export function parseRole (value: unknown, setting: string): ConnectionRole {
  if (typeof value === 'string' && (CONNECTION_ROLES as readonly string[]).includes(value)) return value as ConnectionRole
  const shown = typeof value === 'string' && value.length <= 20 && /^[\w-]*$/.test(value) ? JSON.stringify(value) : `a ${typeof value}`
  throw new InvalidSettingError(setting, `must be one of ${CONNECTION_ROLES.map((r) => `'${r}'`).join(', ')} (got ${shown})`, "use 'blocking' for BLPOP/XREAD BLOCK, 'subscriber' for pub/sub, 'queue' for BullMQ Worker and QueueEvents, or leave it out for 'command'")
}
