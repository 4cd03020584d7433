// A disposable 3-master Redis Cluster for the benchmarks (issue 13, item 8):
// three redis-server processes from redis.js (free loopback ports, never
// 6379, each with its cluster bus on another free port), joined with
// `redis-cli --cluster create … --cluster-replicas 0`. Same shape as
// RedisServer where the harness needs it: cpuMs, sumKeys, command, kill.
import { execFile } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { HOST, freePort, startRedis } from './redis.js'

const run = promisify(execFile)

export async function startCluster () {
  const nodes = []
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(await startRedis({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-node-timeout', '2000'] }))
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 })
    const deadline = Date.now() + 20_000
    for (;;) {
      const infos = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO').catch(() => '')))
      if (infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'))) break
      if (Date.now() > deadline) throw new Error('the bench cluster did not reach cluster_state:ok within 20 s')
      await sleep(50)
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()))
    throw err
  }
  return new BenchCluster(nodes)
}

class BenchCluster {
  constructor (nodes) {
    this.nodes = nodes
    this.nodeList = nodes.map((n) => `${HOST}:${n.port}`).join(',')
  }

  /** Every master's CPU, summed (cluster gossip included: a few ms a second). */
  async cpuMs () {
    const each = await Promise.all(this.nodes.map((n) => n.cpuMs()))
    return each.some((ms) => ms === null) ? null : each.reduce((a, b) => a + b, 0)
  }

  async sumKeys (prefixes, excludeEndings) {
    const each = await Promise.all(this.nodes.map((n) => n.sumKeys(prefixes, excludeEndings)))
    return { keys: each.flatMap((e) => e.keys), sum: each.reduce((total, e) => total + e.sum, 0), perNode: each.map((e) => e.sum) }
  }

  /** FLUSHALL on every master (each holds its own slots). */
  async command (...args) {
    return (await Promise.all(this.nodes.map((n) => n.command(...args))))[0]
  }

  async kill () { await Promise.all(this.nodes.map((n) => n.kill())) }
}
