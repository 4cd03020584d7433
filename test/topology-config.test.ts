// Sentinel and Cluster as configured: REDIS_SENTINELS & co, REDIS_CLUSTER_NODES,
// the redis+sentinel:// and redis+cluster:// URLs, the typed options, named
// clients, and every way to get them wrong (coded errors naming the setting,
// never a password). Pure: resolveConfig only, no server.
import t, { type Test } from 'tap'
import { resolveConfig, type ConfigInput } from '../src/config/index.js'
import { parseAddressList, parseTopologyUrl, urlKind } from '../src/config/topology-url.js'
import { classifyFailure } from '../src/failure-class.js'
import { resolvePluginOptions } from '../src/plugin-options.js'

const PW = 'S3cret-topology'
const main = (input: ConfigInput) => resolveConfig(input).connections[0]!
const fails = (t: Test, input: ConfigInput, code: string, message: RegExp, what?: string): void => {
  let thrown: unknown
  try { resolveConfig(input) } catch (error) { thrown = error }
  t.match(thrown, { code, message }, what ?? String(message))
  t.notOk(String((thrown as Error | undefined)?.message).includes(PW), 'no password in the message')
}

t.test('REDIS_SENTINELS: default port 26379, master name mymaster, the data password for the sentinels too', async (t) => {
  const c = main({ env: { REDIS_SENTINELS: 's1,s2:26380, [::1]:26381', REDIS_PASSWORD: PW } })
  t.same(c.topology, {
    kind: 'sentinel',
    sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }, { host: '::1', port: 26381 }],
    masterName: 'mymaster', sentinelUsername: undefined, sentinelPassword: PW, sentinelPasswordFrom: 'REDIS_PASSWORD',
  })
  t.equal(c.display, 'redis+sentinel://:***@s1:26379,s2:26380,[::1]:26381/mymaster/0')
  t.equal(c.locatedBy, 'REDIS_SENTINELS')
  t.same([c.host, c.port], ['s1', 26379], 'host and port: the first sentinel')
})

t.test('sentinel name, user and password of their own; a password file', async (t) => {
  const c = main({ env: { REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'prod', REDIS_SENTINEL_USERNAME: 'watcher', REDIS_SENTINEL_PASSWORD: 'other', REDIS_USERNAME: 'app', REDIS_PASSWORD: PW, REDIS_DB: '2' } })
  t.match(c.topology, { kind: 'sentinel', masterName: 'prod', sentinelUsername: 'watcher', sentinelPassword: 'other', sentinelPasswordFrom: 'REDIS_SENTINEL_PASSWORD' })
  t.same([c.username, c.password, c.db], ['app', PW, 2])
  t.equal(c.display, 'redis+sentinel://app:***@s1:26379/prod/2')
  const options = main({ sentinels: ['s1:1', { host: 's2' }, { host: 's3', port: 3 }], sentinelName: 'opt', sentinelUsername: 'u', sentinelPassword: 'p', env: { REDIS_SENTINEL_NAME: 'env' } })
  t.match(options.topology, { sentinels: [{ host: 's1', port: 1 }, { host: 's2', port: 26379 }, { host: 's3', port: 3 }], masterName: 'opt', sentinelUsername: 'u', sentinelPassword: 'p', sentinelPasswordFrom: 'sentinelPassword option' })
  t.equal(main({ sentinels: ['s1'] }).display, 'redis+sentinel://s1:26379/mymaster/0', 'no password at all')
  t.equal(main({ sentinels: ['s1'], username: 'u' }).display, 'redis+sentinel://u@s1:26379/mymaster/0')
  fails(t, { env: { REDIS_SENTINELS: 's1', REDIS_SENTINEL_PASSWORD_FILE: '/nonexistent/frr' } }, 'FRR_ERR_PASSWORD_FILE', /^REDIS_SENTINEL_PASSWORD_FILE \(\/nonexistent\/frr\) cannot be read \(ENOENT\)/)
  fails(t, { env: { REDIS_SENTINELS: 's1', REDIS_SENTINEL_PASSWORD: PW, REDIS_SENTINEL_PASSWORD_FILE: '/x/y' } }, 'FRR_ERR_CONFLICTING_SETTINGS', /^REDIS_SENTINEL_PASSWORD and REDIS_SENTINEL_PASSWORD_FILE disagree; set only one of REDIS_SENTINEL_PASSWORD and REDIS_SENTINEL_PASSWORD_FILE/)
})

