import { DEFAULT_CLIENT } from './client-names.js'
import { InvalidSettingError, PasswordRequiredError } from '../errors.js'
import { envSecrets, urlPasswordForms } from '../redact.js'
import { checkSentinelSettingsUsed, checkTopologyVariables } from './env-variables.js'
import { resolveNamedClient } from './named-clients.js'
import { parseDb } from './redis-url.js'
import { resolveConnection, type Sources } from './resolve-one.js'
import { isUrlSetting } from './setting-words.js'
import { defaultLocation } from './topology.js'
import type { ConfigInput, NamedClientSettings, ResolvedConfig } from './types.js'

/*
 * Pure configuration: an environment object and explicit options in, fully
 * resolved connections out. Nothing here touches process.env or the network;
 * the only I/O is reading a *_PASSWORD_FILE when it is the password in use.
 *
 * Precedence, field by field: explicit options, then the environment, then
 * defaults. Within one of those layers, two settings that say different things
 * (a password in REDIS_URL and another in REDIS_PASSWORD, REDIS_HOST beside
 * REDIS_SENTINELS) are an error, never a silent pick.
 */

function checkTypes (input: ConfigInput, secrets: readonly string[]): void {
  const expect = (setting: string, value: unknown, type: string): void => {
    if (value !== undefined && typeof value !== type) {
      throw new InvalidSettingError(`${setting} option`, `must be a ${type} (got ${typeof value})`, `pass a ${type} or leave it out`)
    }
  }
  expect('url', input.url, 'string')
  expect('host', input.host, 'string')
  expect('username', input.username, 'string')
  expect('password', input.password, 'string')
  expect('requirePassword', input.requirePassword, 'boolean')
  expect('sentinelName', input.sentinelName, 'string')
  expect('sentinelUsername', input.sentinelUsername, 'string')
  expect('sentinelPassword', input.sentinelPassword, 'string')
  for (const key of ['sentinels', 'clusterNodes'] as const) {
    if (input[key] !== undefined && !Array.isArray(input[key])) {
      throw new InvalidSettingError(`${key} option`, `must be an array of servers (got ${typeof input[key]})`, "pass ['host:port', …] or [{ host, port }, …]")
    }
  }
  if (input.db !== undefined) parseDb(input.db, 'db option', secrets)
  if (input.tls !== undefined && typeof input.tls !== 'boolean' && (typeof input.tls !== 'object' || input.tls === null)) {
    throw new InvalidSettingError('tls option', `must be true, false or TLS options (got ${typeof input.tls})`, 'pass true, or an object of node:tls connect options')
  }
  if (input.clients !== undefined && (typeof input.clients !== 'object' || input.clients === null || Array.isArray(input.clients))) {
    throw new InvalidSettingError('clients option', 'must be an object such as { cache: { db: 1 } }', 'name each client and give it a url and/or db')
  }
}

/**
 * Every password the input mentions, read before anything is checked, so an
 * error can leave out a value that holds one: REDIS_PASSWORD,
 * REDIS_SENTINEL_PASSWORD, the password options, and the password part of
 * every URL, parsable or not. (A *_PASSWORD_FILE is read only when it is the
 * password in use.)
 */
function knownSecrets (input: ConfigInput, env: Record<string, string | undefined>): string[] {
  const clients: unknown[] = typeof input.clients === 'object' && input.clients !== null ? Object.values(input.clients) : []
  const urls = [input.url, ...clients.map((c) => (c as NamedClientSettings | null | undefined)?.url)]
  return [
    ...envSecrets(env),
    ...[input.password, input.sentinelPassword].filter((p): p is string => typeof p === 'string'),
    ...urls.flatMap((url) => typeof url === 'string' ? urlPasswordForms(url) : []),
  ]
}

/**
 * Resolves the default connection and every named client.
 * Throws a coded error (`FRR_ERR_*`) naming the setting for any bad input.
 */
export function resolveConfig (input: ConfigInput = {}): ResolvedConfig {
  const env = input.env ?? {}
  const secrets = knownSecrets(input, env)
  checkTypes(input, secrets)
  checkTopologyVariables(env)
  const sources: Sources = { input, env, secrets }
  const requirePassword = input.requirePassword ?? env.NODE_ENV === 'production'

  const location = defaultLocation(input, env, secrets)
  const connections = [resolveConnection(DEFAULT_CLIENT, sources, location)]
  for (const [name, settings] of Object.entries(input.clients ?? {})) {
    connections.push(resolveNamedClient(name, settings, sources, location))
  }

  for (const connection of connections) {
    if (requirePassword && connection.password === undefined) {
      const where = isUrlSetting(connection.locatedBy)
        ? `set REDIS_PASSWORD (or REDIS_PASSWORD_FILE), or put the password in ${connection.locatedBy}`
        : 'set REDIS_PASSWORD (or REDIS_PASSWORD_FILE), or put the password in REDIS_URL'
      throw new PasswordRequiredError(connection.name, where)
    }
  }
  checkSentinelSettingsUsed(input, env, connections.some((c) => c.topology.kind === 'sentinel'))
  return { connections, requirePassword }
}
