import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { InvalidSettingError } from '../errors.js'
import { mapDefined, envValue, option, pick, type Candidate } from './pick.js'
import { envPassword } from './password-sources.js'
import { describeConnection, parseDb, parseFlag, parsePort, parseRedisUrl } from './redis-url.js'
import { describeTopology, sentinelCredentials, type Location } from './topology.js'
import { parseTopologyUrl, type ParsedTopologyUrl } from './topology-url.js'
import type { ConfigInput, Env, ResolvedConnection, ResolvedTopology } from './types.js'

/*
 * One connection, field by field: where it goes (its Location, decided in
 * topology.ts), then database, credentials and TLS, each from the first
 * layer (options, then the environment) that sets it.
 */

/** What one resolution reads: the options, the environment, and every password they hold (never shown in an error). */
export interface Sources { input: ConfigInput; env: Env; secrets: readonly string[] }

/** What a URL of any form says; fields it does not state are undefined. */
interface UrlFields {
  host?: string | undefined
  port?: number | undefined
  db: number | undefined
  username: string | undefined
  password: string | undefined
  tls?: boolean
  masterName?: string | undefined
}

/** A boolean-ish view of `tls` for agreement checks; an options object means on. */
const sameTls = (a: boolean | TlsOptions, b: boolean | TlsOptions): boolean => (a !== false) === (b !== false)

/**
 * Resolves one connection. `location.serverSettings` says whether host, port
 * and db settings of the default connection (options and REDIS_HOST/PORT/DB)
 * apply: they do for the default client and for named clients without a URL.
 * `clientDb` is a named client's own `db`: it overrides everything for a
 * client on the default server, and sits beside its URL otherwise.
 */
export function resolveConnection (name: string, { input, env, secrets }: Sources, location: Location, clientDb?: Candidate<number>): ResolvedConnection {
  const { url: urlSource, kind, serverSettings } = location
  const url: UrlFields | undefined = urlSource === undefined ? undefined
    : kind === 'single' ? parseRedisUrl(urlSource.value, urlSource.setting, secrets) : parseTopologyUrl(urlSource.value, urlSource.setting)
  const fromUrl = <T>(layer: 'option' | 'env', read: (u: UrlFields) => T | undefined): Array<Candidate<T>> =>
    url !== undefined && urlSource?.layer === layer ? [{ setting: urlSource.setting, read: () => read(url) }] : []
  const single = kind === 'single' && serverSettings

  const host = kind !== 'single' ? undefined : pick<string>([
    [...fromUrl('option', (u) => u.host), ...(single ? [option('host option', input.host === '' ? undefined : input.host)] : [])],
    [...fromUrl('env', (u) => u.host), ...(single ? [{ setting: 'REDIS_HOST', read: () => envValue(env, 'REDIS_HOST') }] : [])],
  ])
  const port = kind !== 'single' ? undefined : pick<number>([
    [...fromUrl('option', (u) => u.port), ...(single ? [{ setting: 'port option', read: () => input.port === undefined ? undefined : parsePort(input.port, 'port option', secrets) }] : [])],
    [...fromUrl('env', (u) => u.port), ...(single ? [{ setting: 'REDIS_PORT', read: () => mapDefined(envValue(env, 'REDIS_PORT'), (v) => parsePort(v, 'REDIS_PORT', secrets)) }] : [])],
  ])
  const ownDb = clientDb === undefined ? [] : [clientDb]
  const db = pick<number>([
    serverSettings ? ownDb : [],
    [...fromUrl('option', (u) => u.db), ...(serverSettings ? [option('db option', input.db)] : ownDb)],
    [...fromUrl('env', (u) => u.db), ...(serverSettings ? [{ setting: 'REDIS_DB', read: () => mapDefined(envValue(env, 'REDIS_DB'), (v) => parseDb(v, 'REDIS_DB', secrets)) }] : [])],
  ])
  const username = pick<string>([
    [...fromUrl('option', (u) => u.username), option('username option', input.username === '' ? undefined : input.username)],
    [...fromUrl('env', (u) => u.username), { setting: 'REDIS_USERNAME', read: () => envValue(env, 'REDIS_USERNAME') }],
  ])
  const password = pick<string>([
    [...fromUrl('option', (u) => u.password), option('password option', input.password === '' ? undefined : input.password)],
    [...fromUrl('env', (u) => u.password), envPassword(env, 'REDIS_')],
  ])
  const tls = pick<boolean | TlsOptions>([
    [option('tls option', input.tls), ...fromUrl('option', (u) => u.tls === true || undefined)],
    [...fromUrl('env', (u) => u.tls === true || undefined), { setting: 'REDIS_TLS', read: () => mapDefined(envValue(env, 'REDIS_TLS'), (v) => parseFlag(v, 'REDIS_TLS', secrets)) }],
  ], sameTls)
  const tlsOn = tls !== undefined && tls.value !== false

  let topology: ResolvedTopology = { kind: 'single' }
  if (kind !== 'single') {
    if (tlsOn) {
      throw new InvalidSettingError(tls.setting, `turns TLS on, which this version does not serve with ${kind === 'sentinel' ? 'Sentinel' : 'Cluster'}`, `remove ${tls.setting}, or connect to one server over TLS`)
    }
    if (kind === 'cluster' && db !== undefined && db.value !== 0) {
      throw new InvalidSettingError(db.setting, `asks for database ${db.value}, but a Redis Cluster has database 0 only`, 'remove it (or set 0); keep apps apart with a key prefix (keyPrefix) instead')
    }
    const addresses = location.addresses ?? (url as ParsedTopologyUrl).addresses
    const nameOption = option('sentinelName option', input.sentinelName)
    const nameEnv = { setting: 'REDIS_SENTINEL_NAME', read: () => envValue(env, 'REDIS_SENTINEL_NAME') }
    // A named client's own URL names its master first; the app-wide settings are its fallback.
    const masterName = pick<string>(serverSettings
      ? [[...fromUrl('option', (u) => u.masterName), nameOption], [...fromUrl('env', (u) => u.masterName), nameEnv]]
      : [[...fromUrl('option', (u) => u.masterName), ...fromUrl('env', (u) => u.masterName)], [nameOption], [nameEnv]])
    topology = kind === 'cluster'
      ? { kind, nodes: addresses }
      : {
          kind,
          sentinels: addresses,
          masterName: masterName?.value ?? 'mymaster',
          ...sentinelCredentials(input, env, password),
        }
  }

  const first = topology.kind === 'sentinel' ? topology.sentinels[0] : topology.kind === 'cluster' ? topology.nodes[0] : undefined
  const resolved = {
    name,
    host: first?.host ?? host?.value ?? 'localhost',
    port: first?.port ?? port?.value ?? 6379,
    db: db?.value ?? 0,
    username: username?.value,
    password: password?.value,
    tls: !tlsOn ? undefined : tls.value === true ? {} : tls.value as TlsOptions,
    passwordFrom: password?.setting,
    locatedBy: urlSource?.setting ?? location.setting ?? host?.setting ?? port?.setting ?? 'defaults',
  }
  return {
    ...resolved,
    display: topology.kind === 'single' ? describeConnection(resolved) : describeTopology(topology, resolved),
    role: 'command',
    topology,
  }
}
