import type { Env } from '../config/index.js'
import { parseCliArgs, USAGE, type CliCommand } from './args.js'
import { check } from './check.js'
import { loadEnv } from './env.js'
import { renderConfigError, renderJson, renderText } from './report.js'
import { packageVersion } from './version.js'

export interface CliIo {
  env: Env
  stdout: (text: string) => void
  stderr: (text: string) => void
}

/** Each step of each connection gets this long; connections are checked in parallel. */
export const STEP_TIMEOUT_MS = 1500

/**
 * `fastify-resilient-redis <argv>`: writes to `io` and returns the exit
 * code (0 every connection works, 1 one failed, 2 bad usage or config).
 */
export async function runCli (argv: string[], io: CliIo): Promise<number> {
  let command: CliCommand
  let env: Env = io.env
  try {
    command = parseCliArgs(argv)
    if (command.kind === 'check') env = loadEnv(io.env, command.envFiles)
  } catch (error) {
    // Only UsageError gets here: parseCliArgs and loadEnv throw nothing else.
    io.stderr(`error: ${(error as Error).message}\nRun "fastify-resilient-redis --help" for usage.\n`)
    return 2
  }
  if (command.kind === 'help') {
    io.stdout(USAGE)
    return 0
  }
  const version = packageVersion()
  if (command.kind === 'version') {
    io.stdout(`${version}\n`)
    return 0
  }

  const report = await check(env, { envFiles: command.envFiles, stepMs: STEP_TIMEOUT_MS, version, nameSpace: command.nameSpace })
  if (command.json) io.stdout(renderJson(report))
  else if (report.error !== null) io.stderr(renderConfigError(report.error, { fixAuth: command.fixAuth }))
  else io.stdout(renderText(report, { fixAuth: command.fixAuth }))
  return report.error !== null ? 2 : report.ok ? 0 : 1
}
