/*
 * Keeping secrets out of every string we log, return or rethrow.
 *
 * ioredis keeps the raw command on its errors: a failed HELLO/AUTH carries the
 * password in `err.command.args`. We never pass such an error on; we build a
 * new one from its scrubbed message.
 */

const MASK = '***'

/** The forms a secret can take inside a message: as written and percent-encoded. */
function secretForms (secrets: Iterable<string | undefined>): string[] {
  const forms = new Set<string>()
  for (const secret of secrets) {
    if (secret === undefined || secret === '') continue
    forms.add(secret)
    forms.add(encodeURIComponent(secret))
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...forms].sort((a, b) => b.length - a.length)
}

/** Replaces every occurrence of every secret in `text` with `***`. */
export function scrubText (text: string, secrets: Iterable<string | undefined>): string {
  let out = text
  for (const form of secretForms(secrets)) out = out.split(form).join(MASK)
  return out
}

/**
 * What an error message may show of a URL that could not be used: its scheme
 * and nothing else (`redis://***`). Whatever follows the scheme may hold a
 * password, also when the URL parses: `redis:/:pw@host` has no host, and the
 * password sits in its path.
 */
export function maskUrl (url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? ''
  return `${scheme}//${MASK}`
}

/**
 * The password part of a URL-shaped value, as written and decoded, found
 * without parsing it (so also in a URL that `new URL()` rejects): anything
 * between `scheme://user:` and the last `@` before a `/`.
 */
export function urlPasswordForms (value: string): string[] {
  const raw = /^[^:/]+:\/\/[^/@]*?:([^/]*)@/.exec(value)?.[1]
  if (raw === undefined || raw === '') return []
  try {
    return [raw, decodeURIComponent(raw)]
  } catch {
    return [raw]
  }
}

/**
 * Every password an environment mentions, for scrubbing even when the
 * configuration cannot be resolved: REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD
 * and the password part of every REDIS_*URL.
 */
export function envSecrets (env: Record<string, string | undefined>): string[] {
  const secrets: string[] = []
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue
    if (key === 'REDIS_PASSWORD' || key === 'REDIS_SENTINEL_PASSWORD') secrets.push(value)
    else if (/^REDIS_(?:.+_)?URL$/.test(key)) secrets.push(...urlPasswordForms(value))
  }
  return [...new Set(secrets)]
}

/**
 * A setting's value, quoted for an error message, unless it holds a secret
 * (a password pasted into REDIS_DB, say): then a note instead of the value.
 * Case-insensitive, since URL parsing lower-cases some parts.
 */
export function quoted (value: string, secrets: Iterable<string | undefined>): string {
  const lower = value.toLowerCase()
  return secretForms(secrets).some((form) => lower.includes(form.toLowerCase()))
    ? 'a value that holds a configured password, not shown'
    : `"${value}"`
}

export interface ScrubbedError {
  name: string
  message: string
  code?: string
}

/**
 * A safe summary of any thrown value: name, scrubbed message and code, and
 * nothing else (no `command`, no stack that could hold arguments).
 */
export function scrubError (error: unknown, secrets: Iterable<string | undefined>): ScrubbedError {
  const list = [...secrets]
  if (!(error instanceof Error)) return { name: 'Error', message: scrubText(String(error), list) }
  const code = (error as { code?: unknown }).code
  return {
    name: error.name,
    message: scrubText(error.message, list),
    ...(typeof code === 'string' ? { code } : {}),
  }
}

/**
 * A copy of a thrown value that is safe to attach as `cause`: its name, code
 * and message (scrubbed of `secrets`), and a stack of those alone. Nothing
 * else of the original comes along: Node's URL errors keep the raw input in
 * `input`, fs errors the path, ioredis errors the command's arguments, and any
 * of them may have a cause of its own.
 */
export function safeCause (error: unknown, secrets: Iterable<string | undefined>): Error {
  const { name, message, code } = scrubError(error, secrets)
  const copy = new Error(message)
  Object.defineProperty(copy, 'name', { value: name, writable: true, configurable: true })
  if (code !== undefined) Object.assign(copy, { code })
  copy.stack = `${name}: ${message}`
  return copy
}
