import { parseArgs } from 'node:util'

/*
 * Command-line parsing: `check [--fix-auth] [--json] [--env-file PATH]
 * [--rate-limit-namespace PREFIX]`,
 * `--help`, `--version`. Bad usage throws a UsageError (exit code 2).
 * Messages never repeat what the user typed beyond option names: a stray
 * argument may well be a URL with a password in it.
 */

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  /** `nameSpace`: undefined when not given (the plugin's default then applies). */
  | { kind: 'check'; fixAuth: boolean; json: boolean; envFiles: string[]; nameSpace: string | undefined }

export class UsageError extends Error {
  override name = 'UsageError'
}

export const USAGE = `Usage: fastify-resilient-redis check [--fix-auth] [--json] [--env-file PATH]
                                     [--rate-limit-namespace PREFIX]

Tests every Redis connection the plugin would open (REDIS_URL / REDIS_HOST…,
REDIS_SENTINELS, REDIS_CLUSTER_NODES, and one per REDIS_<NAME>_URL): DNS, TCP,
TLS, authentication, PING, server version and role, the eviction policy, and
on the default connection the rate limiter's own script, on a key of its own.
On Sentinel first each sentinel, the master set's name, the master and its
replicas (then the above on the master); on a Cluster each node,
cluster_state and slot coverage (then the above through a Cluster client).
Never prints a password.

Options:
  --fix-auth        say exactly what to change for each problem found
  --json            print one JSON document instead of text
  --env-file PATH   read variables from PATH on top of the environment
                    (may be repeated; later files win)
  --rate-limit-namespace PREFIX
                    the app's rateLimit.nameSpace, if it sets one: the
                    limiter step counts on PREFIX__frr_check__
                    (default frr-rate-limit:)
  -h, --help        show this help
  -v, --version     show the version

Exit codes: 0 every connection works, 1 a connection failed,
            2 bad usage or bad configuration.
`

const OPTIONS = {
  'fix-auth': { type: 'boolean' },
  json: { type: 'boolean' },
  'env-file': { type: 'string', multiple: true },
  'rate-limit-namespace': { type: 'string' },
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
  const nameSpace = values['rate-limit-namespace']
  if (nameSpace === '') throw new UsageError('--rate-limit-namespace needs a prefix (leave it out for frr-rate-limit:)')
  return { kind: 'check', fixAuth: values['fix-auth'] === true, json: values.json === true, envFiles, nameSpace }
}
