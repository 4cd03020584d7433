// runCli in-process for the check tests of the topologies: captured output,
// and every run proves that none of the test's secrets reached it.
import type { Test } from 'tap'
import { runCli } from '../../src/cli/run-cli.js'

export interface Run { code: number; stdout: string; stderr: string }

/** A `run(t, argv, env)` that checks the output of every run for each of `secrets`. */
export function secretCheckingRun (secrets: readonly string[]) {
  return async (t: Pick<Test, 'notOk'>, argv: string[], env: Record<string, string>): Promise<Run> => {
    let stdout = ''
    let stderr = ''
    const code = await runCli(argv, { env, stdout: (s) => { stdout += s }, stderr: (s) => { stderr += s } })
    for (const secret of secrets) t.notOk((stdout + stderr).includes(secret), 'no password in the output')
    return { code, stdout, stderr }
  }
}

/** The lines of step `name` in check's text output, trimmed. */
export const stepLines = (stdout: string, name: string): string[] => stdout.split('\n').filter((l) => l.slice(4, 15).trim() === name).map((l) => l.trim())
