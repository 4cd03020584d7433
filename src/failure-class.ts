/*
 * What went wrong with a Redis connection, in the words an operator needs.
 * The wording of ioredis 6 / Redis 6–7 errors is matched here and nowhere else.
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
  | 'other'

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
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | null | undefined)?.code
  const upper = message.toUpperCase()

  if (upper.startsWith('NOAUTH')) return 'password-missing'
  if (upper.startsWith('WRONGPASS') || upper.includes('INVALID PASSWORD') || upper.includes('INVALID USERNAME-PASSWORD')) return 'password-wrong'
  if (upper.includes('CALLED WITHOUT ANY PASSWORD CONFIGURED') || upper.includes('NO PASSWORD IS SET')) return 'password-not-required'
  if (message === 'Command timed out' || message.startsWith('Socket timeout')) return 'hanging'
  if (/\b(TLS|SSL)\b/i.test(message) || (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT')))) return 'tls'
  if (typeof code === 'string' && NETWORK_CODES[code] !== undefined) return NETWORK_CODES[code]
  if (message === 'Connection is closed.') return 'connection-lost'
  return 'other'
}

/** Auth failures need a configuration change; the others may heal on their own. */
export function isAuthFailure (failure: FailureClass): boolean {
  return failure === 'password-missing' || failure === 'password-wrong' || failure === 'password-not-required'
}

/** One sentence per class: what it means and what to check. Never names a secret. */
export function failureHint (failure: FailureClass, where: { host: string; port: number; passwordFrom: string | undefined; tls?: unknown }): string {
  const at = `${where.host}:${where.port}`
  switch (failure) {
    case 'refused':
      return `nothing accepts connections at ${at}: check that Redis is running and that host and port are right`
    case 'hanging':
      return `the server at ${at} accepts connections but does not answer in time: it may be stopped, overloaded or behind a stalled network${where.tls === undefined ? '' : ', or not speak TLS on this port (TLS is on)'}`
    case 'connection-lost':
      return `the connection to ${at} was closed by the server or something in between${where.tls === undefined ? ' (if that port expects TLS, use rediss:// or REDIS_TLS=true)' : ''}`
    case 'password-missing':
      return 'the server requires a password and none is configured: set REDIS_PASSWORD (or REDIS_PASSWORD_FILE, or a password in the URL)'
    case 'password-wrong':
      return `the server rejected the credentials from ${where.passwordFrom ?? 'the configuration'}: check the password (and REDIS_USERNAME for an ACL user)`
    case 'password-not-required':
      return `a password is configured (${where.passwordFrom ?? 'configuration'}) but the server at ${at} has none, so anyone who reaches it can use it: set requirepass on the server, or remove the password if this is the server you meant`
    case 'dns':
      return `the host name "${where.host}" does not resolve: check REDIS_HOST / the URL (a container service name only resolves inside its network; use 127.0.0.1 outside it)`
    case 'tls':
      return `the TLS handshake with ${at} failed: check REDIS_TLS / rediss:// against the server's TLS port and certificate`
    case 'other':
      return `unexpected error talking to ${at}`
  }
}
