// `check` on Redis Sentinel, against one real master/replica/3-sentinel set
// whose sentinels have a password of their own (test/helpers/topologies.ts),
// plus one extra sentinel without a password: healthy, --json, a master name
// the sentinels do not know, the sentinels' password wrong, defaulted or
// missing, an ACL user on a sentinel, an address that is no sentinel, and
// last the set falling apart: the replica, then one, two and three sentinels.
import t from 'tap'
import { secretCheckingRun, stepLines } from './helpers/cli-run.js'
import { STEP_NAMES } from '../src/cli/types.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { startSentinelSet, waitFor } from './helpers/topologies.js'

const SECRET = 'Data-Secret-6Hn'
const SENTINEL_SECRET = 'Sentinel-Secret-3Jk'
const USER_SECRET = 'Watcher-Secret-5Lp'
const WRONG = 'Wrong-Sentinel-9Qd'
const SECRETS = [SECRET, SENTINEL_SECRET, USER_SECRET, WRONG]

t.teardown(stopAllRedis)
const set = await startSentinelSet(SECRET, { sentinelPassword: SENTINEL_SECRET })
t.teardown(() => set.stop())
const [first] = set.sentinels as [typeof set.sentinels[number]]

const run = secretCheckingRun(SECRETS)
const lines = stepLines
const env = { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET, REDIS_SENTINEL_PASSWORD: SENTINEL_SECRET }
const masterAt = `127.0.0.1:${set.master.port}`
const replicaAt = `127.0.0.1:${set.replica.port}`

interface Connection {
  ok: boolean
  steps: Array<{ name: string; status: string; address?: string; detail: string }>
  failure: { step: string; class: string; message: string; hint: string } | null
  topology: { kind: string; masterName: string; sentinelPasswordFrom: string | null; sentinelUsername: string | null; sentinels: Array<{ address: string; ok: boolean }>; quorum: number | null; master: string | null; replicas: string[] }
  server: { role?: string }
  fixes: string[]
}
const connectionOf = (stdout: string): Connection => (JSON.parse(stdout) as { connections: Connection[] }).connections[0] as Connection

