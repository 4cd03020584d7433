import type { StepOutcome } from './network-steps.js'

/*
 * What a cluster node says about the cluster (CLUSTER NODES), and what it
 * means for its slots. Pure: reply text in, facts out.
 */

export const SLOT_COUNT = 16384

export interface ClusterNode {
  id: string
  /** `host:port`, from `host:port@busport[,hostname]`. */
  address: string
  flags: string[]
  /** The master's id, for a replica. */
  masterId: string | undefined
  /** Slot ranges it serves, inclusive: [[0, 5460]]. */
  slots: Array<[number, number]>
  /** Flagged `fail` or `fail?` (unreachable by the majority, or by the node asked). */
  failing: boolean
}

function slotRanges (fields: readonly string[]): Array<[number, number]> {
  // `[slot->-id]` and `[slot-<-id]` are slots being migrated: not served yet, not counted.
  return fields.filter((f) => !f.startsWith('[')).map((f) => {
    const [from, to = from] = f.split('-')
    return [Number(from), Number(to)] as [number, number]
  })
}

export function parseClusterNodes (text: string): ClusterNode[] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const [id = '', addr = '', flagText = '', master = '-', , , , , ...slots] = line.trim().split(' ')
    const flags = flagText.split(',')
    return {
      id,
      address: addr.split('@')[0] as string,
      flags,
      masterId: master === '-' ? undefined : master,
      slots: slotRanges(slots),
      failing: flags.includes('fail') || flags.includes('fail?'),
    }
  })
}

export const isMaster = (node: ClusterNode): boolean => node.flags.includes('master')

/** `0-5460,10923-16383`, or `none`. */
export function rangesText (ranges: ReadonlyArray<[number, number]>): string {
  return ranges.length === 0 ? 'none' : ranges.map(([from, to]) => from === to ? String(from) : `${from}-${to}`).join(',')
}

/**
 * Slot coverage: `covered`, the slots of a healthy master; `unserved`, the
 * ranges no master serves (unassigned, or held by a master flagged fail that
 * no replica replaced); `failing`, the masters flagged fail or fail? that
 * hold slots.
 */
export function slotCoverage (nodes: readonly ClusterNode[]): { covered: number; unserved: Array<[number, number]>; failing: ClusterNode[] } {
  const served = new Uint8Array(SLOT_COUNT) // 0 nobody, 1 a master flagged fail, 2 one flagged fail?, 3 a healthy one
  for (const node of nodes.filter(isMaster)) {
    const state = node.flags.includes('fail') ? 1 : node.failing ? 2 : 3
    for (const [from, to] of node.slots) served.fill(state, from, to + 1)
  }
  const unserved: Array<[number, number]> = []
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    if (served[slot] as number > 1) continue
    const last = unserved[unserved.length - 1]
    if (last !== undefined && last[1] === slot - 1) last[1] = slot
    else unserved.push([slot, slot])
  }
  return {
    covered: served.reduce((n, s) => n + (s === 3 ? 1 : 0), 0),
    unserved,
    failing: nodes.filter((n) => isMaster(n) && n.failing && n.slots.length > 0),
  }
}

/** The masters that serve slots, each with its replicas' addresses. */
export function shards (nodes: readonly ClusterNode[]): Array<{ master: ClusterNode; replicas: ClusterNode[] }> {
  return nodes.filter((n) => isMaster(n) && n.slots.length > 0)
    .sort((a, b) => (a.slots[0] as [number, number])[0] - (b.slots[0] as [number, number])[0])
    .map((master) => ({ master, replicas: nodes.filter((n) => n.masterId === master.id) }))
}

/** Why a cluster is down, in its own words: masters flagged fail and slots without a master. */
export function downReasons (nodes: readonly ClusterNode[]): string[] {
  const { failing } = slotCoverage(nodes)
  // The slots no master holds at all: coverage as if every master were healthy.
  const unassigned = slotCoverage(nodes.filter(isMaster).map((n) => ({ ...n, flags: ['master'], failing: false }))).unserved
  const reasons = failing.map((m) => {
    const replicas = nodes.filter((n) => n.masterId === m.id).map((n) => n.address)
    const flag = m.flags.includes('fail') ? 'fail' : 'fail?'
    return `${m.address} (master of slots ${rangesText(m.slots)}) is flagged ${flag}, ${replicas.length === 0 ? 'and has no replica' : `and no replica took over (${replicas.join(', ')})`}`
  })
  if (unassigned.length > 0) reasons.push(`slots ${rangesText(unassigned)} have no master`)
  // A node cut off from the majority of masters says fail while its own view looks whole.
  return reasons.length > 0 ? reasons : ['no master is flagged fail and every slot has one: the node asked may be cut off from the majority of the masters']
}

/** The `slots` step once every slot has a master: the shards, and what a failing or lone master means. */
export function describeShards (nodes: readonly ClusterNode[]): StepOutcome {
  const { covered } = slotCoverage(nodes)
  const list = shards(nodes)
  const lines = list.map(({ master, replicas }) => `${master.address} ${rangesText(master.slots)} (${replicas.length === 0 ? 'no replica' : `replica ${replicas.map((r) => r.address).join(', ')}`})`)
  const alone = list.filter((s) => s.replicas.length === 0).map((s) => s.master.address)
  const detail = `${covered} of ${SLOT_COUNT} slots on ${list.length} masters: ${lines.join(', ')}`
  if (covered < SLOT_COUNT) return { status: 'warn', detail: `${detail}; the rest belong to a master flagged fail? (the node asked cannot reach it; if the majority cannot either, a replica takes over)` }
  if (alone.length > 0) return { status: 'warn', detail: `${detail}; ${alone.join(', ')} ${alone.length === 1 ? 'has' : 'have'} no replica, so if it fails its slots are lost until it returns` }
  return { status: 'ok', detail }
}
