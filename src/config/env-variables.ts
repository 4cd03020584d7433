import { InvalidSettingError } from '../errors.js'
import { assertClientName, clientVariable } from './client-names.js'
import { envValue } from './pick.js'
import type { ConfigInput, Env } from './types.js'

/*
 * The Sentinel and Cluster variables this package reads, and the checks that
 * none is silently ignored: a misspelt one (REDIS_SENTINEL_HOSTS,
 * REDIS_CLUSTER_URL) fails registration, and so does a sentinel setting
 * while nothing uses Sentinel.
 */

export const SENTINEL_VARIABLES = ['REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_SENTINEL_PASSWORD_FILE'] as const
export const CLUSTER_VARIABLES = ['REDIS_CLUSTER_NODES'] as const

const KNOWN = new Set<string>([...SENTINEL_VARIABLES, ...CLUSTER_VARIABLES])

/** True for REDIS_<NAME>_URL or REDIS_<NAME>_ROLE of a usable client name (REDIS_CLUSTER_CACHE_URL: clusterCache). */
function isClientVariable (key: string): boolean {
  const match = /^REDIS_([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_(URL|ROLE)$/.exec(key)
  if (match === null) return false
  const name = (match[1] as string).toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
  try {
    assertClientName(name)
  } catch {
    return false
  }
  return clientVariable(name, match[2] as 'URL' | 'ROLE') === key
}

/** Fails on a REDIS_SENTINEL* or REDIS_CLUSTER* variable this package does not read. */
export function checkTopologyVariables (env: Env): void {
  for (const key of Object.keys(env).sort()) {
    if (!/^REDIS_(SENTINEL|CLUSTER)/.test(key) || envValue(env, key) === undefined || KNOWN.has(key) || isClientVariable(key)) continue
    throw new InvalidSettingError(key, 'is not a setting of fastify-resilient-redis', `Sentinel takes ${SENTINEL_VARIABLES.join(', ')} (or REDIS_URL=redis+sentinel://…), Cluster takes REDIS_CLUSTER_NODES (or REDIS_URL=redis+cluster://…): correct its name, or remove it`)
  }
}

/** Fails on a sentinel setting (name, user, password) while no connection uses Sentinel: it would be ignored. */
export function checkSentinelSettingsUsed (input: ConfigInput, env: Env, sentinelInUse: boolean): void {
  if (sentinelInUse) return
  const options = (['sentinelName', 'sentinelUsername', 'sentinelPassword'] as const).filter((key) => input[key] !== undefined).map((key) => `${key} option`)
  const variables = SENTINEL_VARIABLES.filter((key) => key !== 'REDIS_SENTINELS' && envValue(env, key) !== undefined)
  const unused = [...options, ...variables][0]
  if (unused === undefined) return
  throw new InvalidSettingError(unused, 'is set, but no connection uses Redis Sentinel', 'set the sentinels (REDIS_SENTINELS, the sentinels option, or a redis+sentinel:// URL) to use it, or remove it')
}
