import type { Address, ResolvedConnection } from '../config/index.js'
import { isUrlSetting, settingName } from '../config/setting-words.js'
import { failureSummary, isAuthFailure, type FailureClass } from '../failure-class.js'
import { connectionFixes, type FixContext } from './fixes.js'
import { StepProblem } from './step-runner.js'

/*
 * The words of what only a Sentinel set or a Cluster gets wrong: each a
 * StepProblem whose hint names the setting and what to do, and whose fixes
 * (check --fix-auth) spell it out. Setting names and addresses only, never
 * a value of a password.
 */

type Sentinel = Extract<ResolvedConnection['topology'], { kind: 'sentinel' }>

export const hostPort = ({ host, port }: Address): string => `${host}:${port}`

/** The connection as it is to one server of the topology: a sentinel (with the sentinels' credentials) or a node. */
export function serverConnection (c: ResolvedConnection, address: Address, sentinel?: Sentinel): ResolvedConnection {
  const server = { ...c, host: address.host, port: address.port, topology: { kind: 'single' } as const }
  if (sentinel === undefined) return server
  return { ...server, db: 0, username: sentinel.sentinelUsername, password: sentinel.sentinelPassword, passwordFrom: sentinel.sentinelPasswordFrom }
}

/** The words of one server, said of a sentinel. */
export const ofSentinel = (text: string): string => text.replace('the server at', 'the sentinel at')

/** True when the sentinels get the data password because no password of their own is set. */
export function defaultSentinelPassword (topology: Sentinel): boolean {
  return topology.sentinelPasswordFrom !== undefined && !topology.sentinelPasswordFrom.startsWith('REDIS_SENTINEL_') && topology.sentinelPasswordFrom !== 'sentinelPassword option'
}

const SENTINEL_REQUIREPASS = "a sentinel's own password is the requirepass line of its sentinel.conf (not sentinel auth-pass, which is the password the sentinels use with the master); every sentinel of the set should have the same one"

/** A sentinel rejected the credentials, or wants some: the fix is on the sentinel side of the settings, never REDIS_PASSWORD. */
export function sentinelAuthProblem (failure: FailureClass, c: ResolvedConnection, address: Address, ctx: FixContext): StepProblem {
  const topology = c.topology as Sentinel
  const words = serverConnection(c, address, topology)
  const summary = ofSentinel(failureSummary(failure, words))
  const user = topology.sentinelUsername === undefined ? '' : ` and REDIS_SENTINEL_USERNAME ("${topology.sentinelUsername}"; ACL GETUSER ${topology.sentinelUsername} on the sentinel shows the user)`
  let action: string
  if (failure === 'password-missing') action = "set REDIS_SENTINEL_PASSWORD (or REDIS_SENTINEL_PASSWORD_FILE) to the sentinels' password"
  else if (defaultSentinelPassword(topology)) action = `REDIS_SENTINEL_PASSWORD is unset, so the sentinels get the data password (${settingName(topology.sentinelPasswordFrom as string)}); set REDIS_SENTINEL_PASSWORD (or REDIS_SENTINEL_PASSWORD_FILE) to the sentinels' own password${user}`
  else action = `check ${settingName(topology.sentinelPasswordFrom as string)}${user}: it must be the sentinels' password`
  const hint = `${summary}: ${action}`
  return new StepProblem(failure, summary, hint, [hint, `make the change ${ctx.where}; the data password (REDIS_PASSWORD) stays as it is`, SENTINEL_REQUIREPASS])
}

/** Not one server of the list answers: their addresses are the first suspect. */
export function unreachableProblem (what: 'sentinel' | 'node', failure: FailureClass, c: ResolvedConnection, first: ResolvedConnection, count: number, ctx: FixContext): StepProblem {
  const list = settingName(c.locatedBy)
  const summary = `none of the ${count} ${what === 'sentinel' ? 'sentinels' : 'cluster nodes'} in ${list} answers (the first: ${failureSummary(failure, first)})`
  const port = what === 'sentinel' ? 'port 26379 unless given' : 'port 6379 unless given'
  const hint = `${summary}: start them, or correct ${list} (host:port of each, ${port})`
  return new StepProblem(failure, summary, hint, [hint, ...connectionFixes(failure, first, ctx).slice(1)])
}

/** Where the server alone would go: a redis:// URL in place of the topology's setting. */
function singleServerAdvice (c: ResolvedConnection, address: Address): string {
  const url = `redis://${hostPort(address)}`
  return isUrlSetting(c.locatedBy) ? `${url} in ${settingName(c.locatedBy)}` : `REDIS_URL=${url} instead of ${settingName(c.locatedBy)}`
}

