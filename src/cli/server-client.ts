import { Redis, type RedisOptions } from 'ioredis'
import { ioredisOptions } from '../connection/client-options.js'
import type { ResolvedConnection } from '../config/index.js'

/*
 * The ioredis client check talks to one server with: a server of its own,
 * a sentinel, or one cluster node. It tries once (no reconnect), and its
 * connect() rejects with the reason the server gave, not ioredis's
 * "Connection is closed.".
 */

/** What check changes in the plugin's options: one attempt, bounded, no INFO of ioredis's own. */
export function checkOptions (stepMs: number): RedisOptions {
  return {
    connectionName: 'fastify-resilient-redis:check',
    lazyConnect: true,
    retryStrategy: () => null,
    connectTimeout: stepMs,
    // We read INFO ourselves; ioredis's ready check would only add a round trip (and a console warning where INFO is denied).
    enableReadyCheck: false,
    disconnectTimeout: 200,
  }
}

/** The plugin's own options for `connection` (credentials, timeouts), with check's changes. */
export function dataOptions (connection: ResolvedConnection, stepMs: number): RedisOptions {
  return { ...ioredisOptions(connection, { commandTimeout: stepMs, connectWait: stepMs }, () => 0), ...checkOptions(stepMs) }
}

/**
 * A client for `options`, handed to `track` before it connects (so the
 * caller can disconnect one whose time ran out), and connected.
 */
export async function connectClient (options: RedisOptions, track: (client: Redis) => void): Promise<Redis> {
  const client = new Redis(options)
  track(client)
  let lastError: unknown
  client.on('error', (error: unknown) => { lastError = error })
  try {
    await client.connect()
  } catch (error) {
    // connect() rejects with "Connection is closed."; the reason came as an 'error' event.
    throw lastError ?? error
  }
  return client
}