t.test('redis+sentinel:// URLs', async (t) => {
  const c = main({ env: { REDIS_URL: `redis+sentinel://app:${encodeURIComponent(PW)}@s1:1,s2/prod%2Fa/3` } })
  t.match(c.topology, { kind: 'sentinel', sentinels: [{ host: 's1', port: 1 }, { host: 's2', port: 26379 }], masterName: 'prod/a', sentinelPassword: PW, sentinelPasswordFrom: 'REDIS_URL' })
  t.same([c.username, c.password, c.db, c.passwordFrom, c.locatedBy], ['app', PW, 3, 'REDIS_URL', 'REDIS_URL'])
  t.equal(main({ env: { REDIS_URL: 'redis+sentinel://s1/', REDIS_SENTINEL_NAME: 'named' } }).topology.kind, 'sentinel')
  t.match(main({ env: { REDIS_URL: 'redis+sentinel://s1', REDIS_SENTINEL_NAME: 'named' } }).topology, { masterName: 'named' }, 'no master in the URL: REDIS_SENTINEL_NAME')
  t.match(main({ url: 'REDIS+SENTINEL://s1/m', sentinelName: 'm' }).topology, { masterName: 'm' }, 'the scheme in any case; a name said twice the same way')
  fails(t, { url: 'redis+sentinel://s1/m', sentinelName: 'other' }, 'FRR_ERR_CONFLICTING_SETTINGS', /^url option and sentinelName option disagree/)
  fails(t, { env: { REDIS_URL: `redis+sentinel://:${PW}@s1/m?x=1` } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_URL is not a URL of the form it starts with \(got "redis\+sentinel:\/\/\*\*\*"\)/)
  fails(t, { env: { REDIS_URL: `redis+sentinel://:${PW}@s1/m/0/1` } }, 'FRR_ERR_INVALID_SETTING', /has more path segments than the form allows/)
  fails(t, { env: { REDIS_URL: `rediss+sentinel://:${PW}@s1/m` } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_URL asks for TLS with Sentinel, which this version does not serve/)
  fails(t, { env: { REDIS_URL: `redis+sentinel://:${PW}@s1:0/m` } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_URL has a port that is not a whole number from 1 to 65535 \(got not shown: it is part of the URL\)/)
  fails(t, { env: { REDIS_URL: `redis+sentinel://:${PW}@s1:1:2/m` } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_URL has a server that is not host:port/)
  fails(t, { env: { REDIS_URL: `redis+sentinel://:${PW}@/m` } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_URL has a host that cannot be used/)
  fails(t, { env: { REDIS_URL: `redis+sentinel://:${PW}@s1/m/x` } }, 'FRR_ERR_INVALID_SETTING', /^the database in REDIS_URL must be a whole number/)
})

t.test('REDIS_CLUSTER_NODES and redis+cluster:// URLs: default port 6379, database 0 only', async (t) => {
  const c = main({ env: { REDIS_CLUSTER_NODES: 'n1:7000,n2', REDIS_PASSWORD: PW } })
  t.same(c.topology, { kind: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 6379 }] })
  t.equal(c.display, 'redis+cluster://:***@n1:7000,n2:6379')
  const url = main({ env: { REDIS_URL: `redis+cluster://u:${PW}@n1:1,n2:2/0` } })
  t.same([url.topology, url.username, url.password, url.db], [{ kind: 'cluster', nodes: [{ host: 'n1', port: 1 }, { host: 'n2', port: 2 }] }, 'u', PW, 0])
  t.equal(main({ clusterNodes: [{ host: 'n1', port: 5 }] }).display, 'redis+cluster://n1:5')
  fails(t, { env: { REDIS_CLUSTER_NODES: 'n1', REDIS_DB: '1' } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_DB asks for database 1, but a Redis Cluster has database 0 only/)
  fails(t, { env: { REDIS_URL: 'redis+cluster://n1/2' } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_URL asks for database 2/)
  fails(t, { env: { REDIS_URL: 'redis+cluster://n1/0/1' } }, 'FRR_ERR_INVALID_SETTING', /more path segments/)
  fails(t, { clusterNodes: ['n1'], clients: { cache: { db: 4 } } }, 'FRR_ERR_INVALID_SETTING', /^clients\.cache\.db asks for database 4/)
  fails(t, { env: { REDIS_CLUSTER_NODES: 'n1', REDIS_TLS: 'true' } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_TLS turns TLS on, which this version does not serve with Cluster/)
  fails(t, { sentinels: ['s1'], tls: true }, 'FRR_ERR_INVALID_SETTING', /^tls option turns TLS on, which this version does not serve with Sentinel/)
  t.equal(main({ clusterNodes: ['n1'], tls: false }).tls, undefined, 'TLS off is fine')
})

t.test('any mix of topologies for one client is a conflict; options override the environment as a whole', async (t) => {
  const conflicts: Array<[ConfigInput, RegExp]> = [
    [{ env: { REDIS_URL: 'redis://h', REDIS_SENTINELS: 's1' } }, /^REDIS_URL and REDIS_SENTINELS disagree; a client reaches one server/],
    [{ env: { REDIS_HOST: 'h', REDIS_CLUSTER_NODES: 'n1' } }, /^REDIS_HOST and REDIS_CLUSTER_NODES disagree/],
    [{ env: { REDIS_PORT: '1', REDIS_SENTINELS: 's1' } }, /^REDIS_PORT and REDIS_SENTINELS disagree/],
    [{ env: { REDIS_SENTINELS: 's1', REDIS_CLUSTER_NODES: 'n1' } }, /^REDIS_SENTINELS and REDIS_CLUSTER_NODES disagree/],
    [{ env: { REDIS_URL: 'redis+sentinel://s1/m', REDIS_SENTINELS: 's2' } }, /^REDIS_URL and REDIS_SENTINELS disagree/],
    [{ url: 'redis+cluster://n1', host: 'h' }, /^url option and host option disagree/],
    [{ sentinels: ['s1'], clusterNodes: ['n1'] }, /^sentinels option and clusterNodes option disagree/],
    [{ port: 1, sentinels: ['s1'] }, /^port option and sentinels option disagree/],
  ]
  for (const [input, message] of conflicts) fails(t, input, 'FRR_ERR_CONFLICTING_SETTINGS', message)
  t.equal(main({ host: 'h', env: { REDIS_SENTINELS: 's1' } }).topology.kind, 'single', 'a host option hides REDIS_SENTINELS')
  t.equal(main({ sentinels: ['s1'], env: { REDIS_URL: 'redis://h' } }).topology.kind, 'sentinel', 'a sentinels option hides REDIS_URL')
  t.equal(main({ host: 'h', env: { REDIS_URL: 'redis+cluster://n1', REDIS_PORT: '7' } }).port, 7, 'beside a host option, a topology URL in the environment is not read for the port')
})

t.test('named clients: the same URL forms, or the default topology in a database of their own', async (t) => {
  const { connections } = resolveConfig({
    env: { REDIS_SENTINELS: 's1', REDIS_PASSWORD: PW, REDIS_SENTINEL_NAME: 'envname', REDIS_JOBS_URL: 'redis+cluster://n1:1', REDIS_AUX_URL: 'redis+sentinel://a1' },
    clients: { cache: { db: 5 }, jobs: {}, aux: {}, single: { url: 'redis://h:1/2' }, own: { url: 'redis+sentinel://o1/ownname' } },
  })
  const [, cache, jobs, aux, single, own] = connections
  t.match(cache, { topology: { kind: 'sentinel', masterName: 'envname' }, db: 5, display: 'redis+sentinel://:***@s1:26379/envname/5' })
  t.match(jobs, { topology: { kind: 'cluster', nodes: [{ host: 'n1', port: 1 }] }, password: PW, locatedBy: 'REDIS_JOBS_URL' })
  t.match(aux, { topology: { kind: 'sentinel', sentinels: [{ host: 'a1', port: 26379 }], masterName: 'envname' } }, 'no master in its URL: REDIS_SENTINEL_NAME')
  t.match(single, { topology: { kind: 'single' }, host: 'h', db: 2 })
  t.match(own, { topology: { kind: 'sentinel', masterName: 'ownname' } })
  t.match(resolveConfig({ sentinelName: 'opt', clients: { x: { url: 'redis+sentinel://x1' } } }).connections[1], { topology: { masterName: 'opt' } }, 'a named URL without a master: the sentinelName option')
  fails(t, { clients: { jobs: { url: 'redis+cluster://n1', role: 'queue' } } }, 'FRR_ERR_INVALID_SETTING', /^clients\.jobs\.url puts the queue client "jobs" on a Redis Cluster/)
  fails(t, { clusterNodes: ['n1'], clients: { jobs: { role: 'blocking' } } }, 'FRR_ERR_INVALID_SETTING', /^clients\.jobs\.role option puts the blocking client/)
  fails(t, { clusterNodes: ['n1'], clients: { jobs: {} }, env: { REDIS_JOBS_ROLE: 'subscriber' } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_JOBS_ROLE puts the subscriber client/)
})

t.test('REDIS_SENTINEL* and REDIS_CLUSTER* variables the plugin does not read fail; so do sentinel settings nothing uses', async (t) => {
  for (const name of ['REDIS_SENTINEL_HOSTS', 'REDIS_SENTINEL_PORT', 'REDIS_CLUSTER', 'REDIS_CLUSTER_URL', 'REDIS_SENTINEL_URL', 'REDIS_CLUSTER_ENABLED', 'REDIS_SENTINEL_CACHE_ROLES']) {
    fails(t, { env: { [name]: 'x' } }, 'FRR_ERR_INVALID_SETTING', new RegExp(`^${name} is not a setting of fastify-resilient-redis; Sentinel takes REDIS_SENTINELS`), name)
  }
  t.equal(main({ env: { REDIS_CLUSTER_CACHE_URL: 'redis://h', REDIS_SENTINEL_X: '' } }).topology.kind, 'single', 'a client variable (clusterCache) and an empty variable are fine')
  t.equal(main({ env: { REDIS_SENTINEL_STORE_ROLE: 'blocking' } }).topology.kind, 'single')
  fails(t, { env: { REDIS_SENTINEL_NAME: 'm', REDIS_HOST: 'h' } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_SENTINEL_NAME is set, but no connection uses Redis Sentinel/)
  fails(t, { sentinelPassword: PW }, 'FRR_ERR_INVALID_SETTING', /^sentinelPassword option is set, but no connection uses Redis Sentinel/)
  t.equal(main({ env: { REDIS_SENTINEL_NAME: 'm' }, clients: { x: { url: 'redis+sentinel://s' } } }).topology.kind, 'single', 'used by a named client')
})

t.test('options of the wrong type', async (t) => {
  fails(t, { sentinels: 's1' as never }, 'FRR_ERR_INVALID_SETTING', /^sentinels option must be an array of servers \(got string\)/)
  fails(t, { clusterNodes: {} as never }, 'FRR_ERR_INVALID_SETTING', /^clusterNodes option must be an array/)
  fails(t, { sentinels: [] }, 'FRR_ERR_INVALID_SETTING', /^sentinels option lists no server/)
  fails(t, { sentinels: [7 as never] }, 'FRR_ERR_INVALID_SETTING', /must list servers as "host:port" strings or \{ host, port \} objects \(got number\)/)
  fails(t, { sentinels: [null as never] }, 'FRR_ERR_INVALID_SETTING', /\(got null\)/)
  fails(t, { sentinels: [{ host: 's', port: 0 }] }, 'FRR_ERR_INVALID_SETTING', /^the port of s in sentinels option must be a whole number/)
  fails(t, { sentinels: ['s 1'] }, 'FRR_ERR_INVALID_SETTING', /^sentinels option has a host that cannot be used \(got "s 1"\)/)
  fails(t, { sentinels: [':1'] }, 'FRR_ERR_INVALID_SETTING', /\(got an empty host\)/)
  fails(t, { env: { REDIS_SENTINELS: ' , ' } }, 'FRR_ERR_INVALID_SETTING', /^REDIS_SENTINELS lists no server/)
  fails(t, { env: { REDIS_PASSWORD: PW, REDIS_SENTINELS: `s:${PW}` } }, 'FRR_ERR_INVALID_SETTING', /\(got a value that holds a configured password, not shown\)/)
  fails(t, { sentinelName: 1 as never, sentinels: ['s'] }, 'FRR_ERR_INVALID_SETTING', /^sentinelName option must be a string/)
  t.throws(() => parseAddressList(3 as never, 'x', 1, []), { message: /^x must be a list of servers \(got number\)/ })
})

t.test('helpers: URL kinds, failure classes of the topologies', async (t) => {
  t.same(['redis://h', 'rediss://h', 'redis+sentinel://s', 'rediss+cluster://n', 'http://x', 'nonsense'].map(urlKind), ['single', 'single', 'sentinel', 'cluster', 'single', 'single'])
  t.throws(() => parseTopologyUrl('rediss+cluster://n', 'X'), { message: /^X asks for TLS with Cluster/ })
  t.equal(classifyFailure(new Error('All sentinels are unreachable. Retrying from scratch after 10ms. Last error: connect ECONNREFUSED 127.0.0.1:1')), 'refused')
  t.equal(classifyFailure(new Error('All sentinels are unreachable. Retrying from scratch after 10ms. Last error: WRONGPASS invalid username-password pair')), 'password-wrong')
  t.equal(classifyFailure(Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: new Error('NOAUTH Authentication required.') })), 'password-missing')
})

t.test('empty sentinel credentials count as unset; readOnly is refused on a cluster', async (t) => {
  t.match(main({ sentinels: ['s1'], sentinelUsername: '', sentinelPassword: '', env: { REDIS_SENTINEL_USERNAME: 'u', REDIS_SENTINEL_PASSWORD: 'p' } }).topology, { sentinelUsername: 'u', sentinelPassword: 'p', sentinelPasswordFrom: 'REDIS_SENTINEL_PASSWORD' })
  t.throws(() => resolvePluginOptions({ env: {}, clusterNodes: ['n1'], readOnly: true }), { code: 'FRR_ERR_INVALID_SETTING', message: /^readOnly option does not apply to a Redis Cluster/ })
  t.throws(() => resolvePluginOptions({ env: { REDIS_CACHE_URL: 'redis+cluster://n1' }, clients: { cache: {} }, readOnly: true }), { code: 'FRR_ERR_INVALID_SETTING' }, 'a named client on a cluster too')
  t.equal(resolvePluginOptions({ env: {}, readOnly: true }).redisOptions.readOnly, true, 'one server: passed through')
})
