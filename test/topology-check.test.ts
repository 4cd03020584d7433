// What `check` decides about Sentinel and Cluster without a server: a topology
// conflict gets the same advice as the error, any limiter nameSpace is
// accepted on a cluster, and the pure readings of what sentinels and
// cluster nodes say (flags, disagreements, slot ranges) for the states a live
// set only passes through. The live topologies: sentinel-check.test.ts and
// cluster-check.test.ts.
import t from 'tap'
import { describeShards, downReasons, parseClusterNodes, rangesText, slotCoverage } from '../src/cli/cluster-facts.js'
import { runCli } from '../src/cli/run-cli.js'
import { describeMaster, describeReplicas, fields, masterView, replicaViews } from '../src/cli/sentinel-facts.js'

const PW = 'S3cret-check'

async function check (argv: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  let output = ''
  const code = await runCli(argv, { env, stdout: (s) => { output += s }, stderr: (s) => { output += s } })
  t.notOk(output.includes(PW), 'no password in the output')
  return { code, output }
}

t.test('two topologies for one client: a configuration error whose fix is the advice', async (t) => {
  const { code, output } = await check(['check', '--fix-auth'], { REDIS_HOST: 'h', REDIS_SENTINELS: 's1' })
  t.equal(code, 2)
  t.match(output, /REDIS_HOST and REDIS_SENTINELS disagree; a client reaches one server/)
  t.match(output, /keep REDIS_HOST and remove REDIS_SENTINELS, or the other way round/)
  const json = JSON.parse((await check(['check', '--json'], { REDIS_HOST: 'h', REDIS_SENTINELS: 's1' })).output) as { error: { fixes: string[] } }
  t.match(json.error.fixes[0], /^a client reaches one server .* keep REDIS_HOST and remove REDIS_SENTINELS, or the other way round/)
})

t.test('on a cluster, a --rate-limit-namespace without a hash tag is accepted: check goes on to the nodes', async (t) => {
  // Per-slot counting made any nameSpace right on a cluster; the only failure left is the node nobody runs.
  const { code, output } = await check(['check', '--rate-limit-namespace', 'api:rl:'], { REDIS_CLUSTER_NODES: '127.0.0.1:1', REDIS_PASSWORD: PW })
  t.equal(code, 1)
  t.notMatch(output, /FRR_ERR_/)
  t.match(output, /✘ node +127\.0\.0\.1:1: unreachable, refused/)
  t.match(output, /- limiter +not run: node failed/)
})

t.test('no sentinel answers: a failure naming REDIS_SENTINELS', async (t) => {
  // Nothing listens on port 1: every sentinel is refused, which is a failure naming REDIS_SENTINELS.
  const { code, output } = await check(['check', '--json'], { REDIS_SENTINELS: '127.0.0.1:1', REDIS_SENTINEL_PASSWORD: PW, REDIS_PASSWORD: PW })
  t.equal(code, 1)
  const [c] = (JSON.parse(output) as { connections: Array<{ failure: { class: string; hint: string }; topology: unknown }> }).connections
  t.match(c?.failure, { class: 'refused', hint: /^none of the 1 sentinels in REDIS_SENTINELS answers/ })
  t.match(c?.topology, { kind: 'sentinel', sentinels: [{ address: '127.0.0.1:1', ok: false }], quorum: null, master: null })
})

