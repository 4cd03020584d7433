// Disposable Redis topologies on loopback: a 3-master/3-replica Cluster and a
// master + replica watched by 3 sentinels. Every process is a startRedis()
// server (tracked, reaped at exit, stopped by pid); the cluster is created
// with the server's own CLI. Never on 6379: every port comes from freePort().
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { CLI_BINARY, freePort, startRedis, type RedisServer } from './redis-server.js'

export interface TestCluster {
  readonly nodes: RedisServer[]
  readonly password: string
  /** `127.0.0.1:p1,127.0.0.1:p2,…` for REDIS_CLUSTER_NODES. */
  readonly nodeList: string
  /** The nodes that are masters now (INFO replication of each), in `nodes` order. */
  masters(): Promise<RedisServer[]>
  stop(): Promise<void>
}

export interface TestSentinelSet {
  readonly master: RedisServer
  readonly replica: RedisServer
  readonly sentinels: RedisServer[]
  readonly masterName: string
  readonly password: string
  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` for REDIS_SENTINELS. */
  readonly sentinelList: string
  /** The port the sentinels report as the master's now. */
  masterPort(): Promise<number>
  stop(): Promise<void>
}

/** Bounded wait for `check` to hold (polled every 100 ms); the message says what never happened. */
export async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(100)
  }
}

/** Runs the server's CLI to its end, bounded; rejects with its output when it fails. */
function runCli(args: string[], ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, ms)
    child.on('error', (error) => { clearTimeout(timer); reject(error) })
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`${CLI_BINARY} ${args[0] ?? ''} … exited with ${String(code)}:\n${output}`))
    })
  })
}

async function stopAll(servers: RedisServer[]): Promise<void> {
  const results = await Promise.allSettled(servers.map((s) => s.kill()))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

/** Six nodes with `--cluster-enabled yes`, joined by `--cluster create … --cluster-replicas 1`, every slot covered, every replica synced. */
export async function startCluster(password: string): Promise<TestCluster> {
  const nodes: RedisServer[] = []
  try {
    for (let i = 0; i < 6; i++) {
      // The cluster bus port is set, not port + 10000 (which may be taken, or out of range).
      nodes.push(await startRedis({
        password,
        // A replica syncs at once (diskless sync otherwise waits 5 s for more replicas), and a replica
        // that never synced refuses to take over (its data counts as too old).
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-node-timeout', '2000', '--masterauth', password, '--repl-diskless-sync-delay', '0'],
      }))
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`)
    await runCli(['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes', '--no-auth-warning', '-a', password], 30_000)
    await waitFor('every node to report cluster_state:ok', async () => {
      const infos = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO')))
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'))
    })
    await waitFor('every replica to sync with its master', async () => {
      const replication = await Promise.all(nodes.map((n) => n.command('INFO', 'replication')))
      return replication.filter((info) => info.includes('role:slave') && info.includes('master_link_status:up')).length === 3
    })
  } catch (error) {
    await stopAll(nodes)
    throw error
  }
  const masters = async (): Promise<RedisServer[]> => {
    const roles = await Promise.all(nodes.map(async (node) => (await node.command('INFO', 'replication')).includes('role:master')))
    return nodes.filter((_, i) => roles[i])
  }
  return { nodes, password, nodeList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','), masters, stop: () => stopAll(nodes) }
}

/**
 * A master, its replica, and three sentinels (quorum 2) that notice a dead
 * master after 1 s. The sentinels take `sentinelPassword` when given (else
 * none), and know the data password to talk to the master and replica.
 */
export async function startSentinelSet(password: string, options: { sentinelPassword?: string; masterName?: string } = {}): Promise<TestSentinelSet> {
  const masterName = options.masterName ?? 'mymaster'
  const servers: RedisServer[] = []
  try {
    const master = await startRedis({ password, extraArgs: ['--masterauth', password] })
    servers.push(master)
    const replica = await startRedis({ password, extraArgs: ['--masterauth', password, '--replicaof', '127.0.0.1', String(master.port)] })
    servers.push(replica)
    await waitFor('the replica to sync', async () => (await replica.command('INFO', 'replication')).includes('master_link_status:up'))
    const configText = [
      `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
      `sentinel auth-pass ${masterName} ${password}`,
      `sentinel down-after-milliseconds ${masterName} 1000`,
      `sentinel failover-timeout ${masterName} 5000`,
      `sentinel parallel-syncs ${masterName} 1`,
      '',
    ].join('\n')
    const sentinels: RedisServer[] = []
    for (let i = 0; i < 3; i++) {
      const sentinel = await startRedis({ ...(options.sentinelPassword === undefined ? {} : { password: options.sentinelPassword }), configText, extraArgs: ['--sentinel'] })
      servers.push(sentinel)
      sentinels.push(sentinel)
    }
    // Each sentinel must know the replica and the two other sentinels, or a failover cannot be agreed on.
    await waitFor('the sentinels to find the replica and each other', async () => {
      const views = await Promise.all(sentinels.map(async (s) => [await s.command('SENTINEL', 'REPLICAS', masterName), await s.command('SENTINEL', 'SENTINELS', masterName)]))
      return views.every(([replicas, others]) => replicas?.includes(String(replica.port)) === true && others?.startsWith('*2') === true)
    })
    const masterPort = async (): Promise<number> => {
      const reply = await (sentinels[0] as RedisServer).command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)
      return Number(reply.split('\r\n')[4])
    }
    return {
      master, replica, sentinels, masterName, password,
      sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      masterPort,
      stop: () => stopAll(servers),
    }
  } catch (error) {
    await stopAll(servers)
    throw error
  }
}
