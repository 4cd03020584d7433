/*
 * What an ACL user needs for this plugin, in one place: the log lines, the
 * health report, `check --fix-auth` and README print the same rule.
 */

/** The rate limiter's key prefix unless `rateLimit.nameSpace` says otherwise. */
export const DEFAULT_NAMESPACE = 'frr-rate-limit:'

/**
 * The commands the plugin sends: the rate limiter's script (EVALSHA, EVAL when
 * the server does not have it yet) and what runs inside it, then the health
 * report's PING.
 */
export const REQUIRED_COMMANDS = ['eval', 'evalsha', 'incrby', 'pexpire', 'pttl', 'ping'] as const

/** A key pattern matching exactly the keys that start with `prefix` (glob characters escaped). */
export function keyPattern (prefix: string): string {
  return `~${prefix.replace(/[*?[\]\\]/g, (char) => `\\${char}`)}*`
}

/**
 * The least an ACL user needs: `ACL SETUSER <user> ~<prefix>* +eval …`. It
 * adds to what the user has, so it repairs an existing user too.
 */
export function aclRule (username: string | undefined, nameSpace = DEFAULT_NAMESPACE): string {
  return `ACL SETUSER ${username ?? 'default'} ${keyPattern(nameSpace)} ${REQUIRED_COMMANDS.map((command) => `+${command}`).join(' ')}`
}

