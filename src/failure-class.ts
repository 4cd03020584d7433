import type { ResolvedConnection } from './config/index.js'
import { isUrlSetting, settingName } from './config/setting-words.js'
import { aclRule } from './acl-rule.js'

/*
 * What went wrong with a Redis connection, in the words an operator needs.
 * The wording of ioredis 6 / Redis 6–7 errors is matched here and nowhere else;
 * so are the words for each class (summary, hint), which `check`'s fixes
 * (cli/fixes.ts) build on, so that they always say the same thing.
 */

export type FailureClass =
  | 'refused' // nothing listens on the port (Redis stopped or killed)
  | 'hanging' // the server accepts TCP but does not answer in time
  | 'connection-lost' // an established connection closed
  | 'password-missing' // the server requires a password we do not send
  | 'password-wrong' // the server rejected our username/password
  | 'password-not-required' // we send a password, the server has none: anyone can use it
  | 'dns' // the host name does not resolve
  | 'tls' // the TLS handshake or certificate failed
  | 'out-of-memory' // the server refuses writes: maxmemory reached under noeviction (OOM)
  | 'read-only' // a replica, which refuses writes (READONLY)
  | 'no-permission' // the ACL user may not run a command or touch a key (NOPERM)
  | 'not-persisting' // the server refuses writes because it cannot save to disk (MISCONF)
  | 'loading' // the server is loading its dataset after a restart (LOADING)
  | 'busy' // the server is blocked by a long script or function (BUSY)
  | 'cluster-node' // one server's settings reach a Redis Cluster node (MOVED, ASK, CROSSSLOT)
  | 'sentinel-port' // one server's settings reach a Redis Sentinel, which holds no data
  | 'other'

/** Every class, in the order above: for schemas and exhaustive tests. */
export const FAILURE_CLASSES: readonly FailureClass[] = [
  'refused', 'hanging', 'connection-lost', 'password-missing', 'password-wrong', 'password-not-required', 'dns', 'tls',
  'out-of-memory', 'read-only', 'no-permission', 'not-persisting', 'loading', 'busy', 'cluster-node', 'sentinel-port', 'other',
]

/**
 * Error replies by their first word, as Redis sends them (also inside a
 * script's error). Inside a script, Redis 7 words a denied command as "ERR
 * The user executing the script can't run this command or subcommand".
 */
const REPLY_CLASSES: Array<[RegExp, FailureClass]> = [
  [/^OOM\b/, 'out-of-memory'],
  [/^READONLY\b/, 'read-only'],
  [/^NOPERM\b|can't run this command or subcommand/i, 'no-permission'],
  [/^MISCONF\b/, 'not-persisting'],
  [/^LOADING\b/, 'loading'],
  [/^BUSY\b/, 'busy'],
  // A cluster node redirects a key of another node's slot (MOVED, ASK during a migration), refuses
  // keys of several slots in one command (CROSSSLOT), and a database other than 0. An ioredis Cluster
  // follows MOVED and ASK itself: these reach a caller only through a client of one server.
  [/^(MOVED|ASK) \d+ |^CROSSSLOT\b|^ERR SELECT is not allowed in cluster mode/, 'cluster-node'],
  // A sentinel knows none of the data commands; every Redis since 2.6 knows these. (A command of
  // the app's own that the server lacks, a module's say, stays `other`.)
  [/^ERR unknown command '(get|set|del|incr|incrby|pexpire|eval|evalsha|select|script|mget|mset|hget|hset)'/i, 'sentinel-port'],
]

const NETWORK_CODES: Record<string, FailureClass> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'hanging',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_NONAME: 'dns',
  ECONNRESET: 'connection-lost',
  EPIPE: 'connection-lost',
  EPROTO: 'tls',
}

