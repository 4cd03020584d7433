import { clientNamesFromEnv, DEFAULT_CLIENT } from '../client-names.js'
import { resolveConfig, type Env, type ResolvedConnection, type ResolvedConfig } from '../config.js'
import type { ResilientRedisError } from '../errors.js'
import { resolveRateLimit } from '../rate-limit/settings.js'
import { envSecrets, scrubText } from '../redact.js'
import { configErrorFixes, connectionFixes, fixLocation, type FixContext } from './fixes.js'
import { probeConnection, type ProbeOptions } from './probe-connection.js'
import type { CheckReport, ConnectionReport } from './types.js'

export interface CheckOptions {
  envFiles: readonly string[]
  /** Bound for each step of each connection, in milliseconds. */
  stepMs: number
  version: string
  /** The rate limiter's key prefix (the app's `rateLimit.nameSpace`). */
  nameSpace: string
}

/**
 * Resolves the connections exactly as the plugin does (the default one, and
 * one per REDIS_<NAME>_URL) and probes them all at once. A configuration
 * error is reported, not thrown.
 */
export async function check (env: Env, options: CheckOptions): Promise<CheckReport> {
  const ctx: FixContext = { where: fixLocation(options.envFiles), stepMs: options.stepMs, nameSpace: options.nameSpace }
  const secrets = envSecrets(env)
  let config: ResolvedConfig
  let limiting: boolean
  try {
    config = resolveConfig({ env, clients: Object.fromEntries(clientNamesFromEnv(env).map((name) => [name, {}])) })
    limiting = resolveRateLimit(undefined, env).enabled
  } catch (thrown) {
    // resolveConfig throws only its coded FRR_ERR_* errors, whose messages name settings, never values.
    const error = thrown as ResilientRedisError
    const message = scrubText(error.message, secrets)
    return { ok: false, version: options.version, connections: [], error: { code: error.code, message, fixes: configErrorFixes(error.code, message, ctx) } }
  }
  secrets.push(...config.connections.flatMap((c) => c.password === undefined ? [] : [c.password]))
  const connections = await Promise.all(config.connections.map(async (connection) => {
    // The rate limiter counts on the default connection only.
    const limiter = connection.name !== DEFAULT_CLIENT ? { skipped: 'rate limiting counts on the default connection only' }
      : limiting ? { nameSpace: options.nameSpace } : { skipped: 'rate limiting is off (DISABLE_THROTTLING)' }
    return checkConnection(connection, secrets, { ...options, limiter }, ctx)
  }))
  return { ok: connections.every((c) => c.ok), version: options.version, connections, error: null }
}

async function checkConnection (connection: ResolvedConnection, secrets: readonly string[], options: CheckOptions & Pick<ProbeOptions, 'limiter'>, ctx: FixContext): Promise<ConnectionReport> {
  const { steps, failure, server } = await probeConnection(connection, { stepMs: options.stepMs, secrets, limiter: options.limiter })
  return {
    name: connection.name,
    url: connection.display,
    locatedBy: connection.locatedBy,
    passwordSet: connection.password !== undefined,
    passwordFrom: connection.passwordFrom ?? null,
    username: connection.username ?? null,
    ok: failure === null,
    steps,
    failure,
    server,
    fixes: failure === null ? [] : connectionFixes(failure.class, connection, ctx),
  }
}
