// Several app instances against one Redis, and against a 3-master cluster,
// share each key's count: between them they admit exactly `max` per key per
// window. During an outage each counts in its own memory, so the limit holds
// per process (README says so).
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { startCluster } from './helpers/topologies.js'

const SECRET = 'Several-Instances-Pw'
const INSTANCES = 3
const MAX = 50
const APP = fileURLToPath(new URL('fixtures/instance-app.mjs', import.meta.url))
// A node process loading Fastify and the plugin on a busy machine; only one that never starts fails it.
const START_BOUND_MS = 60_000

t.teardown(stopAllRedis)

interface Instance { child: ChildProcess; base: string }

async function startInstance (t: Test, redisEnv: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [APP], {
    env: { PATH: process.env.PATH ?? '', ...redisEnv, REDIS_PASSWORD: SECRET, INSTANCE_MAX: String(MAX) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => { if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL') })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const started = await waitFor(() => /listening \d+/.test(out) || child.exitCode !== null, START_BOUND_MS)
  const port = /listening (\d+)/.exec(out)?.[1]
  if (!started || port === undefined) throw new Error(`instance did not start: ${out}`)
  return { child, base: `http://127.0.0.1:${port}` }
}

/**
 * `perInstance` requests to each instance at once, interleaved, with the x-key `key`; the 200s
 * each one answered.
 */
async function burst (instances: Instance[], perInstance: number, key?: string): Promise<{ admitted: number[]; refused: number; other: number[] }> {
  const headers: Record<string, string> = key === undefined ? {} : { 'x-key': key }
  const sends = Array.from({ length: perInstance * instances.length }, (_, n) => {
    const at = n % instances.length
    return fetch(`${(instances[at] as Instance).base}/`, { headers, signal: AbortSignal.timeout(10_000) }).then(async (res) => { await res.arrayBuffer(); return { at, status: res.status } })
  })
  const answers = await Promise.all(sends)
  const admitted = instances.map((_, at) => answers.filter((a) => a.at === at && a.status === 200).length)
  return { admitted, refused: answers.filter((a) => a.status === 429).length, other: answers.filter((a) => a.status !== 200 && a.status !== 429).map((a) => a.status) }
}

const mode = async (instance: Instance): Promise<string> => ((await (await fetch(`${instance.base}/mode`)).json()) as { mode: string }).mode

t.test(`${INSTANCES} instances against one Redis admit exactly max per key per window between them; during an outage, max per instance`, async (t) => {
  const server = await startRedis({ password: SECRET })
  const instances = await Promise.all(Array.from({ length: INSTANCES }, async () => startInstance(t, { REDIS_URL: `redis://127.0.0.1:${server.port}/0` })))
  for (const instance of instances) t.ok(await waitFor(async () => (await mode(instance)) === 'redis', EVENTUALLY_MS), 'counting in Redis')

  const shared = await burst(instances, 100)
  t.equal(shared.admitted.reduce((a, b) => a + b, 0), MAX, `exactly ${MAX} admitted between them (${shared.admitted.join(' + ')})`)
  t.equal(shared.refused, INSTANCES * 100 - MAX, 'every other request refused')
  t.same(shared.other, [], 'nothing but 200 and 429')

  await server.kill()
  for (const instance of instances) t.ok(await waitFor(async () => (await mode(instance)) === 'local', EVENTUALLY_MS), 'counting in local memory')
  const outage = await burst(instances, 100)
  t.same(outage.admitted, instances.map(() => MAX), `each instance admits its own ${MAX}: the limit holds per process during the outage`)
  t.same(outage.other, [], 'nothing but 200 and 429')
})

t.test(`${INSTANCES} instances against a 3-master cluster, default nameSpace: exactly max per key between them, keys on every master`, async (t) => {
  const cluster = await startCluster(SECRET)
  t.teardown(() => cluster.stop())
  const instances = await Promise.all(Array.from({ length: INSTANCES }, async () => startInstance(t, { REDIS_CLUSTER_NODES: cluster.nodeList })))
  for (const instance of instances) t.ok(await waitFor(async () => (await mode(instance)) === 'redis', EVENTUALLY_MS), 'counting in Redis')

  // Keys of different slots at once: each tick of each instance holds several slots.
  const keys = Array.from({ length: 6 }, (_, i) => `user-${i}`)
  const bursts = await Promise.all(keys.map(async (key) => burst(instances, 60, key)))
  bursts.forEach((shared, i) => {
    t.equal(shared.admitted.reduce((a, b) => a + b, 0), MAX, `${keys[i] as string}: exactly ${MAX} admitted between them (${shared.admitted.join(' + ')})`)
    t.same(shared.other, [], 'nothing but 200 and 429')
  })
  const holding = []
  for (const node of cluster.nodes) {
    const reply = await node.command('KEYS', 'frr-rate-limit:user-*')
    if ((await node.command('INFO', 'replication')).includes('role:master')) holding.push(Number(reply.slice(1, reply.indexOf('\r'))))
  }
  t.equal(holding.reduce((a, b) => a + b, 0), keys.length, `one counter per key on the masters (${holding.join(', ')})`)
  t.ok(holding.filter((n) => n > 0).length >= 2, 'spread over more than one master')
  for (const instance of instances) t.equal(await mode(instance), 'redis', 'nothing pushed the instance to memory')
})