t.test('healthy: each sentinel, the master and its replica, then the one-server steps on the master', async (t) => {
  const { code, stdout, stderr } = await run(t, ['check'], env)
  t.equal(code, 0, 'exit 0')
  t.equal(stderr, '')
  t.match(stdout, `  located by REDIS_SENTINELS, password from REDIS_PASSWORD\n  sentinels: password from REDIS_SENTINEL_PASSWORD, master set "mymaster"\n`)
  const sentinels = lines(stdout, 'sentinel')
  t.same(sentinels, set.sentinelList.split(',').map((at) => `✔ sentinel   ${at}: authenticated (password from REDIS_SENTINEL_PASSWORD); knows "mymaster" at ${masterAt}`))
  t.equal(lines(stdout, 'master')[0], `✔ master     "mymaster" is at ${masterAt} (quorum 2, 3 sentinels watch it, 3 of 3 listed answer)`)
  t.equal(lines(stdout, 'replicas')[0], `✔ replicas   1 replica: ${replicaAt} (link ok)`)
  t.equal(lines(stdout, 'tcp')[0], `✔ tcp        connected to ${masterAt}`)
  t.equal(lines(stdout, 'auth')[0], '✔ auth       authenticated as the default user (password from REDIS_PASSWORD)')
  t.match(lines(stdout, 'server')[0], /^✔ server {5}Redis \d+\.\d+\.\d+, role master$/)
  t.match(lines(stdout, 'limiter')[0], /^✔ limiter {4}the limiter's script counts on frr-rate-limit:__frr_check__/)
})

t.test('--json: the steps, and what check learnt of the set', async (t) => {
  const { code, stdout } = await run(t, ['check', '--json'], env)
  t.equal(code, 0)
  const c = connectionOf(stdout)
  t.same(c.steps.map((s) => s.name), ['sentinel', 'sentinel', 'sentinel', 'master', 'replicas', ...STEP_NAMES])
  t.same(c.steps.slice(0, 3).map((s) => s.address), set.sentinelList.split(','))
  t.same(c.topology, {
    kind: 'sentinel', masterName: 'mymaster', sentinelPasswordFrom: 'REDIS_SENTINEL_PASSWORD', sentinelUsername: null,
    sentinels: set.sentinelList.split(',').map((address) => ({ address, ok: true })), quorum: 2, master: masterAt, replicas: [replicaAt],
  })
  t.match(c, { ok: true, failure: null, fixes: [], server: { role: 'master' } })
})

t.test('a master name the sentinels do not know: unknown-master, naming REDIS_SENTINEL_NAME and the names they know', async (t) => {
  const { code, stdout } = await run(t, ['check', '--fix-auth'], { ...env, REDIS_SENTINEL_NAME: 'elsewhere' })
  t.equal(code, 1)
  t.ok(lines(stdout, 'sentinel').every((l) => l.startsWith('! sentinel') && l.endsWith('watches no master named "elsewhere"')))
  t.equal(lines(stdout, 'master')[0], '✘ master     unknown-master: the sentinels that answer know no master named "elsewhere" (they watch "mymaster")')
  t.match(stdout, '• the sentinels that answer know no master named "elsewhere" (they watch "mymaster"): set REDIS_SENTINEL_NAME (default mymaster) to the master set\'s name where the app\'s environment is defined')
  t.match(stdout, '• SENTINEL MASTERS on a sentinel lists the names it watches')
  t.equal(lines(stdout, 'tcp')[0], '- tcp        not run: master failed')
  const url = connectionOf((await run(t, ['check', '--json'], { REDIS_URL: `redis+sentinel://:${SECRET}@${set.sentinelList}/elsewhere`, REDIS_SENTINEL_PASSWORD: SENTINEL_SECRET })).stdout)
  t.match(url.failure, { step: 'master', class: 'unknown-master', hint: /set the master name in REDIS_URL \(redis\+sentinel:\/\/…\/<name>\)/ })
  t.same(url.topology.replicas, [])
  t.equal(url.topology.master, null)
})

t.test("the sentinels' password: wrong, defaulted to the data password, missing", async (t) => {
  const wrong = await run(t, ['check', '--fix-auth'], { ...env, REDIS_SENTINEL_PASSWORD: WRONG })
  t.equal(wrong.code, 1)
  t.equal(lines(wrong.stdout, 'sentinel').filter((l) => /^✘ sentinel {3}127\.0\.0\.1:\d+: password-wrong: the sentinel at 127\.0\.0\.1:\d+ rejected the password from REDIS_SENTINEL_PASSWORD$/.test(l)).length, 3)
  t.match(wrong.stdout, /• the sentinel at \S+ rejected the password from REDIS_SENTINEL_PASSWORD: check REDIS_SENTINEL_PASSWORD: it must be the sentinels' password\n/)
  t.match(wrong.stdout, "• a sentinel's own password is the requirepass line of its sentinel.conf")

  const defaulted = await run(t, ['check', '--json'], { REDIS_SENTINELS: set.sentinelList, REDIS_PASSWORD: SECRET })
  const c = connectionOf(defaulted.stdout)
  t.match(c.failure, { step: 'sentinel', class: 'password-wrong', hint: /rejected the password from REDIS_PASSWORD: REDIS_SENTINEL_PASSWORD is unset, so the sentinels get the data password \(REDIS_PASSWORD\); set REDIS_SENTINEL_PASSWORD \(or REDIS_SENTINEL_PASSWORD_FILE\) to the sentinels' own password$/ })
  t.match(c.fixes[1], 'the data password (REDIS_PASSWORD) stays as it is')
  t.equal(c.topology.sentinelPasswordFrom, 'REDIS_PASSWORD')

  const missing = connectionOf((await run(t, ['check', '--json'], { REDIS_SENTINELS: set.sentinelList })).stdout)
  t.match(missing.failure, { class: 'password-missing', hint: /^the sentinel at \S+ requires a password and none is sent: set REDIS_SENTINEL_PASSWORD \(or REDIS_SENTINEL_PASSWORD_FILE\) to the sentinels' password$/ })
})

t.test('an address that is no sentinel: not-a-sentinel, naming REDIS_SENTINELS and REDIS_URL', async (t) => {
  const { code, stdout } = await run(t, ['check'], { ...env, REDIS_SENTINELS: masterAt, REDIS_SENTINEL_PASSWORD: SECRET })
  t.equal(code, 1)
  t.equal(lines(stdout, 'sentinel')[0], `✘ sentinel   ${masterAt}: not-a-sentinel: ${masterAt} answers as a Redis server, not as a sentinel (SENTINEL is an unknown command there)`)
  t.match(stdout, `hint: ${masterAt} answers as a Redis server, not as a sentinel (SENTINEL is an unknown command there): list the sentinels (port 26379 unless changed) in REDIS_SENTINELS, or to use that server alone, REDIS_URL=redis://${masterAt} instead of REDIS_SENTINELS`)
})

t.test('a sentinel without a password of its own, and an ACL user on it', async (t) => {
  const open = await startRedis({
    configText: [`sentinel monitor mymaster 127.0.0.1 ${set.master.port} 2`, `sentinel auth-pass mymaster ${SECRET}`, ''].join('\n'),
    extraArgs: ['--sentinel'],
  })
  t.teardown(() => open.kill())
  const at = `127.0.0.1:${open.port}`
  const defaulted = await run(t, ['check'], { REDIS_SENTINELS: at, REDIS_PASSWORD: SECRET })
  t.equal(defaulted.code, 0, 'works, with a warning')
  t.equal(lines(defaulted.stdout, 'sentinel')[0], `! sentinel   ${at}: has no password, so the data password it gets by default is not needed: anyone who reaches it can use it (requirepass in sentinel.conf); knows "mymaster" at ${masterAt}`)
  const own = await run(t, ['check'], { REDIS_SENTINELS: at, REDIS_PASSWORD: SECRET, REDIS_SENTINEL_PASSWORD: WRONG })
  t.match(lines(own.stdout, 'sentinel')[0], 'has no password, so the password from REDIS_SENTINEL_PASSWORD is not needed')
  const none = await run(t, ['check'], { REDIS_SENTINELS: at })
  t.match(lines(none.stdout, 'sentinel')[0], `! sentinel   ${at}: no password set: the sentinel lets in anyone who can reach it; knows "mymaster"`)
  t.match(lines(none.stdout, 'auth')[0], /^✘ auth {7}password-missing: the server at 127\.0\.0\.1:\d+ requires a password/, 'the master still wants the data password')

  for (const [user, rules] of [['watcher', []], ['blind', ['-sentinel|master']]] as const) {
    t.equal(await open.command('ACL', 'SETUSER', user, 'on', `>${USER_SECRET}`, '+@all', ...rules), '+OK')
  }
  const as = (user: string) => ({ REDIS_SENTINELS: at, REDIS_PASSWORD: SECRET, REDIS_SENTINEL_USERNAME: user, REDIS_SENTINEL_PASSWORD: USER_SECRET })
  const watcher = await run(t, ['check'], as('watcher'))
  t.equal(watcher.code, 0)
  t.match(watcher.stdout, '  sentinels: password from REDIS_SENTINEL_PASSWORD, ACL user "watcher", master set "mymaster"\n')
  t.equal(lines(watcher.stdout, 'sentinel')[0], `✔ sentinel   ${at}: authenticated as ACL user "watcher" (password from REDIS_SENTINEL_PASSWORD); knows "mymaster" at ${masterAt}`)
  const blind = connectionOf((await run(t, ['check', '--json'], as('blind'))).stdout)
  t.match(blind.failure, { step: 'sentinel', class: 'no-permission', hint: /^ACL user "blind" lacks a permission on 127\.0\.0\.1:\d+/ })
  const noMonitor = await startRedis({ configText: '\n', extraArgs: ['--sentinel'] })
  t.teardown(() => noMonitor.kill())
  const nothing = connectionOf((await run(t, ['check', '--json'], { REDIS_SENTINELS: `127.0.0.1:${noMonitor.port}`, REDIS_PASSWORD: SECRET })).stdout)
  t.match(nothing.failure, { step: 'master', class: 'unknown-master', message: 'the sentinels that answer know no master named "mymaster" (they watch no master at all)' })
  const wrongUser = connectionOf((await run(t, ['check', '--json'], { ...as('watcher'), REDIS_SENTINEL_PASSWORD: WRONG })).stdout)
  t.match(wrongUser.failure, { class: 'password-wrong', hint: /check REDIS_SENTINEL_PASSWORD and REDIS_SENTINEL_USERNAME \("watcher"; ACL GETUSER watcher on the sentinel shows the user\)/ })
})

t.test('the set falling apart: replica down, one sentinel down (a warning), two (no quorum), all three', async (t) => {
  await set.replica.kill()
  await waitFor('the sentinels to flag the replica down', async () => (await first.command('SENTINEL', 'REPLICAS', 'mymaster')).includes('s_down'))
  const replicaDown = await run(t, ['check'], env)
  t.equal(replicaDown.code, 0)
  t.equal(lines(replicaDown.stdout, 'replicas')[0], `! replicas   1 replica, 1 of them down or not in sync with the master (a failover could not promote it): ${replicaAt} (s_down, disconnected)`)

  const [, second, third] = set.sentinels as [unknown, typeof first, typeof first]
  await first.kill()
  const one = await run(t, ['check'], env)
  t.equal(one.code, 0, 'one sentinel down while a quorum answers: a warning, not a failure')
  t.match(lines(one.stdout, 'sentinel')[0], new RegExp(`^! sentinel {3}127\\.0\\.0\\.1:${first.port}: unreachable, refused: nothing accepts connections at 127\\.0\\.0\\.1:${first.port}`))
  t.match(lines(one.stdout, 'master')[0], /^✔ master .*2 of 3 listed answer\)$/)

  await second.kill()
  const two = await run(t, ['check', '--json'], env)
  t.equal(two.code, 1)
  const c = connectionOf(two.stdout)
  t.match(c.failure, { step: 'master', class: 'no-quorum', hint: /^only 1 of the 3 sentinels in REDIS_SENTINELS can be reached, fewer than the quorum of 2: .*; start the sentinels that are down, or correct REDIS_SENTINELS$/ })
  t.same(c.topology.sentinels.map((s) => s.ok), [false, false, true])

  await third.kill()
  const none = await run(t, ['check', '--fix-auth'], env)
  t.equal(none.code, 1)
  t.equal(lines(none.stdout, 'sentinel').filter((l) => l.startsWith('✘ sentinel')).length, 3)
  t.match(none.stdout, /• none of the 3 sentinels in REDIS_SENTINELS answers \(the first: nothing accepts connections at 127\.0\.0\.1:\d+\): start them, or correct REDIS_SENTINELS \(host:port of each, port 26379 unless given\)/)
  t.match(none.stdout, '✘ 1 of 1 failed: default (refused)')
})
