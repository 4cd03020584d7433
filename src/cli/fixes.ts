import { conflictAdvice } from '../config/conflict-advice.js'
import { TOPOLOGY_ADVICE } from '../config/topology.js'
import type { ResolvedConnection } from '../config/index.js'
import { failureHint, failureSummary, hostSetting, isAuthFailure, passwordPlace, passwordRemoval, passwordRepair, passwordSetting, type FailureClass, type FailureContext } from '../failure-class.js'
import { aclRule } from '../acl-rule.js'
import { isUrlSetting } from '../config/setting-words.js'

/*
 * `--fix-auth`: for each problem, the change that fixes it — which variable,
 * where, and on which side (app or server). Only variable names and
 * placeholders appear here, never a value. The first fix of a failure is its
 * hint (failure-class.ts), the one sentence the plugin logs too; the lines
 * after it spell the change out. The first fix of a conflict is the advice of
 * the error message itself (conflict-advice.ts).
 */

export interface FixContext {
  /** Where the app's variables live: the --env-file given, or a general pointer. */
  where: string
  /** The per-step bound, to say how long a hanging server was given. */
  stepMs: number
  /** The rate limiter's key prefix, for the ACL rule. */
  nameSpace: string
}

/** `in .env.production`, or a pointer to the usual places when no --env-file was given. */
export function fixLocation (envFiles: readonly string[]): string {
  return envFiles.length > 0
    ? `in ${envFiles[envFiles.length - 1]}`
    : "where the app's environment is defined (.env file, Compose environment:, Kubernetes Secret)"
}

/** The line of a failed step: the class and what happened, in the words of the hint and the fixes. */
export function failedStepDetail (failure: FailureClass, c: FailureContext, message: string): string {
  const summary = `${failure}: ${failureSummary(failure, c)}`
  // Redis's reply to a password problem is jargon (NOAUTH HELLO must be called…) and stays in the
  // JSON's failure.message; a system error (ECONNREFUSED, a certificate) says something more; for
  // `other` the error is all there is.
  if (isAuthFailure(failure)) return summary
  return failure === 'other' ? `${summary}: ${message}` : `${summary} (${message})`
}

const REQUIREPASS = "the server's password is its requirepass (redis.conf, the container's --requirepass, or CONFIG GET requirepass on the server), or an ACL user's own password"

export function connectionFixes (failure: FailureClass, c: ResolvedConnection, ctx: FixContext): string[] {
  return [failureHint(failure, c), ...details(failure, c, ctx)]
}

/** connectionFixes for one connection, as a step runner asks for them. */
export function fixesFor (c: ResolvedConnection, ctx: FixContext): (failure: FailureClass) => string[] {
  return (failure) => connectionFixes(failure, c, ctx)
}

