import { InvalidSettingError } from '../errors.js'
import { maskUrl, quoted, safeCause, urlPasswordForms } from '../redact.js'

/** What a `redis://` or `rediss://` URL says; fields it does not state are undefined. */
export interface ParsedRedisUrl {
  host: string
  port: number | undefined
  db: number | undefined
  username: string | undefined
  password: string | undefined
  tls: boolean
}

const URL_SHAPE = 'use redis://[[username]:password@]host[:port][/db], or rediss:// for TLS (redis+sentinel://… for Sentinel, redis+cluster://… for Cluster)'

/**
 * Parses a Redis URL. `setting` names where it came from (`REDIS_URL`,
 * `clients.cache.url`, …) so the error can say which one to fix. An error
 * shows no more of the URL than its scheme, and carries Node's URL error only
 * as a safe copy (that error keeps the raw URL, password included, in
 * `input`). `secrets` are the other configured passwords, never shown either.
 */
export function parseRedisUrl (value: string, setting: string, secrets: readonly string[] = []): ParsedRedisUrl {
  const hidden = [...secrets, value, ...urlPasswordForms(value)]
  let url: URL
  try {
    url = new URL(value)
  } catch (error) {
    throw new InvalidSettingError(setting, `is not a valid URL (got "${maskUrl(value)}")`, URL_SHAPE, { cause: safeCause(error, hidden) })
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidSettingError(setting, `must start with redis:// or rediss:// (got "${url.protocol}//")`, URL_SHAPE)
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') {
    // `redis:/:pw@host` parses, with the password in its path: show the scheme only.
    throw new InvalidSettingError(setting, `has no host (got "${maskUrl(value)}")`, URL_SHAPE)
  }
  const path = url.pathname.replace(/^\//, '')
  const password = decodeUrlPart(url.password)
  return {
    host,
    port: url.port === '' ? undefined : parsePort(url.port, `the port in ${setting}`),
    db: path === '' ? undefined : parseDb(path, `the database in ${setting}`, [...hidden, url.password, password]),
    username: decodeUrlPart(url.username),
    password,
    tls: url.protocol === 'rediss:',
  }
}

export function decodeUrlPart (part: string): string | undefined {
  if (part === '') return undefined
  try {
    return decodeURIComponent(part)
  } catch {
    // Not valid percent-encoding: take it as written, as ioredis would.
    return part
  }
}

/** A TCP port: a whole number from 1 to 65535. A bad value is shown unless it holds one of `secrets`. */
export function parsePort (value: string | number, setting: string, secrets: Iterable<string | undefined> = []): number {
  const port = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidSettingError(setting, `must be a whole number from 1 to 65535 (got ${quoted(String(value), secrets)})`, 'set it to the port Redis listens on, usually 6379')
  }
  return port
}

/** A database index: a whole number from 0 (Redis has 16 by default: 0–15). A bad value is shown unless it holds one of `secrets`. */
export function parseDb (value: string | number, setting: string, secrets: Iterable<string | undefined> = []): number {
  const db = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(db) || db < 0) {
    throw new InvalidSettingError(setting, `must be a whole number from 0 (got ${quoted(String(value), secrets)})`, 'set it to a database index such as 0 (Redis has databases 0–15 unless configured otherwise)')
  }
  return db
}

/** A yes/no environment flag: true/1/yes/on or false/0/no/off, any case. A bad value is shown unless it holds one of `secrets`. */
export function parseFlag (value: string, setting: string, secrets: Iterable<string | undefined> = []): boolean {
  const normalised = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(normalised)) return true
  if (['false', '0', 'no', 'off'].includes(normalised)) return false
  throw new InvalidSettingError(setting, `must be true or false (got ${quoted(value, secrets)})`, 'use true/false, 1/0, yes/no or on/off')
}

/** A display form of a connection: `redis://user:***@host:port/db`, never the password. */
export function describeConnection (c: { host: string; port: number; db: number; username?: string | undefined; password?: string | undefined; tls: unknown }): string {
  const scheme = c.tls ? 'rediss' : 'redis'
  const user = c.username === undefined ? '' : encodeURIComponent(c.username)
  const auth = c.password === undefined ? (user === '' ? '' : `${user}@`) : `${user}:***@`
  const host = c.host.includes(':') ? `[${c.host}]` : c.host
  return `${scheme}://${auth}${host}:${c.port}/${c.db}`
}
