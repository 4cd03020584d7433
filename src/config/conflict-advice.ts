import { isUrlSetting, settingName as named } from './setting-words.js'

/*
 * What to do about two settings that disagree, written once, so that the
 * error's message (config.ts) and `check --fix-auth` (cli/fixes.ts) say the
 * same thing: the message carries `advice`, and the first fix is that advice
 * with where to make the change. Every conflict resolveConfig finds sets a URL
 * against another setting of the same layer (its password against
 * REDIS_PASSWORD, its host against REDIS_HOST, rediss:// against
 * REDIS_TLS=false, …); REDIS_PASSWORD against REDIS_PASSWORD_FILE is the one
 * other kind.
 */

export interface ConflictAdvice {
  /** What to change, for the error message. */
  advice: string
  /** Anything else worth knowing, after the advice, for `--fix-auth`. */
  details: string[]
}

const PASSWORD_SETTINGS = new Set(['REDIS_PASSWORD', 'REDIS_PASSWORD_FILE', 'password option'])
const WHAT: Record<string, string> = {
  REDIS_HOST: 'host', 'host option': 'host',
  REDIS_PORT: 'port', 'port option': 'port',
  REDIS_DB: 'database', 'db option': 'database',
  REDIS_USERNAME: 'ACL user', 'username option': 'ACL user',
}

export function conflictAdvice (first: string, second: string): ConflictAdvice {
  if (second === `${first}_FILE`) {
    return {
      advice: `set only one of ${first} and ${second}: ${second} when the password is mounted as a file (Docker or Kubernetes secret), ${first} otherwise`,
      details: [],
    }
  }
  const [url, other] = isUrlSetting(first) ? [first, second] : [second, first]
  if (PASSWORD_SETTINGS.has(other)) {
    const home = other === 'REDIS_PASSWORD_FILE' ? 'the file REDIS_PASSWORD_FILE names' : named(other)
    return {
      advice: `keep the password only in ${named(other)} and remove it from ${named(url)} (redis://host:port/db, or redis://user@host:port/db for an ACL user)`,
      details: [`if the URL held the right password, put that value in ${home} first`],
    }
  }
  if (other === 'REDIS_TLS' || other === 'tls option') {
    return {
      advice: `${named(url)} starts with rediss://, which turns TLS on, while ${named(other)} turns it off: use redis:// in ${named(url)} for a plain connection, or remove ${named(other)}`,
      details: [],
    }
  }
  const what = WHAT[other] ?? (other.endsWith('.db') ? 'database' : 'value')
  return {
    advice: `${named(url)} already sets the ${what}: remove ${named(other)}, or make it match the ${what} in ${named(url)}`,
    details: [],
  }
}
