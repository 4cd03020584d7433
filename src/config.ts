import { readFileSync } from 'node:fs'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { assertClientName, clientUrlVariable, clientVariable, DEFAULT_CLIENT } from './client-names.js'
import { parseRole, type ConnectionRole } from './client-role.js'
import { conflictAdvice } from './conflict-advice.js'
import { ConflictingSettingsError, InvalidSettingError, PasswordFileError, PasswordRequiredError } from './errors.js'
import { envSecrets, safeCause, urlPasswordForms } from './redact.js'
import { isUrlSetting } from './setting-words.js'
import { describeConnection, parseDb, parseFlag, parsePort, parseRedisUrl, type ParsedRedisUrl } from './redis-url.js'

/*
 * Pure configuration: an environment object and explicit options in, fully
 * resolved connections out. Nothing here touches process.env or the network;
 * the only I/O is reading REDIS_PASSWORD_FILE when it is the password in use.
 *
 * Precedence, field by field: explicit options, then the environment, then
 * defaults. Within one of those layers, two settings that say different things
 * (a password in REDIS_URL and another in REDIS_PASSWORD) are an error, never
 * a silent pick.
 */

export type Env = Record<string, string | undefined>

/** Where to find one Redis server; every field overrides the environment. */
export interface ConnectionSettings {
  /** `redis://[[username]:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url?: string
  /** @default 'localhost' (env `REDIS_HOST`) */
  host?: string
  /** @default 6379 (env `REDIS_PORT`) */
  port?: number
  /** ACL user (env `REDIS_USERNAME`). */
  username?: string
  /** Env `REDIS_PASSWORD` or `REDIS_PASSWORD_FILE`. An empty string means no password. */
  password?: string
  /** @default 0 (env `REDIS_DB`) */
  db?: number
  /** `true` or Node TLS options to connect over TLS (env `REDIS_TLS`, or a `rediss://` URL). */
  tls?: boolean | TlsOptions
}