/** Classifies an error from ioredis (or Node's net/tls) into a FailureClass. */
export function classifyFailure (error: unknown): FailureClass {
  // A cluster that found no node says so and keeps the last node's error; a Sentinel client names the last sentinel's.
  // A reply the plugin answers 503 for (command-guard.ts) is wrapped in its RedisUnavailableError: the reply tells.
  const { code: ownCode, cause } = (error ?? {}) as { code?: unknown; cause?: unknown }
  if (ownCode === 'FRR_ERR_REDIS_UNAVAILABLE' && cause instanceof Error) return classifyFailure(cause)
  const lastNodeError = (error as { lastNodeError?: unknown } | null | undefined)?.lastNodeError
  const message = error instanceof Error ? error.message : String(error)
  if (lastNodeError instanceof Error) return message.startsWith('Failed to refresh slots cache') ? lookupFailure(lastNodeError) : classifyFailure(lastNodeError)
  const sentinels = /^All sentinels are unreachable.*? Last error: (.*)$/s.exec(message)?.[1]
  if (sentinels !== undefined) return lookupFailure(Object.assign(new Error(sentinels), { code: /\b(E[A-Z_]+)\b/.exec(sentinels)?.[1] }))
  const code = (error as { code?: unknown } | null | undefined)?.code
  const upper = message.toUpperCase()

  if (upper.startsWith('NOAUTH')) return 'password-missing'
  if (upper.startsWith('WRONGPASS') || upper.includes('INVALID PASSWORD') || upper.includes('INVALID USERNAME-PASSWORD')) return 'password-wrong'
  if (upper.includes('CALLED WITHOUT ANY PASSWORD CONFIGURED') || upper.includes('NO PASSWORD IS SET')) return 'password-not-required'
  if (message === 'Command timed out' || message.startsWith('Socket timeout')) return 'hanging'
  for (const [pattern, failure] of REPLY_CLASSES) if (pattern.test(message)) return failure
  if (/\b(TLS|SSL)\b/i.test(message) || (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT')))) return 'tls'
  if (typeof code === 'string' && NETWORK_CODES[code] !== undefined) return NETWORK_CODES[code]
  // The second: a command sent between a dropped connection and ioredis noticing (offline queue off).
  if (message === 'Connection is closed.' || message.startsWith("Stream isn't writeable")) return 'connection-lost'
  return 'other'
}

/**
 * The error of a lookup: a Sentinel client asking its sentinels for the
 * master, a Cluster asking its nodes for the slots. Each asks on a connection
 * of its own, made for that one question and never retried, whose connect
 * error ioredis drops: "Connection is closed." there means that no connection
 * was ever made (nothing listens there, or something closes it at once), not
 * that an established one was lost.
 */
function lookupFailure (error: Error): FailureClass {
  return error.message === 'Connection is closed.' ? 'refused' : classifyFailure(error)
}

/** Auth failures need a configuration change; the others may heal on their own. */
export function isAuthFailure (failure: FailureClass): boolean {
  return failure === 'password-missing' || failure === 'password-wrong' || failure === 'password-not-required'
}

/** Settings of one server that reach a cluster node or a sentinel: only using the right topology mends it. */
export function isTopologyMismatch (failure: FailureClass): boolean {
  return failure === 'cluster-node' || failure === 'sentinel-port'
}

/** Failures that only a change of the app's configuration mends: logged at error level, retried calmly. */
export function needsConfigChange (failure: FailureClass): boolean {
  return isAuthFailure(failure) || isTopologyMismatch(failure)
}

/**
 * Whether a failure seen during an outage leaves the outage's known failure as
 * it is: a connection closed says nothing new, since it is how each try on a
 * server that hangs ends (ioredis drops the connection at the timeout).
 */
export function keepsKnownFailure (known: FailureClass | undefined, seen: FailureClass): boolean {
  return known !== undefined && seen === 'connection-lost'
}

/** What the words need to know of a connection; a ResolvedConnection has it all. */
export type FailureContext = Pick<ResolvedConnection, 'host' | 'port' | 'passwordFrom' | 'username' | 'locatedBy' | 'tls'>

/** Where the password in use lives: inside a URL, in a file, or in a setting of its own. */
export function passwordPlace (from: string | undefined): string {
  if (from === undefined) return 'no password'
  if (isUrlSetting(from)) return `the password inside ${settingName(from)}`
  if (from === 'REDIS_PASSWORD_FILE') return 'the password in the file REDIS_PASSWORD_FILE names'
  return `the password from ${settingName(from)}`
}

/** The setting a password goes in: the one it came from, else REDIS_PASSWORD. */
export function passwordSetting (from: string | undefined): string {
  return from ?? 'REDIS_PASSWORD'
}

/** The change that puts `whose` password where the wrong one is; "it" is the password. */
export function passwordRepair (from: string | undefined, whose: string): string {
  if (from !== undefined && isUrlSetting(from)) return `replace it in ${settingName(from)} with ${whose}, or better remove it from the URL and set REDIS_PASSWORD once`
  if (from === 'REDIS_PASSWORD_FILE') return `put ${whose} in that file`
  return `set ${settingName(passwordSetting(from))} to ${whose}`
}

/** The change that stops sending the password. */
export function passwordRemoval (from: string | undefined): string {
  return from !== undefined && isUrlSetting(from) ? `remove the password from ${settingName(from)}` : `remove ${settingName(passwordSetting(from))}`
}

/** The setting that names the host (REDIS_PORT or the defaults alone do not). */
export function hostSetting (locatedBy: string): string {
  if (locatedBy === 'port option') return 'the host option'
  return locatedBy === 'REDIS_PORT' || locatedBy === 'defaults' ? 'REDIS_HOST' : settingName(locatedBy)
}

/** What happened, in one plain sentence: the start of the hint, of the first fix, and of `check`'s step line. */
export function failureSummary (failure: FailureClass, c: FailureContext): string {
  const at = `${c.host}:${c.port}`
  switch (failure) {
    case 'refused': return `nothing accepts connections at ${at}`
    case 'hanging': return `${at} accepts connections but does not answer in time`
    case 'connection-lost': return `the connection to ${at} was closed by the server or something in between`
    case 'password-missing': return `the server at ${at} requires a password and none is sent`
    case 'password-wrong': return c.username === undefined
      ? `the server at ${at} rejected ${passwordPlace(c.passwordFrom)}`
      : `the server at ${at} rejected ACL user "${c.username}" with ${passwordPlace(c.passwordFrom)}`
    case 'password-not-required': return `the server at ${at} has no password, yet the app sends ${passwordPlace(c.passwordFrom)}`
    case 'dns': return `the host name "${c.host}" does not resolve`
    case 'tls': return `the TLS handshake with ${at} failed`
    case 'out-of-memory': return `the server at ${at} is out of memory under noeviction and refuses writes`
    case 'read-only': return `the server at ${at} is a read-only replica`
    case 'no-permission': return `${c.username === undefined ? 'the default user' : `ACL user "${c.username}"`} lacks a permission on ${at}`
    case 'not-persisting': return `the server at ${at} refuses writes because it cannot save to disk`
    case 'loading': return `the server at ${at} is still loading its dataset`
    case 'busy': return `the server at ${at} is blocked by a long-running script or function`
    case 'cluster-node': return `the server at ${at} is a Redis Cluster node, reached as one server: it holds only the keys of its own slots and answers MOVED for the others`
    case 'sentinel-port': return `the server at ${at} is a Redis Sentinel, reached as one server: it holds no data and knows no data command`
    case 'other': return `unexpected error from ${at}`
  }
}

/** What to do, in a few words; the same action `check --fix-auth` spells out. */
function failureAction (failure: FailureClass, c: FailureContext): string {
  switch (failure) {
    case 'refused':
      return `start Redis there, or correct the host and port (they come from ${settingName(c.locatedBy)})`
    case 'hanging':
      return `check that Redis is not stopped or overloaded and that nothing on the network drops the traffic${c.tls === undefined ? '' : ', and that this port speaks TLS (TLS is on)'}`
    case 'connection-lost':
      return `often a proxy or port forward whose Redis is down, otherwise the server's log says why${c.tls === undefined ? '; if that port expects TLS, use rediss:// or REDIS_TLS=true' : ''}`
    case 'password-missing':
      return "set REDIS_PASSWORD (or REDIS_PASSWORD_FILE) to the server's password"
    case 'password-wrong':
      return c.username === undefined
        ? passwordRepair(c.passwordFrom, "the server's password (its requirepass)")
        : `the user may not exist, be off, or have another password; check it on the server (ACL GETUSER ${c.username}), and in the app REDIS_USERNAME (or the user in the URL) and ${passwordPlace(c.passwordFrom)}`
    case 'password-not-required':
      return `anyone who reaches it can use it; make the server require that password (requirepass), or ${passwordRemoval(c.passwordFrom)} if this server is meant to be open`
    case 'dns':
      return `check ${hostSetting(c.locatedBy)} (a container service name resolves only inside its network; outside it, use 127.0.0.1 and the published port)`
    case 'tls':
      return `unless that is the server's TLS port, turn TLS off (redis:// instead of rediss://, REDIS_TLS unset); on a TLS port, the certificate must match "${c.host}" and be trusted`
    case 'out-of-memory':
      return 'free memory or raise maxmemory on the server (CONFIG SET maxmemory, and in redis.conf), or give the rate limiter a Redis of its own; until writes succeed, rate limiting counts in memory'
    case 'read-only':
      return 'point the connection at the primary; a replica takes no writes, so rate limiting counts in memory meanwhile'
    case 'no-permission':
      return `grant what the error names, on the server: ${aclRule(c.username)} covers the rate limiter (with its default key prefix) and health checks`
    case 'not-persisting':
      return "the server's log says why its last save failed (disk full, permissions); fix that, or CONFIG SET stop-writes-on-bgsave-error no if losing the snapshot is acceptable"
    case 'loading':
      return 'it answers once the data is in memory, which takes a while for a large dataset after a restart; nothing to change unless it never ends'
    case 'busy':
      return 'wait for the script to end, or stop it (SCRIPT KILL, FUNCTION KILL); while it runs the server answers nobody'
    case 'cluster-node':
      return `use REDIS_CLUSTER_NODES=${c.host}:${c.port} (more nodes after commas), or a redis+cluster:// URL, instead of ${hostSetting(c.locatedBy)}`
    case 'sentinel-port':
      return `use REDIS_SENTINELS=${c.host}:${c.port} (more sentinels after commas) and REDIS_SENTINEL_NAME (the master set it watches), or a redis+sentinel:// URL, instead of ${hostSetting(c.locatedBy)}`
    case 'other':
      return 'the error itself says what went wrong'
  }
}

/**
 * One sentence per class: what happened, then what to do. The plugin's log
 * lines and health report use it; `check` prints it, and starts its fixes
 * with it. Names settings, never a secret.
 */
export function failureHint (failure: FailureClass, c: FailureContext): string {
  return `${failureSummary(failure, c)}: ${failureAction(failure, c)}`
}
