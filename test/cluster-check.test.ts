// `check` on a Redis Cluster, against one real 3-master/3-replica cluster
// (test/helpers/topologies.ts): healthy, --json, a wrong password, ACL users
// missing a permission, eviction policies that differ, a node that is no
// cluster node, nodes that do not answer, and last a master killed whose
// replica may not take over (cluster_state:fail, then slots without a master).
import t from 'tap'
import { secretCheckingRun, stepLines } from './helpers/cli-run.js'
import { freePort, startRedis, stopAllRedis, type RedisServer } from './helpers/redis-server.js'
import { startCluster, waitFor } from './helpers/topologies.js'

const SECRET = 'Cluster-Secret-4Wq'
const USER_SECRET = 'Cluster-User-8Rt'
const WRONG = 'Wrong-Cluster-2Zx'
const SECRETS = [SECRET, USER_SECRET, WRONG]

t.teardown(stopAllRedis)
const cluster = await startCluster(SECRET)
t.teardown(() => cluster.stop())
// The cluster is created with every slot covered; each replica's role reaches every node by gossip a moment later.
await waitFor('every node to know the 3 replicas', async () => {
  const views = await Promise.all(cluster.nodes.map((n) => n.command('CLUSTER', 'NODES')))
  return views.every((v) => (v.match(/[ ,]slave /g) ?? []).length === 3)
})
for (const node of cluster.nodes) {
  for (const [user, rules] of [['app', []], ['limited', ['-info', '-config']], ['noslots', ['-cluster|slots']], ['noeval', ['-evalsha']], ['noclusterinfo', ['-cluster|info']]] as const) {
    const reply = await node.command('ACL', 'SETUSER', user, 'on', `>${USER_SECRET}`, '~*', '&*', '+@all', ...rules)
    if (reply !== '+OK') throw new Error(`ACL SETUSER ${user}: ${reply}`)
  }
}

const run = secretCheckingRun(SECRETS)
const lines = stepLines
const env = { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PASSWORD: SECRET }

interface Report {
  ok: boolean
  connections: Array<{
    ok: boolean; url: string
    steps: Array<{ name: string; status: string; address?: string; detail: string }>
    failure: { step: string; class: string; message: string; hint: string } | null
    topology: { kind: string; nodes: Array<{ address: string; ok: boolean }>; state: string | null; slotsCovered: number | null; masters: Array<{ address: string; slots: string; replicas: string[] }> }
    server: { version?: string; role?: string; maxmemoryPolicy?: string }
    fixes: string[]
  }>
}

