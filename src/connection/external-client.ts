import type { Redis } from 'ioredis'
import type { ConnectionOptions } from 'node:tls'
import type { ResolvedConnection } from '../config/index.js'
import { DEFAULT_CLIENT } from '../config/client-names.js'
import { InvalidSettingError } from '../errors.js'
import { describeConnection } from '../config/redis-url.js'

/*
 * The `client` option: an ioredis client the app built itself (as with
 * @fastify/redis). The plugin monitors it like its own but never changes its
 * settings; this file reads what the plugin needs to know from them.
 */

/**
 * True for an ioredis `Redis` instance, also from another copy of ioredis
 * (where `instanceof` would fail): it has a status, options and sendCommand.
 */
function looksLikeIoredis (value: unknown): value is Redis {
  const candidate = value as Partial<Redis> | null
  return typeof candidate === 'object' && candidate !== null && typeof candidate.sendCommand === 'function' &&
    typeof candidate.status === 'string' && typeof candidate.options === 'object'
}

/** Checks the `client` option: an ioredis client for one server (a Cluster is not served yet). */
export function assertIoredisClient (value: unknown): asserts value is Redis {
  if (!looksLikeIoredis(value)) {
    throw new InvalidSettingError('client option', `must be an ioredis client (got ${value === null ? 'null' : typeof value})`, 'pass new Redis(…) from ioredis, or leave it out and let the plugin create the client')
  }
  if ((value as { isCluster?: unknown }).isCluster === true) {
    throw new InvalidSettingError('client option', 'is an ioredis Cluster, which this version does not serve', 'pass a client for one server (new Redis(…))')
  }
}

/** ioredis fills unset credentials with null; an empty string sends none either. */
function present (value: string | null | undefined): string | undefined {
  return value ? value : undefined
}

/**
 * The client's TLS as node:tls options. ioredis 6.1 also takes a profile
 * name ('RedisCloudFixed'…) and puts that profile's options in its place
 * when the client is made; a name it does not know (or any name, on ioredis
 * 6.0) stays a name or a `profile` key: TLS on, with no options of its own.
 */
function tlsOptionsOf (tls: unknown): ConnectionOptions | undefined {
  if (tls === undefined) return undefined
  if (typeof tls === 'string') return {}
  const { profile: _profile, ...options } = tls as ConnectionOptions & { profile?: unknown }
  return options
}

/** The connection record of an app's own client, from its options: where it points, whether it sends a password. */
export function externalConnection (client: Redis): ResolvedConnection {
  const { host, port, db, username, password, tls, path } = client.options
  const secret = present(password)
  const resolved = {
    name: DEFAULT_CLIENT,
    // ioredis fills in host, port and db; a client on a Unix socket is known by its path.
    host: path === undefined ? host as string : path,
    port: port as number,
    db: db as number,
    username: present(username),
    password: secret,
    tls: tlsOptionsOf(tls),
    passwordFrom: secret === undefined ? undefined : 'the client option\'s password',
    locatedBy: 'client option',
  }
  return { ...resolved, display: describeConnection(resolved), role: 'command', topology: { kind: 'single' } }
}

/**
 * Settings of an app's own client that let a request wait on a sick Redis
 * (ioredis's defaults do): each named with what it costs, for one warning
 * at registration.
 */
export function unboundedSettings (client: Redis): string[] {
  const { enableOfflineQueue, maxRetriesPerRequest, commandTimeout } = client.options
  const found: string[] = []
  if (enableOfflineQueue !== false) found.push('enableOfflineQueue is on (commands wait while Redis is down)')
  if (maxRetriesPerRequest !== 0) found.push(`maxRetriesPerRequest is ${String(maxRetriesPerRequest)} (a command is resent after each reconnect)`)
  if (commandTimeout === undefined) found.push('no commandTimeout (a hanging Redis is never noticed by a command)')
  return found
}
