import { clientNamesFromEnv } from '../client-names.js'
import { resolveConfig, type Env, type ResolvedConnection, type ResolvedConfig } from '../config.js'
import type { ResilientRedisError } from '../errors.js'
import { envSecrets, scrubText } from '../redact.js'
import { configErrorFixes, connectionFixes, fixLocation, type FixContext } from './fixes.js'
import { probeConnection } from './probe-connection.js'
import type { CheckReport, ConnectionReport } from './types.js'

export interface CheckOptions {
  envFiles: readonly string[]
  /** Bound for each step of each connection, in milliseconds. */
  stepMs: number
  version: string
}

/**
 * Resolves the connections exactly as the plugin does (the default one, and
 * one per REDIS_<NAME>_URL) and probes them all at once. A configuration
 * error is reported, not thrown.
 */
export async function check (env: Env, options: CheckOptions): Promise<CheckReport> {
  const ctx: FixContext = { where: fixLocation(options.envFiles), stepMs: options.stepMs }
  const secrets = envSecrets(env)
  let config: ResolvedConfig
  try {
    config = resolveConfig({ env, clients: Object.fromEntries(clientNamesFromEnv(env).map((name) => [name, {}])) })
  } catch (thrown) {
    // resolveConfig throws only its coded FRR_ERR_* errors, whose messages name settings, never values.
    const error = thrown as ResilientRedisError
    const message = scrubText(error.message, secrets)
    return { ok: false, version: options.version, connections: [], error: { code: error.code, message, fixes: configErrorFixes(error.code, message, ctx) } }
  }
  secrets.push(...config.connections.flatMap((c) => c.password === undefined ? [] : [c.password]))
  const connections = await Promise.all(config.connections.map(async (connection) => checkConnection(connection, secrets, options, ctx)))
  return { ok: connections.every((c) => c.ok), version: options.version, connections, error: null }
}

async function checkConnection (connection: ResolvedConnection, secrets: readonly string[], options: CheckOptions, ctx: FixContext): Promise<ConnectionReport> {
  const { steps, failure, server } = await probeConnection(connection, { stepMs: options.stepMs, secrets })
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
