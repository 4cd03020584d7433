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

/** A URL with its password (if any) replaced by `***`; the username stays visible. */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password === '') return url
    parsed.password = MASK
    return parsed.toString()
  } catch {
    // Not a URL we can parse: show only the scheme, so a password in it cannot leak.
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? ''
    return `${scheme}//${MASK}`
  }
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
