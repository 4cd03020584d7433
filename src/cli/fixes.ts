import { conflictAdvice } from '../conflict-advice.js'
import type { ResolvedConnection } from '../config.js'
import type { FailureClass } from '../failure-class.js'

/*
 * `--fix-auth`: for each problem, the change that fixes it — which variable,
 * where, and on which side (app or server). Only variable names and
 * placeholders appear here, never a value.
 */

export interface FixContext {
  /** Where the app's variables live: the --env-file given, or a general pointer. */
  where: string
  /** The per-step bound, to say how long a hanging server was given. */
  stepMs: number
}

/** `in .env.production`, or a pointer to the usual places when no --env-file was given. */
export function fixLocation (envFiles: readonly string[]): string {
  return envFiles.length > 0
    ? `in ${envFiles[envFiles.length - 1]}`
    : "where the app's environment is defined (.env file, Compose environment:, Kubernetes Secret)"
}

export function connectionFixes (failure: FailureClass, c: ResolvedConnection, ctx: FixContext): string[] {
  const at = `${c.host}:${c.port}`
  const from = c.passwordFrom ?? 'no variable'
  switch (failure) {
    case 'password-missing':
      return [
        `the server at ${at} requires a password and "${c.name}" sends none: set REDIS_PASSWORD to the server's password (its requirepass, or the ACL user's password) ${ctx.where}`,
        'or set REDIS_PASSWORD_FILE to the path of a file that holds only the password (Docker and Kubernetes secrets); either one applies to every connection whose URL carries no password',
      ]
    case 'password-wrong':
      if (c.username !== undefined) {
        return [
          `the server rejected the ACL user "${c.username}" with the password from ${from}: the user may not exist, be disabled (off), or have another password`,
          `on the server, ACL GETUSER ${c.username} shows it; ACL SETUSER ${c.username} on ><password> ~* +@all creates or repairs it (narrow the permissions to what the app needs), and ACL SAVE or redis.conf keeps it`,
          `in the app, check REDIS_USERNAME (or the user in the URL) and ${from} ${ctx.where}`,
        ]
      }
      return [
        `the server at ${at} rejected the password from ${from}: set ${from} to the server's requirepass (redis.conf, the container's --requirepass, or CONFIG GET requirepass on the server) ${ctx.where}`,
        ...(from.endsWith('_URL')
          ? [`better, keep the password out of the URL: remove it from ${from} (redis://host:port/db) and set it once in REDIS_PASSWORD`]
          : []),
      ]
    case 'password-not-required':
      return [
        `the server at ${at} has no password, so anyone who can reach it can read and change every key; the app sends the one from ${from} for nothing`,
        `safer: keep ${from} and make the server require it: CONFIG SET requirepass with that same value on the server, plus requirepass in redis.conf (or --requirepass on its command line) so it survives a restart`,
        `only if this server is meant to be open (a local development server): remove ${from} ${ctx.where}`,
      ]
    case 'refused':
      return [
        `nothing accepts connections at ${at}: start Redis there, or correct the host and port (they come from ${c.locatedBy})`,
        'a Redis in Docker Compose or Kubernetes is reached by its service name (e.g. redis:6379) from inside that network, and at 127.0.0.1 with the published port from outside it (docker compose port redis 6379)',
      ]
    case 'hanging':
      return [
        `${at} accepted the connection but gave no answer within ${ctx.stepMs} ms: check that the Redis process is not stopped (SIGSTOP, a debugger, a paused container: docker ps, docker unpause)`,
        'or overloaded (redis-cli --latency, SLOWLOG GET, a long-running script), and that no firewall, proxy or NAT drops the traffic on the way',
      ]
    case 'dns':
      return [
        `the host name "${c.host}" does not resolve here: check ${c.locatedBy}`,
        'a container service name such as "redis" resolves only inside its Compose or Kubernetes network: from outside it use 127.0.0.1 with the published port; inside it, use the service name (not localhost)',
      ]
    case 'tls':
      return [
        `TLS to ${at} failed: a plain Redis port meets a TLS handshake with silence or an error, so unless this is the server's tls-port, turn TLS off (redis:// instead of rediss://, REDIS_TLS unset) ${ctx.where}`,
        `on a TLS port, the certificate must match "${c.host}" and be trusted (for a private CA: NODE_EXTRA_CA_CERTS=/path/to/ca.pem); if nothing answers at all, the server may be hanging (see a stopped process, a firewall)`,
      ]
    case 'connection-lost':
      return [
        `${at} accepted the connection and closed it: often a proxy or port forward (docker-proxy, kubectl port-forward, an SSH tunnel, a load balancer) whose Redis behind it is down; otherwise the server's log says why (maxclients, protected mode)`,
      ]
    case 'other':
      return [
        'the server answered with the error shown above; a NOPERM error means the ACL user lacks a permission: grant it on the server with ACL SETUSER <user> +<command>',
      ]
  }
}

/** Fixes for the configuration errors of resolveConfig whose message alone is not enough. */
export function configErrorFixes (code: string, message: string, ctx: FixContext): string[] {
  if (code !== 'FRR_ERR_CONFLICTING_SETTINGS') return []
  // The message starts "<first> and <second> disagree; …" with two setting names.
  const [first, second] = (message.split(' disagree')[0] as string).split(' and ') as [string, string]
  const { advice, details } = conflictAdvice(first, second)
  return [`${advice} ${ctx.where}`, ...details]
}
