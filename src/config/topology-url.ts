import { InvalidSettingError } from '../errors.js'
import { maskUrl, quoted } from '../redact.js'
import { decodeUrlPart, parseDb, parsePort } from './redis-url.js'
import type { Address, AddressSetting } from './types.js'

/*
 * Lists of servers, as Sentinel and Cluster take them: `host:port,host:port`
 * in REDIS_SENTINELS / REDIS_CLUSTER_NODES, and the multi-host URLs
 * `redis+sentinel://…` and `redis+cluster://…`, which `new URL()` cannot
 * read. An error shows no part of a URL beyond its scheme: the rest may hold
 * a password.
 */

export const SENTINEL_PORT = 26379
export const CLUSTER_PORT = 6379

export type TopologyKind = 'single' | 'sentinel' | 'cluster'

/** What a `redis+sentinel://` or `redis+cluster://` URL says; fields it does not state are undefined. */
export interface ParsedTopologyUrl {
  kind: 'sentinel' | 'cluster'
  addresses: Address[]
  /** Sentinel: the master set name, from the first path segment. */
  masterName: string | undefined
  db: number | undefined
  username: string | undefined
  password: string | undefined
}

const SENTINEL_SHAPE = 'use redis+sentinel://[[username]:password@]host:port[,host:port…]/masterName[/db]'
const CLUSTER_SHAPE = 'use redis+cluster://[[username]:password@]host:port[,host:port…]'
const LIST_SHAPE = 'list servers as host:port,host:port (an IPv6 address in brackets: [::1]:26379)'

/** The topology a URL's scheme asks for; any other scheme is single-server (parseRedisUrl explains what is wrong with it). */
export function urlKind (value: string): TopologyKind {
  // rediss+… is recognised here so that parseTopologyUrl can say TLS is not served with it.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase().replace(/^rediss\+/, 'redis+')
  if (scheme === 'redis+sentinel') return 'sentinel'
  return scheme === 'redis+cluster' ? 'cluster' : 'single'
}

/**
 * One `host[:port]` (or `[v6][:port]`), or `{ host, port }` from an option.
 * `shown` is how the error names the value: quoted when it may be shown,
 * else a note (inside a URL nothing of it is shown).
 */
function parseAddress (item: AddressSetting, setting: string, defaultPort: number, shown: (value: string) => string): Address {
  if (typeof item === 'object' && item !== null && typeof item.host === 'string') {
    const port = item.port === undefined ? defaultPort : parsePort(item.port, `the port of ${item.host} in ${setting}`)
    return { host: checkHost(item.host, setting, shown), port }
  }
  if (typeof item !== 'string') {
    throw new InvalidSettingError(setting, `must list servers as "host:port" strings or { host, port } objects (got ${item === null ? 'null' : typeof item})`, LIST_SHAPE)
  }
  const text = item.trim()
  const match = /^\[([^\]]+)\](?::([^:]*))?$/.exec(text) ?? /^([^:[\]]*)(?::([^:]*))?$/.exec(text)
  if (match === null) throw new InvalidSettingError(setting, `has a server that is not host:port (got ${shown(text)})`, LIST_SHAPE)
  const host = checkHost(match[1] as string, setting, shown)
  const port = match[2] === undefined ? defaultPort : parsePortShown(match[2], setting, shown)
  return { host, port }
}

function parsePortShown (value: string, setting: string, shown: (value: string) => string): number {
  if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535) return Number(value)
  throw new InvalidSettingError(setting, `has a port that is not a whole number from 1 to 65535 (got ${shown(value)})`, LIST_SHAPE)
}

function checkHost (host: string, setting: string, shown: (value: string) => string): string {
  if (host === '' || /[\s/@?#,]/.test(host)) {
    throw new InvalidSettingError(setting, `has a host that cannot be used (got ${shown(host === '' ? 'an empty host' : host)})`, LIST_SHAPE)
  }
  return host
}

/** REDIS_SENTINELS, REDIS_CLUSTER_NODES, or the `sentinels` / `clusterNodes` option. At least one server. */
export function parseAddressList (value: string | readonly AddressSetting[], setting: string, defaultPort: number, secrets: readonly string[]): Address[] {
  const items: unknown = typeof value === 'string' ? value.split(',').filter((part) => part.trim() !== '') : value
  if (!Array.isArray(items) || items.length === 0) {
    throw new InvalidSettingError(setting, typeof value === 'string' || Array.isArray(value) ? 'lists no server' : `must be a list of servers (got ${typeof value})`, LIST_SHAPE)
  }
  return items.map((item: AddressSetting) => parseAddress(item, setting, defaultPort, (text) => text === 'an empty host' ? text : quoted(text, secrets)))
}

/**
 * Parses `redis+sentinel://…` or `redis+cluster://…`. `setting` names where
 * it came from. The user and password are the data credentials, as in a
 * redis:// URL.
 */
export function parseTopologyUrl (value: string, setting: string): ParsedTopologyUrl {
  const kind = urlKind(value) as 'sentinel' | 'cluster'
  const shape = kind === 'sentinel' ? SENTINEL_SHAPE : CLUSTER_SHAPE
  const masked = `(got "${maskUrl(value)}")`
  if (/^rediss\+/i.test(value)) {
    throw new InvalidSettingError(setting, `asks for TLS with ${kind === 'sentinel' ? 'Sentinel' : 'Cluster'}, which this version does not serve ${masked}`, `${shape}, without TLS`)
  }
  const match = /^[a-z+]+:\/\/([^/?#]*)([^?#]*)$/i.exec(value)
  if (match === null) throw new InvalidSettingError(setting, `is not a URL of the form it starts with ${masked}`, `${shape}; percent-encode / ? # in a password`)
  const authority = match[1] as string
  const at = authority.lastIndexOf('@')
  const userinfo = at < 0 ? '' : authority.slice(0, at)
  const colon = userinfo.indexOf(':')
  const username = decodeUrlPart(colon < 0 ? userinfo : userinfo.slice(0, colon))
  const password = colon < 0 ? undefined : decodeUrlPart(userinfo.slice(colon + 1))
  const hosts = authority.slice(at + 1)
  const hidden = (): string => 'not shown: it is part of the URL'
  const addresses = hosts.split(',').map((item) => parseAddress(item, setting, kind === 'sentinel' ? SENTINEL_PORT : CLUSTER_PORT, hidden))
  const segments = (match[2] as string).split('/').slice(1)
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop()
  const [first, second, ...more] = segments
  if (more.length > 0 || (kind === 'cluster' && second !== undefined)) {
    throw new InvalidSettingError(setting, `has more path segments than the form allows ${masked}`, shape)
  }
  const dbText = kind === 'sentinel' ? second : first
  const masterName = kind === 'sentinel' && first !== undefined && first !== '' ? decodeUrlPart(first) : undefined
  return {
    kind,
    addresses,
    masterName,
    db: dbText === undefined || dbText === '' ? undefined : parseDb(dbText, `the database in ${setting}`, [value, ...(password === undefined ? [] : [password])]),
    username,
    password,
  }
}