export function notASentinelProblem (c: ResolvedConnection, address: Address, ctx: FixContext): StepProblem {
  const summary = `${hostPort(address)} answers as a Redis server, not as a sentinel (SENTINEL is an unknown command there)`
  const hint = `${summary}: list the sentinels (port 26379 unless changed) in ${settingName(c.locatedBy)}, or to use that server alone, ${singleServerAdvice(c, address)}`
  return new StepProblem('not-a-sentinel', summary, hint, [hint, `make the change ${ctx.where}; INFO server on a sentinel says redis_mode:sentinel`])
}

/** The setting the master name comes from. */
function nameSetting (c: ResolvedConnection): string {
  return isUrlSetting(c.locatedBy) ? `the master name in ${settingName(c.locatedBy)} (redis+sentinel://…/<name>)` : 'REDIS_SENTINEL_NAME (default mymaster)'
}

export function unknownMasterProblem (c: ResolvedConnection, known: readonly string[], ctx: FixContext): StepProblem {
  const { masterName } = c.topology as Sentinel
  const watched = known.length === 0 ? 'they watch no master at all' : `they watch ${known.map((n) => `"${n}"`).join(', ')}`
  const summary = `the sentinels that answer know no master named "${masterName}" (${watched})`
  const hint = `${summary}: set ${nameSetting(c)} to the master set's name`
  return new StepProblem('unknown-master', summary, hint, [
    `${hint} ${ctx.where}`,
    'SENTINEL MASTERS on a sentinel lists the names it watches; sentinel.conf names them in its sentinel monitor <name> <host> <port> <quorum> lines',
  ])
}

export function noQuorumProblem (c: ResolvedConnection, answering: number, listed: number, quorum: number, ctx: FixContext): StepProblem {
  const summary = `only ${answering} of the ${listed} sentinels in ${settingName(c.locatedBy)} can be reached, fewer than the quorum of ${quorum}: the master is served now, but if it fails no failover can be agreed on`
  const hint = `${summary}; start the sentinels that are down, or correct ${settingName(c.locatedBy)}`
  return new StepProblem('no-quorum', summary, hint, [hint, `SENTINEL CKQUORUM ${(c.topology as Sentinel).masterName} on a sentinel says whether the set can fail over; change ${settingName(c.locatedBy)} ${ctx.where} if it lists old addresses`])
}

/** A node of the list that is no cluster node. */
export function notAClusterProblem (c: ResolvedConnection, address: Address, ctx: FixContext): StepProblem {
  const summary = `${hostPort(address)} is not a cluster node (it answers "This instance has cluster support disabled")`
  const hint = `${summary}: to use that server alone, ${singleServerAdvice(c, address)}; a Redis Cluster's nodes run with cluster-enabled yes`
  return new StepProblem('not-a-cluster', summary, hint, [hint, `make the change ${ctx.where}`])
}

export function clusterDownProblem (seenFrom: string, reasons: readonly string[], ctx: FixContext): StepProblem {
  const summary = `the cluster is down (cluster_state:fail, seen from ${seenFrom}): ${reasons.join('; ')}`
  const hint = `${summary}: start the nodes that are down, or let a replica take over (CLUSTER FAILOVER FORCE on a replica of that master); until then commands fail (503) and the rate limiter counts in memory`
  return new StepProblem('cluster-down', summary, hint, [
    hint,
    `CLUSTER INFO and CLUSTER NODES on a node show the state and which node is flagged fail; redis-cli --cluster check <host:port> lists slots without a master (the step here waited ${ctx.stepMs} ms)`,
  ])
}

export function slotsUncoveredProblem (ranges: string, reasons: readonly string[], ctx: FixContext): StepProblem {
  const summary = `slots ${ranges} have no master that serves them, so keys there fail (CLUSTERDOWN): ${reasons.join('; ')}`
  const hint = `${summary}: start the master that is down, or let a replica take over (CLUSTER FAILOVER FORCE on it); slots nobody holds are assigned with redis-cli --cluster fix <host:port>`
  return new StepProblem('slots-uncovered', summary, hint, [hint, `redis-cli --cluster check <host:port> shows the assignment; nothing changes ${ctx.where}`])
}

/** Fixes for a failure of one cluster node: as on one server, plus that every node takes the same credentials. */
export function nodeFixes (failure: FailureClass, node: ResolvedConnection, ctx: FixContext): string[] {
  const fixes = connectionFixes(failure, node, ctx)
  if (failure === 'no-permission') return [...fixes, 'on a cluster the user also needs +cluster|slots and +cluster|info (ioredis discovers the cluster with them) and, for check, +cluster|nodes, on every node']
  return isAuthFailure(failure) ? [...fixes, 'every node of a cluster takes the same credentials: the same requirepass (and masterauth, for its replicas) or ACL user on each'] : fixes
}
