import type { Redis } from 'ioredis'
import type { Address, ResolvedConnection } from '../config/index.js'
import { classifyFailure, failureHint, isAuthFailure } from '../failure-class.js'
import { scrubError } from '../redact.js'
import { askEach, isUnreachable, type Answer } from './ask-each.js'
import { connectionFixes, failedStepDetail, fixesFor } from './fixes.js'
import { probeConnection, type ProbeOptions, type ProbeResult } from './probe-connection.js'
import { describeMaster, describeReplicas, masterNames, masterView, replicaViews, type MasterView, type ReplicaView } from './sentinel-facts.js'
import { checkOptions, connectClient } from './server-client.js'
import { notRun, runSteps, type Failed, StepProblem } from './step-runner.js'
import { defaultSentinelPassword, hostPort, ofSentinel, noQuorumProblem, notASentinelProblem, sentinelAuthProblem, serverConnection, unknownMasterProblem, unreachableProblem } from './topology-fixes.js'
import { STEP_NAMES, type StepResult, type TopologyReport } from './types.js'

/*
 * check on a Sentinel connection: every sentinel asked at once (reachable,
 * authenticated, a sentinel, and what it knows of the master set), then the
 * master's address and its replicas, then the steps of one server on the
 * master the sentinels name, as the app's client would reach it.
 */

type Sentinel = Extract<ResolvedConnection['topology'], { kind: 'sentinel' }>

export type TopologyProbeResult = ProbeResult & { topology: TopologyReport }

/** What one sentinel said: it is no sentinel, or it knows the set, or the names it knows instead. */
type SentinelSays =
  | { notASentinel: true }
  | { open: boolean; view: MasterView; replicas: ReplicaView[] }
  | { open: boolean; known: string[] }

async function askSentinel (topology: Sentinel, address: Address, stepMs: number, track: (client: Redis) => void): Promise<SentinelSays> {
  const client = await connectClient({
    host: address.host,
    port: address.port,
    ...(topology.sentinelUsername === undefined ? {} : { username: topology.sentinelUsername }),
    ...(topology.sentinelPassword === undefined ? {} : { password: topology.sentinelPassword }),
    commandTimeout: stepMs,
    maxRetriesPerRequest: 0,
    ...checkOptions(stepMs),
  }, track)
  let open = topology.sentinelPassword === undefined
  if (!open && topology.sentinelUsername === undefined) {
    // As on one server: ioredis connects to a sentinel without a password too; only an explicit AUTH tells.
    // Any other error of it (a timeout) shows in the command after it.
    open = await client.call('AUTH', topology.sentinelPassword as string).then(() => false, (error: unknown) => classifyFailure(error) === 'password-not-required')
  }
  const master = await client.call('SENTINEL', 'MASTER', topology.masterName).catch((error: unknown) => error as Error)
  if (master instanceof Error) {
    if (/unknown command/i.test(master.message)) return { notASentinel: true }
    if (!/no such master/i.test(master.message)) throw master
    return { open, known: masterNames(await client.call('SENTINEL', 'MASTERS')) }
  }
  return { open, view: masterView(master), replicas: replicaViews(await client.call('SENTINEL', 'REPLICAS', topology.masterName)) }
}

/** The `sentinel` line of one answer, and the failure it is when it is one. */
function sentinelLine (answer: Answer<SentinelSays>, c: ResolvedConnection, options: ProbeOptions, fellBack: boolean): { line: StepResult; problem?: StepProblem } {
  const topology = c.topology as Sentinel
  const address = hostPort(answer.address)
  const words = serverConnection(c, answer.address, topology)
  const line = (status: StepResult['status'], detail: string): StepResult => ({ name: 'sentinel', address, status, ms: answer.ms, detail: `${address}: ${detail}` })
  if (answer.error !== undefined) {
    const failure = classifyFailure(answer.error)
    const detail = ofSentinel(failedStepDetail(failure, words, scrubError(answer.error, options.secrets).message))
    if (isUnreachable(failure)) return { line: line('warn', `unreachable, ${detail}`) }
    const problem = isAuthFailure(failure)
      ? sentinelAuthProblem(failure, c, answer.address, options.fixContext)
      : new StepProblem(failure, detail, ofSentinel(failureHint(failure, words)), connectionFixes(failure, words, options.fixContext))
    return { line: line('fail', detail), problem }
  }
  const says = answer.result as SentinelSays
  if ('notASentinel' in says) {
    const problem = notASentinelProblem(c, answer.address, options.fixContext)
    return { line: line('fail', `not-a-sentinel: ${problem.detail}`), problem }
  }
  const from = topology.sentinelPasswordFrom
  const authenticated = topology.sentinelPassword === undefined
    ? 'no password set: the sentinel lets in anyone who can reach it'
    : says.open
      ? `has no password, so ${fellBack ? 'the data password it gets by default' : `the password from ${from}`} is not needed: anyone who reaches it can use it (requirepass in sentinel.conf)`
      : `authenticated${topology.sentinelUsername === undefined ? '' : ` as ACL user "${topology.sentinelUsername}"`} (password from ${from})`
  if ('known' in says) return { line: line('warn', `${authenticated}; watches no master named "${topology.masterName}"`) }
  return { line: line(says.open || topology.sentinelPassword === undefined ? 'warn' : 'ok', `${authenticated}; knows "${topology.masterName}" at ${says.view.address}`) }
}

