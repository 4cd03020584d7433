import { clientNamesFromEnv, DEFAULT_CLIENT } from '../config/client-names.js'
import { resolveConfig, type Env, type ResolvedConnection, type ResolvedConfig } from '../config/index.js'
import type { ResilientRedisError } from '../errors.js'
import { DEFAULT_NAMESPACE } from '../acl-rule.js'
import { resolveRateLimit, type ResolvedRateLimit } from '../rate-limit/settings.js'
import { envSecrets, scrubText } from '../redact.js'
import { probeCluster } from './cluster-steps.js'
import { configErrorFixes, fixLocation, type FixContext } from './fixes.js'
import { probeConnection, type ProbeOptions } from './probe-connection.js'
import { probeSentinel, type TopologyProbeResult } from './sentinel-steps.js'
import type { CheckReport, ConnectionReport } from './types.js'

export interface CheckOptions {
  envFiles: readonly string[]
  /** Bound for each step of each connection, in milliseconds. */
  stepMs: number
  version: string
  /** The rate limiter's key prefix (the app's `rateLimit.nameSpace`), if given; else the plugin's default. */
  nameSpace: string | undefined
}

/**
 * Resolves the connections exactly as the plugin does (the default one, and
 * one per REDIS_<NAME>_URL) and probes them all at once. A configuration
 * error is reported, not thrown.
 */
export async function check (env: Env, options: CheckOptions): Promise<CheckReport> {
  const where = fixLocation(options.envFiles)
  const secrets = envSecrets(env)
  let config: ResolvedConfig
  let limits: ResolvedRateLimit
  try {
    config = resolveConfig({ env, clients: Object.fromEntries(clientNamesFromEnv(env).map((name) => [name, {}])) })
    limits = resolveRateLimit(options.nameSpace === undefined ? undefined : { nameSpace: options.nameSpace }, env)
  } catch (thrown) {
    // resolveConfig throws only its coded FRR_ERR_* errors, whose messages name settings, never values.
    const error = thrown as ResilientRedisError
    const message = scrubText(error.message, secrets)
    return { ok: false, version: options.version, connections: [], error: { code: error.code, message, fixes: configErrorFixes(error.code, message, { where, stepMs: options.stepMs, nameSpace: options.nameSpace ?? DEFAULT_NAMESPACE }) } }
  }
  secrets.push(...config.connections.flatMap((c) => [c.password, c.topology.kind === 'sentinel' ? c.topology.sentinelPassword : undefined].filter((p) => p !== undefined)))
  const ctx: FixContext = { where, stepMs: options.stepMs, nameSpace: limits.enabled ? limits.nameSpace : DEFAULT_NAMESPACE }
  const connections = await Promise.all(config.connections.map(async (connection) => {
    // The rate limiter counts on the default connection only.
    const limiter = connection.name !== DEFAULT_CLIENT ? { skipped: 'rate limiting counts on the default connection only' }
      : limits.enabled ? { nameSpace: limits.nameSpace } : { skipped: 'rate limiting is off (DISABLE_THROTTLING)' }
    return checkConnection(connection, { stepMs: options.stepMs, secrets, limiter, fixContext: ctx })
  }))
  return { ok: connections.every((c) => c.ok), version: options.version, connections, error: null }
}

/** The probe of each topology; every one closes what it opened before it resolves. */
async function probe (connection: ResolvedConnection, options: ProbeOptions): Promise<TopologyProbeResult> {
  switch (connection.topology.kind) {
    case 'sentinel': return probeSentinel(connection, options)
    case 'cluster': return probeCluster(connection, options)
    case 'single': return { ...await probeConnection(connection, options), topology: { kind: 'single' } }
  }
}

async function checkConnection (connection: ResolvedConnection, options: ProbeOptions): Promise<ConnectionReport> {
  const { steps, failed, server, topology } = await probe(connection, options)
  return {
    name: connection.name,
    url: connection.display,
    locatedBy: connection.locatedBy,
    passwordSet: connection.password !== undefined,
    passwordFrom: connection.passwordFrom ?? null,
    username: connection.username ?? null,
    ok: failed === null,
    steps,
    failure: failed?.failure ?? null,
    server,
    topology,
    fixes: failed?.fixes ?? [],
  }
}
