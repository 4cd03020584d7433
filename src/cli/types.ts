import type { FailureClass } from '../failure-class.js'

/*
 * The shape of a check: what each step found, per connection. The JSON output
 * is exactly this data, so field names here are part of the `--json` format.
 */

export type StepName = 'dns' | 'tcp' | 'tls' | 'auth' | 'ping' | 'server' | 'policy' | 'limiter'

/** In the order they run; a failure skips every later step. */
export const STEP_NAMES: readonly StepName[] = ['dns', 'tcp', 'tls', 'auth', 'ping', 'server', 'policy', 'limiter']

/**
 * `warn`: works, but worth knowing (a replica, an eviction policy that drops
 * counters). `skipped`: not applicable, or not run because an earlier step failed.
 */
export type StepStatus = 'ok' | 'warn' | 'fail' | 'skipped'

export interface StepResult {
  name: StepName
  status: StepStatus
  /** Wall time of the step in milliseconds (0 when not run). */
  ms: number
  /** One line for a human; never a password. */
  detail: string
}

export interface ConnectionFailure {
  /** The step that failed. */
  step: StepName
  class: FailureClass
  /** The scrubbed error message. */
  message: string
  /** One sentence: what it means. */
  hint: string
}

export interface ServerFacts {
  version?: string
  role?: string
  maxmemoryPolicy?: string
}

export interface ConnectionReport {
  name: string
  /** The redacted URL (`redis://:***@host:port/db`). */
  url: string
  locatedBy: string
  passwordSet: boolean
  passwordFrom: string | null
  username: string | null
  ok: boolean
  steps: StepResult[]
  failure: ConnectionFailure | null
  server: ServerFacts
  /** What to change, line by line (printed with --fix-auth; always in the JSON). */
  fixes: string[]
}

export interface ConfigErrorReport {
  code: string
  message: string
  fixes: string[]
}

export interface CheckReport {
  ok: boolean
  version: string
  connections: ConnectionReport[]
  error: ConfigErrorReport | null
}
