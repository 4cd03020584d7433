import { aclRule } from '../acl-rule.js'
import { classifyFailure, isTopologyMismatch, type FailureClass } from '../failure-class.js'
import { isRedisUnavailableError } from '../unavailable-error.js'

/** Who the limiter talks to Redis as, and under which key prefix: what an ACL rule names. */
export interface LimiterIdentity {
  username: string | undefined
  nameSpace: string
}

/** Classes whose reason is in Redis's reply rather than in the class itself. */
const QUOTED: ReadonlySet<FailureClass> = new Set(['out-of-memory', 'read-only', 'no-permission', 'not-persisting', 'loading', 'busy', 'other'])

/** Longest stretch of Redis's own words a log line carries. */
const MAX_REPLY_LENGTH = 200

/**
 * Why the limiter stopped counting in Redis while the connection is up, for
 * the log line and the report. Connection-level classes keep their short
 * form (`Redis commands failing (hanging)`); a reply that carries the reason
 * (OOM, READONLY, NOPERM…) is quoted, and a missing permission gets the rule
 * that grants what the limiter needs. Redis's replies name commands and
 * limits, never the arguments, so no secret can reach them.
 */
export function commandFailureCause (failure: FailureClass, message: string, identity: LimiterIdentity): string {
  const head = `Redis commands failing (${failure})`
  if (isTopologyMismatch(failure)) return `${head}: ${quote(message)}; ${TOPOLOGY_FIX[failure as 'cluster-node' | 'sentinel-port']}`
  if (!QUOTED.has(failure)) return head
  const reply = quote(message)
  if (failure !== 'no-permission') return `${head}: ${reply}`
  return `${head}: ${reply}; grant what the limiter needs on the server: ${aclRule(identity.username, identity.nameSpace)}`
}

function quote (message: string): string {
  return message.length > MAX_REPLY_LENGTH ? `${message.slice(0, MAX_REPLY_LENGTH)}…` : message
}

/**
 * The store knows its client, not where its settings came from: the fix is
 * said in general words (the connection monitor's line names the setting).
 */
const TOPOLOGY_FIX = {
  'cluster-node': 'a client of one server reached a Redis Cluster node: use REDIS_CLUSTER_NODES (or a redis+cluster:// URL, or an ioredis Cluster)',
  'sentinel-port': 'a client of one server reached a Redis Sentinel: use REDIS_SENTINELS and REDIS_SENTINEL_NAME (or a redis+sentinel:// URL, or an ioredis client with sentinels and name)',
} as const

/** Failures that only a change on the server or in the configuration mends: logged at error level. */
export function needsOperator (failure: FailureClass): boolean {
  // Not read-only: a replica answers READONLY for a moment in every failover.
  return failure === 'no-permission' || failure === 'out-of-memory' || failure === 'not-persisting' || isTopologyMismatch(failure)
}

/**
 * An error that says Redis cannot count now, whatever the key: unreachable,
 * hanging, refusing writes (OOM, READONLY…), not letting this user run the
 * limiter's commands, or not a server that holds these keys (a cluster node
 * reached as one server: MOVED, CROSSSLOT; a sentinel). These reach the
 * breaker; an error about one key (WRONGTYPE) does not.
 */
export function isBreakerFailure (error: unknown): boolean {
  if (isRedisUnavailableError(error)) return true
  const failure = classifyFailure(error)
  return failure === 'no-permission' || isTopologyMismatch(failure)
}

/** An error reply (for the breaker, as ioredis would raise it) from the script's per-counter { -1, message }. */
export function replyError (message: string): Error {
  return Object.assign(new Error(message), { name: 'ReplyError' })
}
