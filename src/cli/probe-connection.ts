import type net from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Redis } from 'ioredis'
import type { ResolvedConnection } from '../config/index.js'
import { scrubError } from '../redact.js'
import { fixesFor, type FixContext } from './fixes.js'
import { dnsStep, tcpStep, tlsStep, type StepOutcome } from './network-steps.js'
import { limiterStep } from './limiter-step.js'
import { describePolicy, describeServer, infoField, serverRole } from './redis-facts.js'
import { connectClient, dataOptions } from './server-client.js'
import { round, runSteps, type Failed, type Step } from './step-runner.js'
import type { ServerFacts, StepResult } from './types.js'

export interface ProbeOptions {
  /** Bound for each step, in milliseconds. */
  stepMs: number
  /** Every configured password, scrubbed from every message. */
  secrets: readonly string[]
  /** The rate limiter's key prefix when it counts on this connection, else why the limiter step is skipped. */
  limiter: { nameSpace: string } | { skipped: string }
  /** For the fixes of a failure. */
  fixContext: FixContext
}

export interface ProbeResult {
  steps: StepResult[]
  /** The first failure and its fixes, or null. */
  failed: Failed | null
  server: ServerFacts
}

/**
 * Runs every step against one server, in order, each bounded by `stepMs`;
 * the first failure skips the rest. Whatever happens, every socket and the
 * Redis client are closed before this resolves. Sentinel runs it on the
 * master the sentinels name.
 */
export async function probeConnection (connection: ResolvedConnection, options: ProbeOptions): Promise<ProbeResult> {
  const { stepMs, secrets, limiter, fixContext } = options
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket): void => { sockets.add(socket) }
  const server: ServerFacts = {}
  let client: Redis | undefined
  let info: string | undefined

  const auth = async (): Promise<StepOutcome> => {
    client = await connectClient(dataOptions(connection, stepMs), (c) => { client = c })
    if (connection.password === undefined) {
      return { status: 'warn', detail: 'no password set: the server lets in anyone who can reach it' }
    }
    if (connection.username !== undefined) {
      return { status: 'ok', detail: `authenticated as ACL user "${connection.username}" (password from ${connection.passwordFrom})` }
    }
    // ioredis connects even when the server has no password at all; only an explicit AUTH tells.
    await client.call('AUTH', connection.password)
    return { status: 'ok', detail: `authenticated as the default user (password from ${connection.passwordFrom})` }
  }

  const ping = async (): Promise<StepOutcome> => {
    const started = performance.now()
    const reply = await (client as Redis).ping()
    return { status: 'ok', detail: `${reply} in ${round(performance.now() - started)} ms` }
  }

  const serverStep = async (): Promise<StepOutcome> => {
    try {
      info = await (client as Redis).info()
    } catch (error) {
      return { status: 'warn', detail: `INFO failed: ${scrubError(error, secrets).message}; version and role unknown` }
    }
    server.version = infoField(info, 'redis_version')
    server.role = serverRole(info)
    return describeServer(server.version, server.role)
  }

  const policy = async (): Promise<StepOutcome> => {
    // CONFIG may be renamed or denied; INFO memory says the same.
    const fromConfig = await (client as Redis).call('CONFIG', 'GET', 'maxmemory-policy')
      .then((reply) => (reply as string[])[1], () => undefined)
    server.maxmemoryPolicy = fromConfig ?? (info === undefined ? undefined : infoField(info, 'maxmemory_policy'))
    return describePolicy(server.maxmemoryPolicy)
  }

  const steps: Step[] = [
    // Any failure to resolve is a name problem, a slow resolver included.
    { name: 'dns', run: () => dnsStep(connection.host), classify: () => 'dns' },
    { name: 'tcp', run: () => tcpStep(connection.host, connection.port, track) },
    // TCP worked, so a handshake that fails or gets no answer (a plain port waits
    // silently for a line that never comes) is a TLS problem.
    { name: 'tls', run: () => tlsStep(connection, track), classify: () => 'tls' },
    { name: 'auth', run: auth },
    { name: 'ping', run: ping },
    { name: 'server', run: serverStep },
    { name: 'policy', run: policy },
    {
      name: 'limiter',
      run: async () => 'skipped' in limiter ? { status: 'skipped', detail: limiter.skipped } : limiterStep(client as Redis, limiter.nameSpace),
    },
  ]

  const results: StepResult[] = []
  let failed: Failed | null = null
  try {
    failed = await runSteps(steps, { stepMs, secrets, words: connection, fixes: fixesFor(connection, fixContext) }, results)
  } finally {
    for (const socket of sockets) socket.destroy()
    // Never waits: a server that stopped answering gets its socket destroyed after disconnectTimeout.
    ;(client as Redis | undefined)?.disconnect()
  }
  return { steps: results, failed, server }
}
