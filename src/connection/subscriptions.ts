import type { Redis } from 'ioredis'
import { isRedisUnavailableError } from '../unavailable-error.js'

/*
 * Subscriptions that survive every reconnect. ioredis's own autoResubscribe
 * sends SUBSCRIBE again without handling a failure: if that one command
 * fails (the connection drops again, a timeout) the subscription is gone for
 * good while the client says ready, and the rejection is unhandled. Here the
 * channels a client asked for are remembered, and made again at every ready
 * until they hold.
 */

const KINDS = [
  { subscribe: 'subscribe', unsubscribe: 'unsubscribe' },
  { subscribe: 'psubscribe', unsubscribe: 'punsubscribe' },
  { subscribe: 'ssubscribe', unsubscribe: 'sunsubscribe' },
] as const

type SubscribeMethod = (...args: unknown[]) => Promise<unknown>

/** Channel names among a call's arguments (a trailing callback, and arrays, as ioredis takes them). */
function channelsOf (args: unknown[]): string[] {
  return args.flat().filter((arg): arg is string | Buffer => typeof arg === 'string' || Buffer.isBuffer(arg)).map(String)
}

export interface Subscriptions {
  /** What the client is subscribed to, or asked to be: for the health report and tests. */
  readonly channels: ReadonlyMap<string, ReadonlySet<string>>
}

/**
 * Remembers every (p/s)subscribe and unsubscribe made on `client` and makes
 * them again after each reconnect. `onFailure` hears of a subscription the
 * server refused for another reason than an outage (NOPERM on a channel,
 * say): retrying would not help, so it is not retried.
 */
export function keepSubscriptions (client: Redis, onFailure: (error: unknown) => void): Subscriptions {
  const channels = new Map<string, Set<string>>(KINDS.map((kind) => [kind.subscribe, new Set<string>()]))
  const methods = client as unknown as Record<string, SubscribeMethod>
  for (const kind of KINDS) {
    const wanted = channels.get(kind.subscribe) as Set<string>
    const subscribe = methods[kind.subscribe] as SubscribeMethod
    const unsubscribe = methods[kind.unsubscribe] as SubscribeMethod
    methods[kind.subscribe] = function (this: Redis, ...args: unknown[]) {
      for (const channel of channelsOf(args)) wanted.add(channel)
      return subscribe.apply(this, args)
    }
    methods[kind.unsubscribe] = function (this: Redis, ...args: unknown[]) {
      const named = channelsOf(args)
      if (named.length === 0) wanted.clear()
      for (const channel of named) wanted.delete(channel)
      return unsubscribe.apply(this, args)
    }
  }
  client.on('ready', () => {
    // Every ready, the first included: what was asked before the first one
    // waits in the offline queue, but a handshake that failed before it (a
    // password rejected, then fixed) failed those queued commands, and the
    // server would never hear of them. Subscribing twice to a channel is
    // harmless: Redis keeps one subscription per channel and connection.
    for (const kind of KINDS) {
      const wanted = [...(channels.get(kind.subscribe) as Set<string>)]
      if (wanted.length === 0) continue
      ;(methods[kind.subscribe] as SubscribeMethod).apply(client, wanted).catch((error: unknown) => {
        // An outage: the connection is going down, and the next ready tries again.
        if (!isRedisUnavailableError(error)) onFailure(error)
      })
    }
  })
  return { channels }
}
