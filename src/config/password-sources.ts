import { readFileSync } from 'node:fs'
import { ConflictingSettingsError, PasswordFileError } from '../errors.js'
import { safeCause } from '../redact.js'
import { conflictAdvice } from './conflict-advice.js'
import { envValue, type Candidate } from './pick.js'
import type { Env } from './types.js'

/*
 * Passwords from the environment: inline (REDIS_PASSWORD,
 * REDIS_SENTINEL_PASSWORD) or in a file (…_FILE, a Docker or Kubernetes
 * secret). A file is read only when its password is the one in use.
 */

/**
 * The path for a message. A value without a directory separator is not shown:
 * it may well be the password itself, set in the _FILE variable by mistake.
 */
function shownPath (path: string): string {
  return /[/\\]/.test(path) ? path : 'not shown: a name without a directory, which may be the password itself'
}

function readPasswordFile (path: string, variable: string): string {
  let content: string
  try {
    content = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error'
    // The fs error's message and `path` hold the value: only a scrubbed copy comes along.
    throw new PasswordFileError(variable, shownPath(path), `cannot be read (${code})`, { cause: safeCause(error, [path]) })
  }
  const password = content.replace(/[\r\n]+$/, '')
  if (password === '') throw new PasswordFileError(variable, shownPath(path), 'is empty')
  return password
}

/** `<prefix>PASSWORD` or `<prefix>PASSWORD_FILE`: one of them, never both. `prefix` is `REDIS_` or `REDIS_SENTINEL_`. */
export function envPassword (env: Env, prefix: 'REDIS_' | 'REDIS_SENTINEL_'): Candidate<string> {
  const inlineVariable = `${prefix}PASSWORD`
  const fileVariable = `${prefix}PASSWORD_FILE`
  const inline = envValue(env, inlineVariable)
  const file = envValue(env, fileVariable)
  if (inline !== undefined && file !== undefined) {
    throw new ConflictingSettingsError(inlineVariable, fileVariable, conflictAdvice(inlineVariable, fileVariable).advice)
  }
  if (file !== undefined) return { setting: fileVariable, read: () => readPasswordFile(file, fileVariable) }
  return { setting: inlineVariable, read: () => inline }
}