t.test('sentinel-facts: maps, flags, agreement', async (t) => {
  t.same(fields(['a', 1, 'b', 'x', 'dangling']), { a: '1', b: 'x' })
  t.same(fields('not a map'), {})
  const view = (port: number, flags: string) => masterView(['ip', '10.0.0.1', 'port', String(port), 'flags', flags, 'quorum', '2', 'num-other-sentinels', '2'])
  t.match(view(7001, 'master'), { host: '10.0.0.1', port: 7001, address: '10.0.0.1:7001', flags: ['master'], down: [], quorum: 2, otherSentinels: 2 })
  t.same(describeMaster('m', [view(7001, 'master')], 3), { status: 'ok', detail: '"m" is at 10.0.0.1:7001 (quorum 2, 3 sentinels watch it, 1 of 3 listed answer)' })
  t.match(describeMaster('m', [view(7001, 'master'), view(7002, 'master')], 2), { status: 'warn', detail: /^the sentinels disagree on "m": 10\.0\.0\.1:7001, 10\.0\.0\.1:7002 \(a failover under way/ })
  t.match(describeMaster('m', [view(7001, 'master,s_down,o_down')], 1), { status: 'warn', detail: /^"m" is at 10\.0\.0\.1:7001, which the sentinels flag s_down, o_down: they see it down/ })
  t.match(describeReplicas([]), { status: 'warn', detail: /^no replica: if the master fails, there is nothing to promote/ })
  const replicas = replicaViews([['ip', 'r1', 'port', '1', 'flags', 'slave', 'master-link-status', 'ok'], ['ip', 'r2', 'port', '2', 'flags', 'slave', 'master-link-status', 'err'], ['ip', 'r3', 'port', '3', 'flags', 'slave,s_down', 'master-link-status', 'err']])
  t.same(describeReplicas(replicas.slice(0, 1)), { status: 'ok', detail: '1 replica: r1:1 (link ok)' })
  t.same(describeReplicas(replicas), { status: 'warn', detail: '3 replicas, 2 of them down or not in sync with the master (a failover could not promote it): r1:1 (link ok), r2:2 (link err), r3:3 (s_down)' })
})

// CLUSTER NODES as Redis 7 writes it: id, address@bus-port[,hostname], flags, master, ping, pong, epoch, link, slots.
const NODES = [
  'a1 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460',
  'a2 10.0.0.2:7001@17001,host-b master - 0 0 2 connected 5461-10922 [5461->-c3]',
  'a3 10.0.0.3:7002@17002 master,fail? - 0 0 3 connected 10923-16383',
  'r1 10.0.0.4:7003@17003 slave a1 0 0 1 connected',
  'r3 10.0.0.6:7005@17005 slave a3 0 0 3 connected',
  '',
].join('\n')

t.test('cluster-facts: nodes, slot ranges, coverage, shards', async (t) => {
  const nodes = parseClusterNodes(NODES)
  t.same(nodes.map((n) => n.address), ['10.0.0.1:7000', '10.0.0.2:7001', '10.0.0.3:7002', '10.0.0.4:7003', '10.0.0.6:7005'])
  t.same(nodes[1]?.slots, [[5461, 10922]], 'a slot being migrated is not counted')
  t.match(nodes[2], { failing: true, masterId: undefined })
  t.equal(nodes[3]?.masterId, 'a1')
  t.equal(rangesText([]), 'none')
  t.equal(rangesText([[1, 1], [3, 9]]), '1,3-9')

  // fail? (one node's view): served, maybe not for long; a warning, with the lone master named.
  const doubtful = slotCoverage(nodes)
  t.same({ covered: doubtful.covered, unserved: doubtful.unserved, failing: doubtful.failing.map((n) => n.id) }, { covered: 10923, unserved: [], failing: ['a3'] })
  t.match(describeShards(nodes), { status: 'warn', detail: /^10923 of 16384 slots on 3 masters: 10\.0\.0\.1:7000 0-5460 \(replica 10\.0\.0\.4:7003\), 10\.0\.0\.2:7001 5461-10922 \(no replica\), .*the rest belong to a master flagged fail\?/ })
  t.same(downReasons(nodes), ['10.0.0.3:7002 (master of slots 10923-16383) is flagged fail?, and no replica took over (10.0.0.6:7005)'])

  // fail, and slots nobody holds: neither is served.
  const failed = parseClusterNodes(NODES.replace('master,fail?', 'master,fail').replace('0-5460', '0-5000').replace(/^r3 .*$/m, ''))
  t.same(slotCoverage(failed).unserved, [[5001, 5460], [10923, 16383]])
  t.same(downReasons(failed), ['10.0.0.3:7002 (master of slots 10923-16383) is flagged fail, and has no replica', 'slots 5001-5460 have no master'])

  t.same(downReasons(parseClusterNodes(NODES.replace('master,fail?', 'master'))), ['no master is flagged fail and every slot has one: the node asked may be cut off from the majority of the masters'])
  const healthy = parseClusterNodes(NODES.replace('master,fail?', 'master').replace(/^a2 .*$/m, 'a2 10.0.0.2:7001@17001 master - 0 0 2 connected 5461-10922\nr2 10.0.0.5:7004@17004 slave a2 0 0 2 connected'))
  t.same(describeShards(healthy), { status: 'ok', detail: '16384 of 16384 slots on 3 masters: 10.0.0.1:7000 0-5460 (replica 10.0.0.4:7003), 10.0.0.2:7001 5461-10922 (replica 10.0.0.5:7004), 10.0.0.3:7002 10923-16383 (replica 10.0.0.6:7005)' })
  const alone = parseClusterNodes(NODES.replace('master,fail?', 'master'))
  t.match(describeShards(alone), { status: 'warn', detail: /; 10\.0\.0\.2:7001 has no replica, so if it fails its slots are lost until it returns$/ })
  const twoAlone = parseClusterNodes(NODES.replace('master,fail?', 'master').replace(/^r\d .*$/gm, ''))
  t.match(describeShards(twoAlone), { status: 'warn', detail: /; 10\.0\.0\.1:7000, 10\.0\.0\.2:7001, 10\.0\.0\.3:7002 have no replica/ })
})
