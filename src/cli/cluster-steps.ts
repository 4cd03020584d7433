import { performance } from 'node:perf_hooks'
import { Cluster, type Redis } from 'ioredis'
import type { Address, ResolvedConnection } from '../config/index.js'
import { clusterOptions } from '../connection/topology-options.js'
import { classifyFailure, failureHint } from '../failure-class.js'
import { scrubError } from '../redact.js'
import { askEach, isUnreachable, type Answer } from './ask-each.js'
import { describeShards, downReasons, isMaster, parseClusterNodes, rangesText, shards, slotCoverage, type ClusterNode } from './cluster-facts.js'
import { failedStepDetail } from './fixes.js'
import { limiterStep } from './limiter-step.js'
import type { StepOutcome } from './network-steps.js'
import type { ProbeOptions } from './probe-connection.js'
import { describePolicy, infoField } from './redis-facts.js'
import type { TopologyProbeResult } from './sentinel-steps.js'
import { connectClient, dataOptions } from './server-client.js'
import { round, runSteps, StepProblem, type Failed, type Step } from './step-runner.js'
import { clusterDownProblem, hostPort, nodeFixes, notAClusterProblem, serverConnection, slotsUncoveredProblem, unreachableProblem } from './topology-fixes.js'
import type { ServerFacts, StepResult, TopologyReport } from './types.js'

/*
 * check on a Cluster connection: every listed node asked at once (reachable,
 * authenticated, a cluster node, what it knows of the cluster), then
 * cluster_state and slot coverage, then the steps of one server through an
 * ioredis Cluster with the plugin's own settings, as the app reaches it.
 */

type ClusterTopology = Extract<ResolvedConnection['topology'], { kind: 'cluster' }>

type NodeSays = { clusterDisabled: true } | { info: string; nodes: ClusterNode[] }

async function askNode (c: ResolvedConnection, address: Address, stepMs: number, track: (client: Redis) => void): Promise<NodeSays> {
  const client = await connectClient(dataOptions(serverConnection(c, address), stepMs), track)
  // As on one server: only an explicit AUTH tells a server without a password.
  if (c.password !== undefined && c.username === undefined) await client.call('AUTH', c.password)
  const info = await client.call('CLUSTER', 'INFO').catch((error: unknown) => error as Error)
  if (info instanceof Error) {
    if (/cluster support disabled/i.test(info.message)) return { clusterDisabled: true }
    throw info
  }
  return { info: String(info), nodes: parseClusterNodes(String(await client.call('CLUSTER', 'NODES'))) }
}

function credentials (c: ResolvedConnection): string {
  return c.username === undefined ? `the default user (password from ${c.passwordFrom})` : `ACL user "${c.username}" (password from ${c.passwordFrom})`
}

/** What the node says it is: a master of some slots, or a replica of one. */
function nodeRole (says: { nodes: ClusterNode[] }): string {
  const myself = says.nodes.find((n) => n.flags.includes('myself')) as ClusterNode
  if (myself.masterId === undefined) return `master of slots ${rangesText(myself.slots)}`
  return `replica of ${(says.nodes.find((n) => n.id === myself.masterId) as ClusterNode).address}`
}

function nodeLine (answer: Answer<NodeSays>, c: ResolvedConnection, options: ProbeOptions): { line: StepResult; problem?: StepProblem } {
  const address = hostPort(answer.address)
  const node = serverConnection(c, answer.address)
  const line = (status: StepResult['status'], detail: string): StepResult => ({ name: 'node', address, status, ms: answer.ms, detail: `${address}: ${detail}` })
  if (answer.error !== undefined) {
    const failure = classifyFailure(answer.error)
    const detail = failedStepDetail(failure, node, scrubError(answer.error, options.secrets).message)
    if (isUnreachable(failure)) return { line: line('warn', `unreachable, ${detail}`) }
    return { line: line('fail', detail), problem: new StepProblem(failure, detail, failureHint(failure, node), nodeFixes(failure, node, options.fixContext)) }
  }
  const says = answer.result as NodeSays
  if ('clusterDisabled' in says) {
    const problem = notAClusterProblem(c, answer.address, options.fixContext)
    return { line: line('fail', `not-a-cluster: ${problem.detail}`), problem }
  }
  if (c.password === undefined) return { line: line('warn', `no password set: the node lets in anyone who can reach it; ${nodeRole(says)}`) }
  return { line: line('ok', `authenticated as ${credentials(c)}; ${nodeRole(says)}`) }
}

function describeSlots (nodes: readonly ClusterNode[], options: ProbeOptions): StepOutcome {
  const { unserved } = slotCoverage(nodes)
  if (unserved.length > 0) throw slotsUncoveredProblem(rangesText(unserved), downReasons(nodes), options.fixContext)
  return describeShards(nodes)
}

