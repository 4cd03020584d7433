import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { ConnectionRole } from '../client-role.js'

/*
 * The shapes configuration takes: what the app passes (settings), and what
 * resolveConfig hands the connection layer (resolved connections). Pure
 * types; the rules live in the files beside this one.
 */

export type Env = Record<string, string | undefined>

/** A server's address, as in a list of sentinels or cluster nodes: `'host:port'` or `{ host, port }`. */
export type AddressSetting = string | { host: string; port?: number }

/** Where to find Redis; every field overrides the environment. */
export interface ConnectionSettings {
  /**
   * `redis://[[username]:password@]host[:port][/db]`, or `rediss://` for TLS;
   * `redis+sentinel://[[username]:password@]host:port[,host:port…]/masterName[/db]`;
   * `redis+cluster://[[username]:password@]host:port[,host:port…]`.
   * The password in it is the data password (as REDIS_PASSWORD).
   */
  url?: string
  /** @default 'localhost' (env `REDIS_HOST`) */
  host?: string
  /** @default 6379 (env `REDIS_PORT`) */
  port?: number
  /** ACL user (env `REDIS_USERNAME`). */
  username?: string
  /** Env `REDIS_PASSWORD` or `REDIS_PASSWORD_FILE`. An empty string means no password. */
  password?: string
  /** @default 0 (env `REDIS_DB`); a cluster has database 0 only. */
  db?: number
  /** `true` or Node TLS options to connect over TLS (env `REDIS_TLS`, or a `rediss://` URL). One server only. */
  tls?: boolean | TlsOptions
  /**
   * Redis Sentinel: the sentinels to ask for the current master (env
   * `REDIS_SENTINELS=host:port,host:port`), port 26379 unless given.
   */
  sentinels?: AddressSetting[]
  /** The master set the sentinels watch. @default 'mymaster' (env `REDIS_SENTINEL_NAME`) */
  sentinelName?: string
  /** ACL user on the sentinels (env `REDIS_SENTINEL_USERNAME`). @default none */
  sentinelUsername?: string
  /**
   * Password of the sentinels (env `REDIS_SENTINEL_PASSWORD` or
   * `REDIS_SENTINEL_PASSWORD_FILE`). @default the data password, as the
   * Bitnami chart sets its sentinels up (`auth.sentinel: true`)
   */
  sentinelPassword?: string
  /**
   * Redis Cluster: nodes to discover the cluster from (env
   * `REDIS_CLUSTER_NODES=host:port,host:port`), port 6379 unless given.
   */
  clusterNodes?: AddressSetting[]
}

/** A named client: its own URL (else env `REDIS_<NAME>_URL`, else the default server), and/or a database. */
export interface NamedClientSettings {
  /** Any of the URL forms of the `url` option: one server, Sentinel or Cluster. */
  url?: string
  db?: number
  /**
   * What the client is used for, which decides its settings (env
   * `REDIS_<NAME>_ROLE`): `'blocking'` for BLPOP / XREAD BLOCK, `'subscriber'`
   * for pub/sub, `'queue'` for BullMQ's Worker and QueueEvents.
   * @default 'command'
   */
  role?: ConnectionRole
}

export interface ConfigInput extends ConnectionSettings {
  /** @default process.env (read by the caller; this function never reads it) */
  env?: Env
  clients?: Record<string, NamedClientSettings>
  /** Fail when a connection has no password. @default env.NODE_ENV === 'production' */
  requirePassword?: boolean
}

export interface Address { host: string; port: number }

/** How a connection reaches Redis: one server, the master a set of sentinels names, or a cluster. */
export type ResolvedTopology =
  | { kind: 'single' }
  | {
    kind: 'sentinel'
    sentinels: Address[]
    masterName: string
    sentinelUsername: string | undefined
    sentinelPassword: string | undefined
    /** The setting the sentinels' password came from (`REDIS_SENTINEL_PASSWORD`, or the data password's). */
    sentinelPasswordFrom: string | undefined
  }
  | { kind: 'cluster'; nodes: Address[] }

export interface ResolvedConnection {
  /** `default`, or the named client's name. */
  name: string
  /** One server: its host. Sentinel and Cluster: the first sentinel or node (the others are in `topology`). */
  host: string
  port: number
  db: number
  username: string | undefined
  password: string | undefined
  tls: TlsOptions | undefined
  /** The setting the password came from (`REDIS_PASSWORD`, `REDIS_URL`, `password option`, …). */
  passwordFrom: string | undefined
  /** The setting that located the server (`REDIS_CACHE_URL`, `REDIS_HOST`, `REDIS_SENTINELS`, `defaults`, …). */
  locatedBy: string
  /** `redis://user:***@host:port/db`, `redis+sentinel://:***@h1:26379,h2:26379/mymaster/0`: safe to log. */
  display: string
  /** What the connection is used for (the default client: `command`). */
  role: ConnectionRole
  /** One server, Sentinel or Cluster. */
  topology: ResolvedTopology
}

export interface ResolvedConfig {
  connections: ResolvedConnection[]
  requirePassword: boolean
}