/** What comes after the hint: the change spelled out, with where to make it. */
function details (failure: FailureClass, c: ResolvedConnection, ctx: FixContext): string[] {
  const from = c.passwordFrom
  switch (failure) {
    case 'password-missing':
      return [
        `set REDIS_PASSWORD ${ctx.where}, or REDIS_PASSWORD_FILE to the path of a file that holds only the password (Docker and Kubernetes secrets); either one applies to every connection whose URL carries no password`,
        REQUIREPASS,
      ]
    case 'password-wrong':
      if (c.username !== undefined) {
        return [
          `on the server, ACL GETUSER ${c.username} shows the user; ACL SETUSER ${c.username} on ><password> ~* +@all creates or repairs it (narrow the permissions to what the app needs), and ACL SAVE or redis.conf keeps it`,
          `in the app, check REDIS_USERNAME (or the user in the URL) ${ctx.where}; for ${passwordPlace(from)}, ${passwordRepair(from, "the user's password")}`,
        ]
      }
      return [...passwordWrongDetails(from, ctx), REQUIREPASS]
    case 'password-not-required':
      return [
        `safer: keep ${passwordPlace(from)} and make the server require it: CONFIG SET requirepass with that same value on the server, plus requirepass in redis.conf (or --requirepass on its command line) so it survives a restart`,
        `only if this server is meant to be open (a local development server): ${passwordRemoval(from)} ${ctx.where}`,
      ]
    case 'refused':
      return ['a Redis in Docker Compose or Kubernetes is reached by its service name (e.g. redis:6379) from inside that network, and at 127.0.0.1 with the published port from outside it (docker compose port redis 6379)']
    case 'hanging':
      return [
        `stopped: SIGSTOP, a debugger, a paused container (docker ps, docker unpause); overloaded: redis-cli --latency, SLOWLOG GET, a long-running script (each step here waited ${ctx.stepMs} ms)`,
        'the network: a firewall, proxy or NAT that drops the traffic on the way',
      ]
    case 'dns':
      return [
        `a container service name such as "redis" resolves only inside its Compose or Kubernetes network: from outside it use 127.0.0.1 with the published port, inside it the service name (not localhost); change ${hostSetting(c.locatedBy)} ${ctx.where} to match`,
      ]
    case 'tls':
      return [
        `to turn TLS off ${ctx.where}: redis:// instead of rediss://, REDIS_TLS unset (a plain Redis port meets a TLS handshake with silence or an error)`,
        'on a TLS port, a certificate from a private CA is trusted with NODE_EXTRA_CA_CERTS=/path/to/ca.pem; if nothing answers at all, the server may be hanging (a stopped process, a firewall)',
      ]
    case 'connection-lost':
      return ["a proxy or port forward: docker-proxy, kubectl port-forward, an SSH tunnel, a load balancer; the server's log: maxclients, protected mode"]
    case 'out-of-memory':
      return ['on the server, INFO memory shows used_memory against maxmemory; CONFIG SET maxmemory with a larger value (and maxmemory in redis.conf) or delete what fills it; a Redis of its own for the rate limiter keeps an app\'s cache from starving it']
    case 'read-only':
      return [`ROLE (or INFO replication) on the server names the primary; point ${hostSetting(c.locatedBy)} ${ctx.where} at it`]
    case 'no-permission':
      return [
        `on the server: ${aclRule(c.username, ctx.nameSpace)} (it adds to what the user has; ACL SAVE or the ACL file keeps it)`,
        `ACL GETUSER ${c.username ?? 'default'} shows what the user has now; +info also lets check report the server's version and role, +get is needed by limiters used with increment: false, +select by a db other than 0`,
      ]
    case 'not-persisting':
      return ['INFO persistence shows rdb_last_bgsave_status (and aof_last_write_status); the server\'s log names the cause, often a full disk or a directory it may not write to']
    case 'loading':
      return ['INFO persistence shows loading and loading_eta_seconds; the plugin waits it out on its own']
    case 'busy':
      return ['SCRIPT KILL stops a script that has not written yet (FUNCTION KILL a function); SHUTDOWN NOSAVE is the last resort for one that has']
    case 'cluster-node':
      return [`${ctx.where}, replace ${hostSetting(c.locatedBy)} with REDIS_CLUSTER_NODES: one or more of the cluster's nodes as host:port, comma-separated (the client finds the others; CLUSTER NODES on the server lists them), or with a redis+cluster://host:port,… URL; the password stays where it is`]
    case 'sentinel-port':
      return [`${ctx.where}, replace ${hostSetting(c.locatedBy)} with REDIS_SENTINELS (the sentinels as host:port, comma-separated) and REDIS_SENTINEL_NAME (SENTINEL MASTERS on a sentinel lists the names it watches), or with a redis+sentinel://host:port,…/masterName URL; the data password stays where it is, a password of the sentinels' own goes in REDIS_SENTINEL_PASSWORD`]
    case 'other':
      return ['the error above is what Redis answered; the server\'s log may say more']
  }
}

/** A wrong password of the default user: where it lives decides how to change it. */
function passwordWrongDetails (from: string | undefined, ctx: FixContext): string[] {
  if (from !== undefined && isUrlSetting(from)) {
    return [
      `to replace it, edit ${from} ${ctx.where}, percent-encoding characters such as @ : / # inside the URL (%40 %3A %2F %23)`,
      `better, keep the password out of the URL: remove it from ${from} (redis://host:port/db) and set it once in REDIS_PASSWORD ${ctx.where}; every connection whose URL carries no password uses it`,
    ]
  }
  if (from === 'REDIS_PASSWORD_FILE') return [`or point REDIS_PASSWORD_FILE at the file that holds the right password ${ctx.where}`]
  return [`change ${passwordSetting(from)} ${ctx.where}`]
}

/** Fixes for the configuration errors of resolveConfig whose message alone is not enough. */
export function configErrorFixes (code: string, message: string, ctx: FixContext): string[] {
  if (code !== 'FRR_ERR_CONFLICTING_SETTINGS') return []
  // Two topologies for one client: the message's advice is the whole fix.
  if (message.includes(TOPOLOGY_ADVICE)) return [`${message.slice(message.indexOf('; ') + 2)} ${ctx.where}`]
  // The message starts "<first> and <second> disagree; …" with two setting names.
  const [first, second] = (message.split(' disagree')[0] as string).split(' and ') as [string, string]
  const { advice, details } = conflictAdvice(first, second)
  return [`${advice} ${ctx.where}`, ...details]
}
