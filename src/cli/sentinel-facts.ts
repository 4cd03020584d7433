import type { StepOutcome } from './network-steps.js'

/*
 * What sentinels say about a master set (SENTINEL MASTER, SENTINEL
 * REPLICAS), and what it means. Pure: replies in, words out. ioredis hands a
 * RESP3 map over as a flat [field, value, field, value…] array.
 */

/** A flat map reply as an object of strings. */
export function fields (reply: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  const flat = Array.isArray(reply) ? reply : []
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1])
  return out
}

/** Flags that mean a sentinel sees the server as gone (subjectively, objectively, or its link down). */
const DOWN_FLAGS = ['s_down', 'o_down', 'disconnected']

export interface ServerView {
  host: string
  port: number
  /** `host:port`. */
  address: string
  flags: string[]
  /** The flags among DOWN_FLAGS. */
  down: string[]
}

export interface MasterView extends ServerView {
  quorum: number
  /** How many other sentinels watch the set, as this one knows. */
  otherSentinels: number
}

export interface ReplicaView extends ServerView {
  /** `master-link-status` of the replica: `ok` or `err`. */
  link: string
}

function serverView (f: Record<string, string>): ServerView {
  // Every entry of SENTINEL MASTER and SENTINEL REPLICAS has these fields.
  const flags = (f.flags as string).split(',')
  const host = f.ip as string
  const port = Number(f.port)
  return { host, port, address: `${host}:${port}`, flags, down: flags.filter((flag) => DOWN_FLAGS.includes(flag)) }
}

export function masterView (reply: unknown): MasterView {
  const f = fields(reply)
  return { ...serverView(f), quorum: Number(f.quorum), otherSentinels: Number(f['num-other-sentinels']) }
}

export function replicaViews (reply: unknown): ReplicaView[] {
  return (reply as unknown[]).map((entry) => {
    const f = fields(entry)
    return { ...serverView(f), link: f['master-link-status'] as string }
  })
}

/** The names of the master sets a sentinel watches (SENTINEL MASTERS). */
export function masterNames (reply: unknown): string[] {
  return (reply as unknown[]).map((entry) => fields(entry).name as string)
}

/** The `master` step when the sentinels that know the set were asked: where the master is, and whether they agree. */
export function describeMaster (masterName: string, views: readonly MasterView[], listed: number): StepOutcome {
  const [first] = views as [MasterView, ...MasterView[]]
  const addresses = [...new Set(views.map((v) => v.address))]
  const counted = `quorum ${first.quorum}, ${first.otherSentinels + 1} sentinels watch it, ${views.length} of ${listed} listed answer`
  if (addresses.length > 1) {
    return { status: 'warn', detail: `the sentinels disagree on "${masterName}": ${addresses.join(', ')} (a failover under way, or sentinels that do not talk to each other); ${counted}` }
  }
  if (first.down.length > 0) {
    return { status: 'warn', detail: `"${masterName}" is at ${first.address}, which the sentinels flag ${first.down.join(', ')}: they see it down, a failover may follow; ${counted}` }
  }
  return { status: 'ok', detail: `"${masterName}" is at ${first.address} (${counted})` }
}

/** The `replicas` step: what a failover could promote. */
export function describeReplicas (replicas: readonly ReplicaView[]): StepOutcome {
  if (replicas.length === 0) {
    return { status: 'warn', detail: 'no replica: if the master fails, there is nothing to promote and the app has no Redis until it returns' }
  }
  const line = (r: ReplicaView): string => `${r.address} (${r.down.length > 0 ? r.down.join(', ') : `link ${r.link}`})`
  const sick = replicas.filter((r) => r.down.length > 0 || r.link !== 'ok')
  const list = replicas.map(line).join(', ')
  const count = `${replicas.length} ${replicas.length === 1 ? 'replica' : 'replicas'}`
  if (sick.length > 0) {
    return { status: 'warn', detail: `${count}, ${sick.length} of them down or not in sync with the master (a failover could not promote it): ${list}` }
  }
  return { status: 'ok', detail: `${count}: ${list}` }
}