/** A named client: its own URL (else env `REDIS_<NAME>_URL`, else the default server), and/or a database. */
export interface NamedClientSettings {
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

const NAMED_CLIENT_KEYS = new Set(['url', 'db', 'role'])

export interface ConfigInput extends ConnectionSettings {
  /** @default process.env (read by the caller; this function never reads it) */
  env?: Env
  clients?: Record<string, NamedClientSettings>
  /** Fail when a connection has no password. @default env.NODE_ENV === 'production' */
  requirePassword?: boolean
}

export interface ResolvedConnection {
  /** `default`, or the named client's name. */
  name: string
  host: string
  port: number
  db: number
  username: string | undefined
  password: string | undefined
  tls: TlsOptions | undefined
  /** The setting the password came from (`REDIS_PASSWORD`, `REDIS_URL`, `password option`, …). */
  passwordFrom: string | undefined
  /** The setting that located the server (`REDIS_CACHE_URL`, `REDIS_HOST`, `defaults`, …). */
  locatedBy: string
  /** `redis://user:***@host:port/db`: safe to log. */
  display: string
  /** What the connection is used for (the default client: `command`). */
  role: ConnectionRole
}

export interface ResolvedConfig {
  connections: ResolvedConnection[]
  requirePassword: boolean
}

/** One setting that may supply a field; `read` runs only if its layer is consulted. */
interface Candidate<T> {
  setting: string
  read: () => T | undefined
}

/**
 * The first layer (options, then env) that supplies the field decides it;
 * inside that layer every supplied value must agree.
 */
function pick<T> (layers: Array<Array<Candidate<T>>>, same: (a: T, b: T) => boolean = Object.is): { value: T; setting: string } | undefined {
  for (const layer of layers) {
    let found: { value: T; setting: string } | undefined
    for (const candidate of layer) {
      const value = candidate.read()
      if (value === undefined) continue
      if (found === undefined) found = { value, setting: candidate.setting }
      else if (!same(found.value, value)) {
        throw new ConflictingSettingsError(found.setting, candidate.setting, conflictAdvice(found.setting, candidate.setting).advice)
      }
    }
    if (found !== undefined) return found
  }
  return undefined
}

/** Environment values: an empty string counts as unset. */
function envValue (env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value === '' ? undefined : value
}

/**
 * The path for a message. A value without a directory separator is not shown:
 * it may well be the password itself, set in REDIS_PASSWORD_FILE by mistake.
 */
function shownPath (path: string): string {
  return /[/\\]/.test(path) ? path : 'not shown: a name without a directory, which may be the password itself'
}

function readPasswordFile (path: string): string {
  let content: string
  try {
    content = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error'
    // The fs error's message and `path` hold the value: only a scrubbed copy comes along.
    throw new PasswordFileError(shownPath(path), `cannot be read (${code})`, { cause: safeCause(error, [path]) })
  }
  const password = content.replace(/[\r\n]+$/, '')
  if (password === '') throw new PasswordFileError(shownPath(path), 'is empty')
  return password
}

/** REDIS_PASSWORD or REDIS_PASSWORD_FILE: one of them, never both. */
function envPassword (env: Env): Candidate<string> {
  const inline = envValue(env, 'REDIS_PASSWORD')
  const file = envValue(env, 'REDIS_PASSWORD_FILE')
  if (inline !== undefined && file !== undefined) {
    throw new ConflictingSettingsError('REDIS_PASSWORD', 'REDIS_PASSWORD_FILE', conflictAdvice('REDIS_PASSWORD', 'REDIS_PASSWORD_FILE').advice)
  }
  if (file !== undefined) return { setting: 'REDIS_PASSWORD_FILE', read: () => readPasswordFile(file) }
  return { setting: 'REDIS_PASSWORD', read: () => inline }
}

/** The URL in use for a connection: an option URL hides the environment's. */
interface UrlSource { value: string; setting: string; layer: 'option' | 'env' }

function option<T> (setting: string, value: T | undefined): Candidate<T> {
  return { setting, read: () => value }
}

/** A boolean-ish view of `tls` for agreement checks; an options object means on. */
const sameTls = (a: boolean | TlsOptions, b: boolean | TlsOptions): boolean => (a !== false) === (b !== false)

/** What one resolution reads: the options, the environment, and every password they hold (never shown in an error). */
interface Sources { input: ConfigInput; env: Env; secrets: readonly string[] }

/**
 * Resolves one connection. `serverSettings` says whether host, port and db
 * settings of the default connection (options and REDIS_HOST/PORT/DB) apply:
 * they do for the default client and for named clients without a URL.
 * `clientDb` is a named client's own `db`: it overrides everything for a
 * client on the default server, and sits beside its URL otherwise.
 */
function resolveOne (name: string, { input, env, secrets }: Sources, urlSource: UrlSource | undefined, serverSettings: boolean, clientDb?: Candidate<number>): ResolvedConnection {
  const url: ParsedRedisUrl | undefined = urlSource === undefined ? undefined : parseRedisUrl(urlSource.value, urlSource.setting, secrets)
  const fromUrl = <T>(layer: 'option' | 'env', read: (u: ParsedRedisUrl) => T | undefined): Array<Candidate<T>> =>
    url !== undefined && urlSource?.layer === layer ? [{ setting: urlSource.setting, read: () => read(url) }] : []

  const host = pick<string>([
    [...fromUrl('option', (u) => u.host), ...(serverSettings ? [option('host option', input.host === '' ? undefined : input.host)] : [])],
    [...fromUrl('env', (u) => u.host), ...(serverSettings ? [{ setting: 'REDIS_HOST', read: () => envValue(env, 'REDIS_HOST') }] : [])],
  ])
  const port = pick<number>([
    [...fromUrl('option', (u) => u.port), ...(serverSettings ? [{ setting: 'port option', read: () => input.port === undefined ? undefined : parsePort(input.port, 'port option', secrets) }] : [])],
    [...fromUrl('env', (u) => u.port), ...(serverSettings ? [{ setting: 'REDIS_PORT', read: () => mapDefined(envValue(env, 'REDIS_PORT'), (v) => parsePort(v, 'REDIS_PORT', secrets)) }] : [])],
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
    [...fromUrl('env', (u) => u.password), envPassword(env)],
  ])
  const tls = pick<boolean | TlsOptions>([
    [option('tls option', input.tls), ...fromUrl('option', (u) => u.tls || undefined)],
    [...fromUrl('env', (u) => u.tls || undefined), { setting: 'REDIS_TLS', read: () => mapDefined(envValue(env, 'REDIS_TLS'), (v) => parseFlag(v, 'REDIS_TLS', secrets)) }],
  ], sameTls)

  const resolved = {
    name,
    host: host?.value ?? 'localhost',
    port: port?.value ?? 6379,
    db: db?.value ?? 0,
    username: username?.value,
    password: password?.value,
    tls: tls === undefined || tls.value === false ? undefined : tls.value === true ? {} : tls.value,
    passwordFrom: password?.setting,
    locatedBy: urlSource?.setting ?? host?.setting ?? port?.setting ?? 'defaults',
  }
  return { ...resolved, display: describeConnection(resolved), role: 'command' }
}

function mapDefined<T, R> (value: T | undefined, map: (v: T) => R): R | undefined {
  return value === undefined ? undefined : map(value)
}

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
 * error can leave out a value that holds one: REDIS_PASSWORD, the password
 * option, and the password part of every URL, parsable or not. (The content
 * of REDIS_PASSWORD_FILE is read only when it is the password in use.)
 */
function knownSecrets (input: ConfigInput, env: Env): string[] {
  const clients: unknown[] = typeof input.clients === 'object' && input.clients !== null ? Object.values(input.clients) : []
  const urls = [input.url, ...clients.map((c) => (c as NamedClientSettings | null | undefined)?.url)]
  return [
    ...envSecrets(env),
    ...(typeof input.password === 'string' ? [input.password] : []),
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
  const sources: Sources = { input, env, secrets }
  const requirePassword = input.requirePassword ?? env.NODE_ENV === 'production'

  const defaultUrl: UrlSource | undefined =
    input.url !== undefined && input.url !== '' ? { value: input.url, setting: 'url option', layer: 'option' }
      : envValue(env, 'REDIS_URL') !== undefined ? { value: envValue(env, 'REDIS_URL') as string, setting: 'REDIS_URL', layer: 'env' }
        : undefined
  const connections = [resolveOne(DEFAULT_CLIENT, sources, defaultUrl, true)]

  for (const [name, settings] of Object.entries(input.clients ?? {})) {
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
    connections.push({
      ...ownUrl === undefined
        // No URL of its own: the default server, in its own database if one is given.
        ? resolveOne(name, sources, defaultUrl, true, clientDb)
        : resolveOne(name, sources, ownUrl, false, clientDb),
      role,
    })
  }

  for (const connection of connections) {
    if (requirePassword && connection.password === undefined) {
      const where = isUrlSetting(connection.locatedBy)
        ? `set REDIS_PASSWORD (or REDIS_PASSWORD_FILE), or put the password in ${connection.locatedBy}`
        : 'set REDIS_PASSWORD (or REDIS_PASSWORD_FILE), or put the password in REDIS_URL'
      throw new PasswordRequiredError(connection.name, where)
    }
  }
  return { connections, requirePassword }
}
