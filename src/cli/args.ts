import { parseArgs } from 'node:util'

/*
 * Command-line parsing: `check [--fix-auth] [--json] [--env-file PATH]`,
 * `--help`, `--version`. Bad usage throws a UsageError (exit code 2).
 * Messages never repeat what the user typed beyond option names: a stray
 * argument may well be a URL with a password in it.
 */

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'check'; fixAuth: boolean; json: boolean; envFiles: string[] }

export class UsageError extends Error {
  override name = 'UsageError'
}

export const USAGE = `Usage: fastify-resilient-redis check [--fix-auth] [--json] [--env-file PATH]

Tests every Redis connection the plugin would open (REDIS_URL / REDIS_HOST…,
and one per REDIS_<NAME>_URL): DNS, TCP, TLS, authentication, PING, server
version and role, and the eviction policy. Never prints a password.

Options:
  --fix-auth        say exactly what to change for each problem found
  --json            print one JSON document instead of text
  --env-file PATH   read variables from PATH on top of the environment
                    (may be repeated; later files win)
  -h, --help        show this help
  -v, --version     show the version

Exit codes: 0 every connection works, 1 a connection failed,
            2 bad usage or bad configuration.
`

const OPTIONS = {
  'fix-auth': { type: 'boolean' },
  json: { type: 'boolean' },
  'env-file': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

function parseOrThrow (argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    // Node's message, without its advice about `--` (we take no positional arguments).
    throw new UsageError((error as Error).message.split('. ')[0] as string)
  }
}

export function parseCliArgs (argv: string[]): CliCommand {
  const { values, positionals } = parseOrThrow(argv)
  if (values.help === true) return { kind: 'help' }
  if (values.version === true) return { kind: 'version' }
  const [command, ...rest] = positionals
  if (command === undefined) throw new UsageError('missing command: the only command is "check"')
  if (command !== 'check') throw new UsageError('unknown command: the only command is "check"')
  if (rest.length > 0) throw new UsageError(`check takes no arguments (got ${rest.length}); configure connections with REDIS_URL and friends, or --env-file`)
  const envFiles = values['env-file'] ?? []
  if (envFiles.includes('')) throw new UsageError('--env-file needs a path')
  return { kind: 'check', fixAuth: values['fix-auth'] === true, json: values.json === true, envFiles }
}