export async function probeSentinel (c: ResolvedConnection, options: ProbeOptions): Promise<TopologyProbeResult> {
  const topology = c.topology as Sentinel
  const answers = await askEach(topology.sentinels, 2 * options.stepMs, (address, track) => askSentinel(topology, address, options.stepMs, track))
  const fellBack = defaultSentinelPassword(topology)
  const lines = answers.map((answer) => sentinelLine(answer, c, options, fellBack))
  const results = lines.map((l) => l.line)
  const toFailed = (problem: StepProblem, step: StepResult['name']): Failed =>
    ({ failure: { step, class: problem.failureClass, message: problem.detail, hint: problem.hint }, fixes: [...problem.fixes] })

  let failed: Failed | null = null
  const firstProblem = lines.find((l) => l.problem !== undefined)?.problem
  const answering = answers.filter((a) => a.error === undefined)
  if (firstProblem !== undefined) {
    failed = toFailed(firstProblem, 'sentinel')
  } else if (answering.length === 0) {
    const [first] = answers as [Answer<SentinelSays>, ...Array<Answer<SentinelSays>>]
    for (const line of results) line.status = 'fail'
    failed = toFailed(unreachableProblem('sentinel', classifyFailure(first.error), c, serverConnection(c, first.address, topology), answers.length, options.fixContext), 'sentinel')
  }

  const says = answering.map((a) => a.result as SentinelSays)
  const views = says.flatMap((s) => 'view' in s ? [s] : [])
  const report: TopologyReport = {
    kind: 'sentinel',
    masterName: topology.masterName,
    sentinelPasswordFrom: topology.sentinelPasswordFrom ?? null,
    sentinelUsername: topology.sentinelUsername ?? null,
    sentinels: answers.map((a) => ({ address: hostPort(a.address), ok: a.error === undefined })),
    quorum: views[0]?.view.quorum ?? null,
    master: views[0]?.view.address ?? null,
    replicas: views[0]?.replicas.map((r) => r.address) ?? [],
  }

  const words = serverConnection(c, topology.sentinels[0] as Address, topology)
  failed = await runSteps([
    {
      name: 'master',
      run: async () => {
        // No sentinel knows the set, and none failed (or this did not run): each told the names it knows.
        if (views.length === 0) throw unknownMasterProblem(c, [...new Set(says.flatMap((s) => (s as { known: string[] }).known))], options.fixContext)
        const { quorum } = (views[0] as { view: MasterView }).view
        if (answering.length < answers.length && answering.length < quorum) throw noQuorumProblem(c, answering.length, answers.length, quorum, options.fixContext)
        return describeMaster(topology.masterName, views.map((v) => v.view), answers.length)
      },
    },
    { name: 'replicas', run: async () => describeReplicas((views[0] as { replicas: ReplicaView[] }).replicas) },
  ], { stepMs: options.stepMs, secrets: options.secrets, words, fixes: fixesFor(words, options.fixContext) }, results, failed)

  if (failed !== null) {
    results.push(...STEP_NAMES.map((name) => notRun(name, (failed as Failed).failure.step)))
    return { steps: results, failed, server: {}, topology: report }
  }
  // The one-server steps, on the master as the sentinels name it (where the app's client goes).
  const { view } = views[0] as { view: MasterView }
  const master = await probeConnection(serverConnection(c, { host: view.host, port: view.port }), options)
  return { steps: [...results, ...master.steps], failed: master.failed, server: master.server, topology: report }
}
