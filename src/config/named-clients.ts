import { InvalidSettingError } from '../errors.js'
import { parseRole } from '../client-role.js'
import { assertClientName, clientUrlVariable, clientVariable } from './client-names.js'
import { envValue, mapDefined, type Candidate } from './pick.js'
import { parseDb } from './redis-url.js'
import { resolveConnection, type Sources } from './resolve-one.js'
import { ownUrlLocation, type Location, type UrlSource } from './topology.js'
import type { NamedClientSettings, ResolvedConnection } from './types.js'

/*
 * Named clients (`clients: { cache: { url?, db?, role? } }`, env
 * REDIS_<NAME>_URL and REDIS_<NAME>_ROLE): each on a URL of its own, of any
 * form, or on the default connection's topology with a database of its own.
 */

const NAMED_CLIENT_KEYS = new Set(['url', 'db', 'role'])

export function resolveNamedClient (name: string, settings: NamedClientSettings | undefined, sources: Sources, defaultLocation: Location): ResolvedConnection {
  const { env, secrets } = sources
  assertClientName(name)
  const unknown = Object.keys(settings ?? {}).find((key) => !NAMED_CLIENT_KEYS.has(key))
  if (unknown !== undefined) {
    throw new InvalidSettingError(`clients.${name}.${unknown} option`, 'is not a setting of a named client', 'give a named client url, db and role only; ioredis options go at the top level, for every client')
  }
  const roleVariable = clientVariable(name, 'ROLE')
  const role = settings?.role !== undefined ? parseRole(settings.role, `clients.${name}.role option`)
    : envValue(env, roleVariable) !== undefined ? parseRole(envValue(env, roleVariable), roleVariable) : 'command'
  const urlVariable = clientUrlVariable(name)
  const clientDb: Candidate<number> = { setting: `clients.${name}.db`, read: () => mapDefined(settings?.db, (v) => parseDb(v, `clients.${name}.db`, secrets)) }
  const ownUrl: UrlSource | undefined =
    settings?.url !== undefined && settings.url !== '' ? { value: settings.url, setting: `clients.${name}.url`, layer: 'option' }
      : envValue(env, urlVariable) !== undefined ? { value: envValue(env, urlVariable) as string, setting: urlVariable, layer: 'env' }
        : undefined
  // No URL of its own: the default connection's server (or Sentinel set, or Cluster), in its own database if one is given.
  const connection = resolveConnection(name, sources, ownUrl === undefined ? defaultLocation : ownUrlLocation(ownUrl), clientDb)
  if (connection.topology.kind === 'cluster' && role !== 'command') {
    throw new InvalidSettingError(ownUrl?.setting ?? (settings?.role !== undefined ? `clients.${name}.role option` : roleVariable), `puts the ${role} client "${name}" on a Redis Cluster, where this version serves the command role only`, `give "${name}" a URL of one server or a Sentinel set (REDIS_${urlVariable.slice(6)}), or leave its role at command`)
  }
  return { ...connection, role }
}
