import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import type { Env } from '../config/index.js'
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