t.test('healthy: every node, cluster_state, slots, and the one-server steps through a Cluster client', async (t) => {
  const { code, stdout, stderr } = await run(t, ['check'], env)
  t.equal(code, 0, 'exit 0')
  t.equal(stderr, '')
  const nodes = lines(stdout, 'node')
  t.equal(nodes.length, 6)
  t.equal(nodes.filter((l) => /^✔ node {7}127\.0\.0\.1:\d+: authenticated as the default user \(password from REDIS_PASSWORD\); master of slots \d+-\d+$/.test(l)).length, 3)
  t.equal(nodes.filter((l) => /; replica of 127\.0\.0\.1:\d+$/.test(l)).length, 3)
  t.match(lines(stdout, 'cluster')[0], /^✔ cluster {4}cluster_state:ok .*3 masters with slots, 6 nodes known$/)
  t.match(lines(stdout, 'slots')[0], /^✔ slots {6}16384 of 16384 slots on 3 masters: 127\.0\.0\.1:\d+ 0-5460 \(replica 127\.0\.0\.1:\d+\), /)
  t.match(lines(stdout, 'auth')[0], /^✔ auth {7}the cluster client is ready on 3 masters, as the default user/)
  t.match(lines(stdout, 'server')[0], /^✔ server {5}Redis \d+\.\d+\.\d+ on 3 masters$/)
  t.match(lines(stdout, 'policy')[0], /^✔ policy {5}noeviction/)
  // The plugin's default nameSpace on a cluster too (it counts per hash slot).
  t.match(lines(stdout, 'limiter')[0], /^✔ limiter {4}the limiter's script counts on frr-rate-limit:__frr_check__ by EVAL and EVALSHA/)
})

t.test('--json: the steps, and what check learnt of the cluster', async (t) => {
  const { code, stdout } = await run(t, ['check', '--json'], env)
  t.equal(code, 0)
  const report = JSON.parse(stdout) as Report
  const [c] = report.connections as [Report['connections'][number]]
  t.equal(report.ok, true)
  t.same(c.steps.map((s) => s.name), [...Array(6).fill('node'), 'cluster', 'slots', 'auth', 'ping', 'server', 'policy', 'limiter'])
  t.same(c.steps.filter((s) => s.name === 'node').map((s) => s.address), cluster.nodeList.split(','))
  t.equal(c.topology.kind, 'cluster')
  t.same(c.topology.nodes, cluster.nodeList.split(',').map((address) => ({ address, ok: true })))
  t.equal(c.topology.state, 'ok')
  t.equal(c.topology.slotsCovered, 16384)
  t.same(c.topology.masters.map((m) => m.slots), ['0-5460', '5461-10922', '10923-16383'])
  t.ok(c.topology.masters.every((m) => m.replicas.length === 1))
  t.match(c.server, { role: 'cluster', maxmemoryPolicy: 'noeviction', version: /^\d+\.\d+\.\d+$/ })
  t.equal(c.failure, null)
  t.same(c.fixes, [])
  t.match(c.url, /^redis\+cluster:\/\/:\*\*\*@127\.0\.0\.1:\d+,/)
})

t.test('a wrong password: every node fails its auth, --fix-auth names REDIS_PASSWORD and the other nodes', async (t) => {
  const { code, stdout } = await run(t, ['check', '--fix-auth'], { ...env, REDIS_PASSWORD: WRONG })
  t.equal(code, 1)
  t.equal(lines(stdout, 'node').filter((l) => l.startsWith('✘ node') && l.includes('password-wrong: the server at 127.0.0.1:')).length, 6)
  t.equal(lines(stdout, 'cluster')[0], '- cluster    not run: node failed')
  t.match(stdout, /fix:\n {4}• the server at 127\.0\.0\.1:\d+ rejected the password from REDIS_PASSWORD: set REDIS_PASSWORD to the server's password/)
  t.match(stdout, '• every node of a cluster takes the same credentials')
  const json = JSON.parse((await run(t, ['check', '--json'], { ...env, REDIS_PASSWORD: WRONG })).stdout) as Report
  t.match(json.connections[0]?.failure, { step: 'node', class: 'password-wrong' })
  const hint = (await run(t, ['check'], { ...env, REDIS_PASSWORD: WRONG })).stdout
  t.match(hint, /hint: the server at .* rejected the password from REDIS_PASSWORD/)
  t.match(hint, '(run with --fix-auth for the exact change)')
})

t.test('ACL users: permissions of the nodes, of the Cluster client, of the limiter', async (t) => {
  const as = (user: string) => ({ REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_USERNAME: user, REDIS_PASSWORD: USER_SECRET })
  const app = await run(t, ['check'], as('app'))
  t.equal(app.code, 0, 'exit 0')
  t.match(lines(app.stdout, 'node')[0], /authenticated as ACL user "app" \(password from REDIS_PASSWORD\)/)

  const limited = await run(t, ['check'], as('limited'))
  t.equal(limited.code, 0, 'INFO and CONFIG denied: only warnings')
  t.match(lines(limited.stdout, 'server')[0], /^! server {5}INFO failed: NOPERM/)
  t.match(lines(limited.stdout, 'policy')[0], /^! policy {5}unknown: CONFIG GET and INFO are not available here/)

  const noslots = await run(t, ['check', '--fix-auth'], as('noslots'))
  t.equal(noslots.code, 1)
  t.match(lines(noslots.stdout, 'auth')[0], /^✘ auth {7}no-permission: /)
  t.match(noslots.stdout, '+cluster|slots and +cluster|info')

  const noClusterInfo = await run(t, ['check', '--json'], as('noclusterinfo'))
  const c = (JSON.parse(noClusterInfo.stdout) as Report).connections[0] as Report['connections'][number]
  t.match(c.failure, { step: 'node', class: 'no-permission', hint: /^ACL user "noclusterinfo" lacks a permission on 127\.0\.0\.1:\d+/ })
  t.match(c.fixes.at(-1), /^on a cluster the user also needs \+cluster\|slots and \+cluster\|info/)

  const noeval = await run(t, ['check', '--fix-auth'], as('noeval'))
  t.equal(noeval.code, 1)
  t.match(lines(noeval.stdout, 'limiter')[0], /^✘ limiter {4}no-permission: ACL user "noeval" lacks a permission/)
  t.match(noeval.stdout, /ACL SETUSER noeval .*~frr-rate-limit:\*/, 'the ACL rule has the limiter\'s key prefix')
})

t.test('eviction policies that differ between masters: a warning naming both', async (t) => {
  const roles = await Promise.all(cluster.nodes.map(async (n) => (await n.command('ROLE')).includes('master') ? n : undefined))
  const one = roles.find((n) => n !== undefined) as RedisServer
  t.equal(await one.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'), '+OK')
  t.teardown(() => one.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction'))
  const { code, stdout } = await run(t, ['check'], env)
  t.equal(code, 0)
  t.match(lines(stdout, 'policy')[0], /^! policy {5}the masters differ \((allkeys-lru, noeviction|noeviction, allkeys-lru)\); allkeys-lru: when memory is full any key may be evicted/)
})

t.test('masters out of memory: the limiter step fails, with the fix for a full memory', async (t) => {
  const masters = (await Promise.all(cluster.nodes.map(async (n) => (await n.command('ROLE')).includes('master') ? [n] : []))).flat()
  for (const m of masters) t.equal(await m.command('CONFIG', 'SET', 'maxmemory', '1'), '+OK')
  t.teardown(async () => { for (const m of masters) await m.command('CONFIG', 'SET', 'maxmemory', '0') })
  const { code, stdout } = await run(t, ['check', '--fix-auth'], env)
  t.equal(code, 1)
  t.match(lines(stdout, 'limiter')[0], /^✘ limiter {4}out-of-memory: /)
  t.match(stdout, '• on the server, INFO memory shows used_memory against maxmemory')
  t.notMatch(stdout, 'every node of a cluster takes the same credentials', 'no word about credentials')
})

t.test('a cluster without a password: warnings, and a password sent to it fails as on one server; DISABLE_THROTTLING', async (t) => {
  for (const n of cluster.nodes) t.equal(await n.command('CONFIG', 'SET', 'requirepass', ''), '+OK')
  t.teardown(async () => { for (const n of cluster.nodes) await n.command('CONFIG', 'SET', 'requirepass', SECRET) })
  const open = await run(t, ['check'], { REDIS_CLUSTER_NODES: cluster.nodeList, DISABLE_THROTTLING: 'true' })
  t.equal(open.code, 0, 'works, with warnings')
  t.ok(lines(open.stdout, 'node').every((l) => /^! node {7}\S+: no password set: the node lets in anyone who can reach it; (master|replica) of /.test(l)))
  t.equal(lines(open.stdout, 'auth')[0], '! auth       the cluster client is ready on 3 masters, with no password set: the nodes let in anyone who can reach them')
  t.equal(lines(open.stdout, 'limiter')[0], '- limiter    rate limiting is off (DISABLE_THROTTLING)')
  const sent = await run(t, ['check', '--json'], env)
  t.equal(sent.code, 1)
  t.match((JSON.parse(sent.stdout) as Report).connections[0]?.failure, { step: 'node', class: 'password-not-required' })
})

t.test('REDIS_CLUSTER_NODES at a server that is no cluster node: not-a-cluster, use REDIS_URL', async (t) => {
  const plain = await startRedis({ password: SECRET })
  t.teardown(() => plain.kill())
  const { code, stdout } = await run(t, ['check', '--fix-auth'], { REDIS_CLUSTER_NODES: `127.0.0.1:${plain.port}`, REDIS_PASSWORD: SECRET })
  t.equal(code, 1)
  t.equal(lines(stdout, 'node')[0], `✘ node       127.0.0.1:${plain.port}: not-a-cluster: 127.0.0.1:${plain.port} is not a cluster node (it answers "This instance has cluster support disabled")`)
  t.match(stdout, `to use that server alone, REDIS_URL=redis://127.0.0.1:${plain.port} instead of REDIS_CLUSTER_NODES`)
  const url = await run(t, ['check', '--json'], { REDIS_URL: `redis+cluster://:${encodeURIComponent(SECRET)}@127.0.0.1:${plain.port}` })
  const report = JSON.parse(url.stdout) as Report
  t.match(report.connections[0]?.failure, { step: 'node', class: 'not-a-cluster', hint: new RegExp(`redis://127\\.0\\.0\\.1:${plain.port} in REDIS_URL`) })
})

t.test('nodes that do not answer: a warning while others do, a failure naming REDIS_CLUSTER_NODES when none does', async (t) => {
  const nowhere = `127.0.0.1:${await freePort()}`
  const some = await run(t, ['check'], { ...env, REDIS_CLUSTER_NODES: `${nowhere},${cluster.nodeList}` })
  t.equal(some.code, 0, 'a node down while others answer: a warning')
  t.match(lines(some.stdout, 'node')[0], `! node       ${nowhere}: unreachable, refused: nothing accepts connections at ${nowhere}`)
  const none = await run(t, ['check', '--json'], { ...env, REDIS_CLUSTER_NODES: nowhere })
  t.equal(none.code, 1)
  const c = (JSON.parse(none.stdout) as Report).connections[0] as Report['connections'][number]
  t.match(c.failure, { step: 'node', class: 'refused', hint: /^none of the 1 cluster nodes in REDIS_CLUSTER_NODES answers .*: start them, or correct REDIS_CLUSTER_NODES/ })
  t.same(c.topology, { kind: 'cluster', nodes: [{ address: nowhere, ok: false }], state: null, slotsCovered: null, masters: [] })
  t.equal(c.steps[0]?.status, 'fail')
})

t.test('a master killed that its replica may not replace: cluster_state:fail naming it, then its slots uncovered', async (t) => {
  const roles = await Promise.all(cluster.nodes.map(async (n) => ({ n, nodes: await n.command('CLUSTER', 'NODES') })))
  const [view] = roles as [{ n: RedisServer; nodes: string }]
  const masterLine = view.nodes.split('\n').find((l) => / master /.test(l) && /\d+-\d+/.test(l)) as string
  const [masterId, masterAddress] = masterLine.split(' ') as [string, string]
  const masterPort = Number(masterAddress.split('@')[0]?.split(':')[1])
  const replicaPort = Number(view.nodes.split('\n').find((l) => l.includes(` ${masterId} `) && l.includes('slave'))?.split(' ')[1]?.split('@')[0]?.split(':')[1])
  const master = cluster.nodes.find((n) => n.port === masterPort) as RedisServer
  const replica = cluster.nodes.find((n) => n.port === replicaPort) as RedisServer
  t.equal(await replica.command('CONFIG', 'SET', 'cluster-replica-no-failover', 'yes'), '+OK')
  await master.kill()
  const alive = cluster.nodes.filter((n) => n !== master)
  await waitFor('the cluster to fail', async () => (await Promise.all(alive.map((n) => n.command('CLUSTER', 'INFO')))).every((i) => i.includes('cluster_state:fail')))

  const down = await run(t, ['check', '--fix-auth'], env)
  t.equal(down.code, 1)
  t.match(lines(down.stdout, 'node').find((l) => l.includes(`127.0.0.1:${masterPort}:`)), /^! node {7}127\.0\.0\.1:\d+: unreachable, refused/)
  t.match(lines(down.stdout, 'cluster')[0], new RegExp(`^✘ cluster {4}cluster-down: the cluster is down \\(cluster_state:fail, seen from 127\\.0\\.0\\.1:\\d+\\): 127\\.0\\.0\\.1:${masterPort} \\(master of slots [\\d-]+\\) is flagged fail, and no replica took over \\(127\\.0\\.0\\.1:${replicaPort}\\)`))
  t.match(down.stdout, '• CLUSTER INFO and CLUSTER NODES on a node show the state')
  const json = JSON.parse((await run(t, ['check', '--json'], env)).stdout) as Report
  const c = json.connections[0] as Report['connections'][number]
  t.match(c, { ok: false, failure: { step: 'cluster', class: 'cluster-down' }, topology: { state: 'fail' } })
  const [from, to] = (/(\d+)-(\d+)/.exec(masterLine) as RegExpExecArray).slice(1).map(Number) as [number, number]
  t.equal(c.topology.slotsCovered, 16384 - (to - from + 1), 'the slots of the failed master are not covered')
  t.ok(c.topology.nodes.some((n) => n.address === `127.0.0.1:${masterPort}` && !n.ok))
  t.same(c.steps.slice(7).map((s) => `${s.name} ${s.status}`), ['slots skipped', 'auth skipped', 'ping skipped', 'server skipped', 'policy skipped', 'limiter skipped'])

  // Told to serve what it can, the cluster says ok; its slots are still without a master.
  for (const n of alive) t.equal(await n.command('CONFIG', 'SET', 'cluster-require-full-coverage', 'no'), '+OK')
  await waitFor('the cluster to say ok', async () => (await Promise.all(alive.map((n) => n.command('CLUSTER', 'INFO')))).every((i) => i.includes('cluster_state:ok')))
  const uncovered = await run(t, ['check'], env)
  t.equal(uncovered.code, 1)
  t.match(lines(uncovered.stdout, 'slots')[0], new RegExp(`^✘ slots {6}slots-uncovered: slots [\\d-]+ have no master that serves them, so keys there fail \\(CLUSTERDOWN\\): 127\\.0\\.0\\.1:${masterPort} `))
})
