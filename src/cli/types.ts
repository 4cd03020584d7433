import type { FailureClass } from '../failure-class.js'

/*
 * The shape of a check: what each step found, per connection. The JSON output
 * is exactly this data, so field names here are part of the `--json` format.
 */

/** The steps on one server; Sentinel adds `sentinel` (one per sentinel), `master`, `replicas`; Cluster `node` (one per node), `cluster`, `slots`. */
export type StepName = 'dns' | 'tcp' | 'tls' | 'auth' | 'ping' | 'server' | 'policy' | 'limiter'
  | 'sentinel' | 'master' | 'replicas' | 'node' | 'cluster' | 'slots'

/** The steps on one server, in the order they run; a failure skips every later step. */
export const STEP_NAMES: readonly StepName[] = ['dns', 'tcp', 'tls', 'auth', 'ping', 'server', 'policy', 'limiter']

/**
 * What only a Sentinel set or a Cluster can get wrong: an address that is no
 * sentinel (or no cluster node), a master name the sentinels do not know,
 * too few sentinels to agree on a failover, a cluster that is down or leaves
 * slots without a master.
 */
export type TopologyFailureClass = 'not-a-sentinel' | 'unknown-master' | 'no-quorum' | 'not-a-cluster' | 'cluster-down' | 'slots-uncovered'

export type CheckFailureClass = FailureClass | TopologyFailureClass

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
  /** The sentinel or node a `sentinel` or `node` step is about (`host:port`). */
  address?: string
  /** One line for a human; never a password. */
  detail: string
}

export interface ConnectionFailure {
  /** The step that failed. */
  step: StepName
  class: CheckFailureClass
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

/** One sentinel or cluster node from the configured list, and whether it answered. */
export interface AddressReport {
  address: string
  ok: boolean
}

/** What check learnt of the topology; `null` where it could not find out. */
export type TopologyReport =
  | { kind: 'single' }
  | {
    kind: 'sentinel'
    masterName: string
    /** The setting the sentinels' password came from (by default the data password's). */
    sentinelPasswordFrom: string | null
    sentinelUsername: string | null
    sentinels: AddressReport[]
    quorum: number | null
    /** `host:port` of the master the sentinels name. */
    master: string | null
    replicas: string[]
  }
  | {
    kind: 'cluster'
    nodes: AddressReport[]
    /** `cluster_state` of CLUSTER INFO: `ok` or `fail`. */
    state: string | null
    /** Slots served by a master that is not failing, of 16384. */
    slotsCovered: number | null
    masters: Array<{ address: string; slots: string; replicas: string[] }>
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
  topology: TopologyReport
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
