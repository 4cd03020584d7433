import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import type { Env } from '../config.js'
import { UsageError } from './args.js'

/**
 * The environment to check: the process environment with each `--env-file`
 * layered on top, in order (dotenv syntax, parsed by Node's `util.parseEnv`).
 * A file that cannot be read is a usage error.
 */
export function loadEnv (base: Env, envFiles: readonly string[]): Env {
  const env: Env = { ...base }
  for (const path of envFiles) {
    let content: string
    try {
      content = readFileSync(path, 'utf8')
    } catch (error) {
      throw new UsageError(`cannot read --env-file ${path} (${(error as NodeJS.ErrnoException).code})`)
    }
    Object.assign(env, parseEnv(content))
  }
  return env
}

/**
 * Every password the environment mentions, for scrubbing output even when
 * the configuration could not be resolved: REDIS_PASSWORD and the password
 * part of every REDIS_*URL.
 */
export function envSecrets (env: Env): string[] {
  const secrets: string[] = []
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue
    if (key === 'REDIS_PASSWORD') secrets.push(value)
    else if (/^REDIS_(?:.+_)?URL$/.test(key)) secrets.push(...urlPassword(value))
  }
  return [...new Set(secrets)]
}

function urlPassword (value: string): string[] {
  // Anything between `scheme://user:` and `@`, as written and decoded.
  const raw = /^[^:/]+:\/\/[^/@]*?:([^/]*)@/.exec(value)?.[1]
  if (raw === undefined || raw === '') return []
  try {
    return [raw, decodeURIComponent(raw)]
  } catch {
    return [raw]
  }
}