/** The data side through an ioredis Cluster: ready, PING, each master's version and eviction policy, the limiter. */
function clusterSteps (c: ResolvedConnection, options: ProbeOptions, server: ServerFacts, hold: (cluster: Cluster) => void): Step[] {
  let cluster: Cluster | undefined
  const masters = (): Redis[] => (cluster as Cluster).nodes('master')
  const { limiter } = options
  return [{
    name: 'auth',
    run: async () => {
      cluster = new Cluster((c.topology as ClusterTopology).nodes.map(({ host, port }) => ({ host, port })), {
        ...clusterOptions(dataOptions(c, options.stepMs), {}, () => 0, options.stepMs),
        clusterRetryStrategy: () => null,
        lazyConnect: true,
      })
      hold(cluster)
      // connect() rejects with "None of startup nodes is available"; the reason, if any, came as an 'error' event.
      let lastError: unknown = new Error('the cluster client closed before it was ready')
      cluster.on('error', (error: unknown) => { lastError = error })
      await cluster.connect().catch(() => { throw lastError })
      const status = c.password === undefined ? 'warn' : 'ok'
      return { status, detail: `the cluster client is ready on ${masters().length} masters, ${c.password === undefined ? 'with no password set: the nodes let in anyone who can reach them' : `as ${credentials(c)}`}` }
    },
  }, {
    name: 'ping',
    run: async () => {
      const started = performance.now()
      const reply = await (cluster as Cluster).ping()
      return { status: 'ok', detail: `${reply} in ${round(performance.now() - started)} ms` }
    },
  }, {
    name: 'server',
    run: async () => {
      server.role = 'cluster'
      let infos: string[]
      try {
        infos = await Promise.all(masters().map((m) => m.info()))
      } catch (error) {
        return { status: 'warn', detail: `INFO failed: ${scrubError(error, options.secrets).message}; versions unknown` }
      }
      server.version = [...new Set(infos.map((info) => infoField(info, 'redis_version')))].join(', ')
      return { status: 'ok', detail: `Redis ${server.version} on ${infos.length} masters` }
    },
  }, {
    name: 'policy',
    run: async () => {
      // CONFIG may be renamed or denied; INFO memory says the same.
      const policies = await Promise.all(masters().map(async (m) => await m.call('CONFIG', 'GET', 'maxmemory-policy')
        .then((reply) => (reply as string[])[1], async () => infoField(await m.info('memory').catch(() => ''), 'maxmemory_policy'))))
      const distinct = [...new Set(policies)]
      const worst = describePolicy(distinct.find((p) => p !== 'noeviction') ?? distinct[0])
      if (distinct.length === 1) {
        server.maxmemoryPolicy = distinct[0]
        return worst
      }
      server.maxmemoryPolicy = distinct.join(', ')
      return { status: 'warn', detail: `the masters differ (${distinct.join(', ')}); ${worst.detail}` }
    },
  }, {
    name: 'limiter',
    run: async () => 'skipped' in limiter ? { status: 'skipped', detail: limiter.skipped } : limiterStep(cluster as Cluster, limiter.nameSpace),
  }]
}

export async function probeCluster (c: ResolvedConnection, options: ProbeOptions): Promise<TopologyProbeResult> {
  const { nodes } = c.topology as ClusterTopology
  const answers = await askEach(nodes, 2 * options.stepMs, (address, track) => askNode(c, address, options.stepMs, track))
  const lines = answers.map((answer) => nodeLine(answer, c, options))
  const results = lines.map((l) => l.line)
  let failed: Failed | null = null
  const problem = lines.find((l) => l.problem !== undefined)?.problem
  const views = answers.flatMap((a) => a.result !== undefined && 'info' in a.result ? [{ address: hostPort(a.address), ...a.result }] : [])
  if (problem === undefined && views.length === 0) {
    const [first] = answers as [Answer<NodeSays>, ...Array<Answer<NodeSays>>]
    for (const line of results) line.status = 'fail'
    const unreachable = unreachableProblem('node', classifyFailure(first.error), c, serverConnection(c, first.address), answers.length, options.fixContext)
    failed = { failure: { step: 'node', class: unreachable.failureClass, message: unreachable.detail, hint: unreachable.hint }, fixes: [...unreachable.fixes] }
  } else if (problem !== undefined) {
    failed = { failure: { step: 'node', class: problem.failureClass, message: problem.detail, hint: problem.hint }, fixes: [...problem.fixes] }
  }

  // The view of a node that says the cluster is down, if any does: that is what some clients see.
  const view = views.find((v) => infoField(v.info, 'cluster_state') !== 'ok') ?? views[0]
  const report: TopologyReport = {
    kind: 'cluster',
    nodes: answers.map((a) => ({ address: hostPort(a.address), ok: a.error === undefined })),
    state: view === undefined ? null : infoField(view.info, 'cluster_state') as string,
    slotsCovered: view === undefined ? null : slotCoverage(view.nodes).covered,
    masters: view === undefined ? [] : shards(view.nodes).map(({ master, replicas }) => ({ address: master.address, slots: rangesText(master.slots), replicas: replicas.map((r) => r.address) })),
  }
  const server: ServerFacts = {}
  let cluster: Cluster | undefined
  const ctx = { stepMs: options.stepMs, secrets: options.secrets, words: c, fixes: (failure: Parameters<typeof nodeFixes>[0]) => nodeFixes(failure, c, options.fixContext) }
  try {
    failed = await runSteps([
      {
        name: 'cluster',
        run: async () => {
          const { info, nodes: known, address } = view as NonNullable<typeof view>
          if (infoField(info, 'cluster_state') !== 'ok') throw clusterDownProblem(address, downReasons(known), options.fixContext)
          const masters = known.filter(isMaster).filter((n) => n.slots.length > 0).length
          return { status: 'ok', detail: `cluster_state:ok (seen from every node that answers), ${masters} masters with slots, ${known.length} nodes known` }
        },
      },
      { name: 'slots', run: async () => describeSlots((view as NonNullable<typeof view>).nodes, options) },
      ...clusterSteps(c, options, server, (held) => { cluster = held }),
    ], ctx, results, failed)
  } finally {
    cluster?.disconnect()
  }
  return { steps: results, failed, server, topology: report }
}
