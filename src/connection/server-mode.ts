import type { Cluster, Redis } from 'ioredis'
import type { FailureClass } from '../failure-class.js'

/*
 * What kind of server a connection of one server reached. Settings for one
 * server pointed at a Redis Cluster node or at a Sentinel connect and even
 * answer PING; only the data commands fail (MOVED, CROSSSLOT, "ERR unknown
 * command"), one route at a time. The server says what it is in its HELLO
 * reply (`mode`: standalone, cluster or sentinel). HELLO is the one command
 * every ACL user may send (INFO and CLUSTER INFO need permissions), and a
 * sentinel answers it too.
 */

export type ServerMode = 'standalone' | 'cluster' | 'sentinel'

/**
 * The `mode` of a HELLO reply: a RESP2 array of names and values, or the
 * object or Map a RESP3 map becomes; undefined when it has none.
 */
export function modeOfHello (reply: unknown): ServerMode | undefined {
  let mode: unknown
  if (Array.isArray(reply)) {
    const at = reply.findIndex((item, index) => index % 2 === 0 && String(item) === 'mode')
    mode = at === -1 ? undefined : reply[at + 1]
  } else if (reply instanceof Map) {
    mode = reply.get('mode')
  } else if (typeof reply === 'object' && reply !== null) {
    mode = (reply as Record<string, unknown>).mode
  }
  const text = mode === undefined ? undefined : String(mode)
  return text === 'standalone' || text === 'cluster' || text === 'sentinel' ? text : undefined
}

/**
 * Asks the server what it is. A server that cannot tell (HELLO without
 * arguments needs Redis 6.2) or an error on the way (the connection drops)
 * resolves undefined: nothing is concluded from it.
 */
export async function askServerMode (client: Redis | Cluster): Promise<ServerMode | undefined> {
  try {
    return modeOfHello(await client.call('HELLO'))
  } catch {
    return undefined
  }
}

/** The failure a mode means for settings of one server: none for a standalone server (or one that cannot tell). */
export function topologyMismatch (mode: ServerMode | undefined): FailureClass | undefined {
  if (mode === 'cluster') return 'cluster-node'
  if (mode === 'sentinel') return 'sentinel-port'
  return undefined
}

/** The error a mismatch is reported with (its message is the health report's `error`). */
export function mismatchError (mode: ServerMode): Error {
  return new Error(`the server answers HELLO with mode "${mode}", not "standalone"`)
}
