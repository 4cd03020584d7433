import { ConflictingSettingsError } from '../errors.js'
import { envPassword } from './password-sources.js'
import { envValue, option, pick } from './pick.js'
import { CLUSTER_PORT, parseAddressList, SENTINEL_PORT, urlKind, type TopologyKind } from './topology-url.js'
import type { Address, ConfigInput, Env, ResolvedTopology } from './types.js'

/*
 * Which topology a connection uses, one server, Sentinel or Cluster, and the
 * settings that say so. Options override the environment as a whole: the
 * first layer that locates Redis at all decides; inside it, settings of two
 * topologies (REDIS_HOST beside REDIS_SENTINELS, a redis:// URL beside
 * REDIS_CLUSTER_NODES) are a conflict, never a silent pick.
 */

/** The URL in use for a connection: an option URL hides the environment's. */
export interface UrlSource { value: string; setting: string; layer: 'option' | 'env' }

/** Where a connection goes, before its other fields are resolved. */
export interface Location {
  kind: TopologyKind
  /** The URL that locates it, of the kind's form. */
  url: UrlSource | undefined
  /** Sentinels or nodes from a list setting (REDIS_SENTINELS, the clusterNodes option, …). */
  addresses: Address[] | undefined
  /** That list setting. */
  setting: string | undefined
  /** Whether the default connection's host, port and db settings apply (not beside a named client's own URL). */
  serverSettings: boolean
}

/** One setting that locates Redis, and how. */
interface Statement { kind: TopologyKind; setting: string; url?: UrlSource; list?: () => Address[] }

/** The advice of every topology conflict (check --fix-auth recognises it). */
export const TOPOLOGY_ADVICE = 'a client reaches one server (REDIS_URL, or REDIS_HOST and REDIS_PORT), a Sentinel set (REDIS_SENTINELS, or a redis+sentinel:// URL) or a Cluster (REDIS_CLUSTER_NODES, or a redis+cluster:// URL), each said once'

function topologyAdvice (kept: Statement, other: Statement): string {
  return `${TOPOLOGY_ADVICE}: keep ${kept.setting} and remove ${other.setting}, or the other way round`
}

function layerStatements (input: ConfigInput, env: Env, secrets: readonly string[]): Statement[][] {
  const list = (kind: 'sentinel' | 'cluster', setting: string, value: string | NonNullable<ConfigInput['sentinels']>): Statement =>
    ({ kind, setting, list: () => parseAddressList(value, setting, kind === 'sentinel' ? SENTINEL_PORT : CLUSTER_PORT, secrets) })
  const url = (value: string, setting: string, layer: 'option' | 'env'): Statement => ({ kind: urlKind(value), setting, url: { value, setting, layer } })
  const options: Statement[] = []
  if (input.url !== undefined && input.url !== '') options.push(url(input.url, 'url option', 'option'))
  if (input.host !== undefined && input.host !== '') options.push({ kind: 'single', setting: 'host option' })
  if (input.port !== undefined) options.push({ kind: 'single', setting: 'port option' })
  if (input.sentinels !== undefined) options.push(list('sentinel', 'sentinels option', input.sentinels))
  if (input.clusterNodes !== undefined) options.push(list('cluster', 'clusterNodes option', input.clusterNodes))
  const environment: Statement[] = []
  const redisUrl = envValue(env, 'REDIS_URL')
  if (redisUrl !== undefined) environment.push(url(redisUrl, 'REDIS_URL', 'env'))
  for (const name of ['REDIS_HOST', 'REDIS_PORT']) if (envValue(env, name) !== undefined) environment.push({ kind: 'single', setting: name })
  const sentinels = envValue(env, 'REDIS_SENTINELS')
  if (sentinels !== undefined) environment.push(list('sentinel', 'REDIS_SENTINELS', sentinels))
  const nodes = envValue(env, 'REDIS_CLUSTER_NODES')
  if (nodes !== undefined) environment.push(list('cluster', 'REDIS_CLUSTER_NODES', nodes))
  return [options, environment]
}

/** Where the default connection (and every named client without a URL of its own) goes. */
export function defaultLocation (input: ConfigInput, env: Env, secrets: readonly string[]): Location {
  const layers = layerStatements(input, env, secrets)
  const layer = layers.find((statements) => statements.length > 0)
  if (layer === undefined) return { kind: 'single', url: undefined, addresses: undefined, setting: undefined, serverSettings: true }
  const [first, ...others] = layer as [Statement, ...Statement[]]
  for (const other of others) {
    // Two settings of one server are checked field by field later; anything else said twice is a conflict.
    if (other.kind !== first.kind || first.kind !== 'single') throw new ConflictingSettingsError(first.setting, other.setting, topologyAdvice(first, other))
  }
  if (first.kind === 'single') {
    // Beside a host option, REDIS_URL still supplies what the options leave out, as long as it is a redis:// URL.
    const url = layers.flat().find((s) => s.url !== undefined && s.kind === 'single')?.url
    return { kind: 'single', url, addresses: undefined, setting: undefined, serverSettings: true }
  }
  return { kind: first.kind, url: first.url, addresses: first.list?.(), setting: first.list === undefined ? undefined : first.setting, serverSettings: true }
}

/** Where a named client with a URL of its own goes: that URL alone decides. */
export function ownUrlLocation (url: UrlSource): Location {
  return { kind: urlKind(url.value), url, addresses: undefined, setting: undefined, serverSettings: false }
}

type SentinelCredentials = Pick<Extract<ResolvedTopology, { kind: 'sentinel' }>, 'sentinelUsername' | 'sentinelPassword' | 'sentinelPasswordFrom'>

/**
 * How to authenticate to the sentinels: the sentinel options, else
 * REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD(_FILE), else no user
 * and the data password, as the Bitnami chart sets sentinels up by default
 * (one password for Redis and its sentinels). A sentinel without a password
 * accepts the HELLO … AUTH ioredis sends, so the default costs nothing there.
 */
export function sentinelCredentials (input: ConfigInput, env: Env, dataPassword: { value: string; setting: string } | undefined): SentinelCredentials {
  const username = pick<string>([
    [option('sentinelUsername option', input.sentinelUsername === '' ? undefined : input.sentinelUsername)],
    [{ setting: 'REDIS_SENTINEL_USERNAME', read: () => envValue(env, 'REDIS_SENTINEL_USERNAME') }],
  ])
  const password = pick<string>([
    [option('sentinelPassword option', input.sentinelPassword === '' ? undefined : input.sentinelPassword)],
    [envPassword(env, 'REDIS_SENTINEL_')],
  ]) ?? dataPassword
  return { sentinelUsername: username?.value, sentinelPassword: password?.value, sentinelPasswordFrom: password?.setting }
}

function hostPort ({ host, port }: Address): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** A display form: `redis+sentinel://user:***@h1:26379,h2:26379/mymaster/0`, `redis+cluster://:***@h1:7000,h2:7001`; never a password. */
export function describeTopology (topology: Exclude<ResolvedTopology, { kind: 'single' }>, c: { db: number; username?: string | undefined; password?: string | undefined }): string {
  const user = c.username === undefined ? '' : encodeURIComponent(c.username)
  const auth = c.password === undefined ? (user === '' ? '' : `${user}@`) : `${user}:***@`
  if (topology.kind === 'cluster') return `redis+cluster://${auth}${topology.nodes.map(hostPort).join(',')}`
  return `redis+sentinel://${auth}${topology.sentinels.map(hostPort).join(',')}/${encodeURIComponent(topology.masterName)}/${c.db}`
}
