import { aclRule } from '../acl-rule.js'
import { classifyFailure, type FailureClass } from '../failure-class.js'
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
  if (!QUOTED.has(failure)) return head
  const reply = message.length > MAX_REPLY_LENGTH ? `${message.slice(0, MAX_REPLY_LENGTH)}…` : message
  if (failure !== 'no-permission') return `${head}: ${reply}`
  return `${head}: ${reply}; grant what the limiter needs on the server: ${aclRule(identity.username, identity.nameSpace)}`
}

/** Failures that only a change on the server or in the configuration mends: logged at error level. */
export function needsOperator (failure: FailureClass): boolean {
  // Not read-only: a replica answers READONLY for a moment in every failover.
  return failure === 'no-permission' || failure === 'out-of-memory' || failure === 'not-persisting'
}

/**
 * An error that says Redis cannot count now, whatever the key: unreachable,
 * hanging, refusing writes (OOM, READONLY…), or not letting this user run the
 * limiter's commands. These reach the breaker; an error about one key
 * (WRONGTYPE) does not.
 */
export function isBreakerFailure (error: unknown): boolean {
  return isRedisUnavailableError(error) || classifyFailure(error) === 'no-permission'
}

/** An error reply (for the breaker, as ioredis would raise it) from the script's per-counter { -1, message }. */
export function replyError (message: string): Error {
  return Object.assign(new Error(message), { name: 'ReplyError' })
}
