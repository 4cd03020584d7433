// The doctor's words: for every failure class (and every place a password can
// come from), the step line of `check`, the hint (also the plugin's log line
// and health report) and the fixes of `--fix-auth` tell one story: the step
// line says what happened, the hint says it again and what to do, and the
// fixes start with the hint, then spell the change out. Pinned word for word.
import t from 'tap'
import { connectionFixes, failedStepDetail } from '../src/cli/fixes.js'
import type { ResolvedConnection } from '../src/config/index.js'
import { FAILURE_CLASSES, failureHint, failureSummary, type FailureClass } from '../src/failure-class.js'

const CTX = { where: 'in .env.production', stepMs: 1500, nameSpace: 'frr-rate-limit:' }
const BASE: ResolvedConnection = {
  name: 'default', host: '10.0.0.5', port: 6380, db: 0, username: undefined, password: 'x', tls: undefined,
  passwordFrom: 'REDIS_PASSWORD', locatedBy: 'REDIS_URL', display: 'redis://:***@10.0.0.5:6380/0', role: 'command', topology: { kind: 'single' },
}

/** Setting names mentioned in a text: variables and options. */
function settings (text: string): string[] {
  return [...new Set(text.match(/\bREDIS_[A-Z0-9_]+\b|\b(?:url|password|host|port|db|tls|username) option\b|\bclients\.\w+\.\w+\b/g) ?? [])].sort()
}

interface WordsCase {
  name: string
  failure: FailureClass
  connection?: Partial<ResolvedConnection>
  /** The error as received (scrubbed). */
  message: string
  detail: string
  hint: string
  /** Said somewhere in the fixes after the hint. */
  fixSays?: string[]
}

const AUTH_WORDS = /NOAUTH|WRONGPASS|ERR AUTH|<password>/
/** Advice that contradicts itself or names a URL as if it were the password. */
const NEVER = [
  /set (?:REDIS_URL|REDIS_CACHE_URL|the url option|clients\.cache\.url) to/,
  /set REDIS_PASSWORD_FILE to the server/,
  /remove (?:REDIS_URL|REDIS_CACHE_URL|the url option|clients\.cache\.url)\b/,
  /credentials/,
]

const CASES: WordsCase[] = [
  {
    name: 'refused',
    failure: 'refused',
    connection: { locatedBy: 'REDIS_HOST' },
    message: 'connect ECONNREFUSED 10.0.0.5:6380',
    detail: 'refused: nothing accepts connections at 10.0.0.5:6380 (connect ECONNREFUSED 10.0.0.5:6380)',
    hint: 'nothing accepts connections at 10.0.0.5:6380: start Redis there, or correct the host and port (they come from REDIS_HOST)',
    fixSays: ['reached by its service name'],
  },
  {
    name: 'refused, on the defaults',
    failure: 'refused',
    connection: { host: 'localhost', port: 6379, locatedBy: 'defaults' },
    message: 'connect ECONNREFUSED 127.0.0.1:6379',
    detail: 'refused: nothing accepts connections at localhost:6379 (connect ECONNREFUSED 127.0.0.1:6379)',
    hint: 'nothing accepts connections at localhost:6379: start Redis there, or correct the host and port (they come from the defaults)',
  },
  {
    name: 'hanging',
    failure: 'hanging',
    message: 'no answer within 1500 ms',
    detail: 'hanging: 10.0.0.5:6380 accepts connections but does not answer in time (no answer within 1500 ms)',
    hint: '10.0.0.5:6380 accepts connections but does not answer in time: check that Redis is not stopped or overloaded and that nothing on the network drops the traffic',
    fixSays: ['stopped: SIGSTOP, a debugger, a paused container', 'each step here waited 1500 ms', 'a firewall, proxy or NAT'],
  },
  {
    name: 'hanging, with TLS on',
    failure: 'hanging',
    connection: { tls: {} },
    message: 'Command timed out',
    detail: 'hanging: 10.0.0.5:6380 accepts connections but does not answer in time (Command timed out)',
    hint: '10.0.0.5:6380 accepts connections but does not answer in time: check that Redis is not stopped or overloaded and that nothing on the network drops the traffic, and that this port speaks TLS (TLS is on)',
  },
  {
    name: 'connection-lost',
    failure: 'connection-lost',
    message: 'Connection is closed.',
    detail: 'connection-lost: the connection to 10.0.0.5:6380 was closed by the server or something in between (Connection is closed.)',
    hint: "the connection to 10.0.0.5:6380 was closed by the server or something in between: often a proxy or port forward whose Redis is down, otherwise the server's log says why; if that port expects TLS, use rediss:// or REDIS_TLS=true",
    fixSays: ['kubectl port-forward', 'maxclients'],
  },
  {
    name: 'connection-lost, with TLS on',
    failure: 'connection-lost',
    connection: { tls: {} },
    message: 'read ECONNRESET',
    detail: 'connection-lost: the connection to 10.0.0.5:6380 was closed by the server or something in between (read ECONNRESET)',
    hint: "the connection to 10.0.0.5:6380 was closed by the server or something in between: often a proxy or port forward whose Redis is down, otherwise the server's log says why",
  },
  {
    name: 'password-missing',
    failure: 'password-missing',
    connection: { password: undefined, passwordFrom: undefined },
    message: 'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    detail: 'password-missing: the server at 10.0.0.5:6380 requires a password and none is sent',
    hint: "the server at 10.0.0.5:6380 requires a password and none is sent: set REDIS_PASSWORD (or REDIS_PASSWORD_FILE) to the server's password",
    fixSays: ['set REDIS_PASSWORD in .env.production, or REDIS_PASSWORD_FILE to the path of a file', 'CONFIG GET requirepass'],
  },
  {
    name: 'password-wrong, from REDIS_PASSWORD',
    failure: 'password-wrong',
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected the password from REDIS_PASSWORD',
    hint: "the server at 10.0.0.5:6380 rejected the password from REDIS_PASSWORD: set REDIS_PASSWORD to the server's password (its requirepass)",
    fixSays: ['change REDIS_PASSWORD in .env.production', 'CONFIG GET requirepass'],
  },
  {
    name: 'password-wrong, from REDIS_PASSWORD_FILE',
    failure: 'password-wrong',
    connection: { passwordFrom: 'REDIS_PASSWORD_FILE' },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected the password in the file REDIS_PASSWORD_FILE names',
    hint: "the server at 10.0.0.5:6380 rejected the password in the file REDIS_PASSWORD_FILE names: put the server's password (its requirepass) in that file",
    fixSays: ['or point REDIS_PASSWORD_FILE at the file that holds the right password in .env.production'],
  },
  {
    name: 'password-wrong, from REDIS_URL',
    failure: 'password-wrong',
    connection: { passwordFrom: 'REDIS_URL' },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected the password inside REDIS_URL',
    hint: "the server at 10.0.0.5:6380 rejected the password inside REDIS_URL: replace it in REDIS_URL with the server's password (its requirepass), or better remove it from the URL and set REDIS_PASSWORD once",
    fixSays: [
      'to replace it, edit REDIS_URL in .env.production, percent-encoding characters such as @ : / # inside the URL',
      'remove it from REDIS_URL (redis://host:port/db) and set it once in REDIS_PASSWORD in .env.production',
    ],
  },
  {
    name: 'password-wrong, from a named client URL',
    failure: 'password-wrong',
    connection: { name: 'cache', passwordFrom: 'REDIS_CACHE_URL', locatedBy: 'REDIS_CACHE_URL' },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected the password inside REDIS_CACHE_URL',
    hint: "the server at 10.0.0.5:6380 rejected the password inside REDIS_CACHE_URL: replace it in REDIS_CACHE_URL with the server's password (its requirepass), or better remove it from the URL and set REDIS_PASSWORD once",
    fixSays: ['remove it from REDIS_CACHE_URL (redis://host:port/db) and set it once in REDIS_PASSWORD'],
  },
  {
    name: 'password-wrong, from the url option',
    failure: 'password-wrong',
    connection: { passwordFrom: 'url option', locatedBy: 'url option' },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected the password inside the url option',
    hint: "the server at 10.0.0.5:6380 rejected the password inside the url option: replace it in the url option with the server's password (its requirepass), or better remove it from the URL and set REDIS_PASSWORD once",
  },
  {
    name: 'password-wrong, from a clients.<name>.url option',
    failure: 'password-wrong',
    connection: { name: 'cache', passwordFrom: 'clients.cache.url', locatedBy: 'clients.cache.url' },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected the password inside clients.cache.url',
    hint: "the server at 10.0.0.5:6380 rejected the password inside clients.cache.url: replace it in clients.cache.url with the server's password (its requirepass), or better remove it from the URL and set REDIS_PASSWORD once",
  },
  {
    name: 'password-wrong, from the password option',
    failure: 'password-wrong',
    connection: { passwordFrom: 'password option', locatedBy: 'host option' },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected the password from the password option',
    hint: "the server at 10.0.0.5:6380 rejected the password from the password option: set the password option to the server's password (its requirepass)",
  },
  {
    name: 'password-wrong, an ACL user',
    failure: 'password-wrong',
    connection: { username: 'app' },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected ACL user "app" with the password from REDIS_PASSWORD',
    hint: 'the server at 10.0.0.5:6380 rejected ACL user "app" with the password from REDIS_PASSWORD: the user may not exist, be off, or have another password; check it on the server (ACL GETUSER app), and in the app REDIS_USERNAME (or the user in the URL) and the password from REDIS_PASSWORD',
    fixSays: [
      'ACL SETUSER app on ><password> ~* +@all creates or repairs it',
      "in the app, check REDIS_USERNAME (or the user in the URL) in .env.production; for the password from REDIS_PASSWORD, set REDIS_PASSWORD to the user's password",
    ],
  },
  {
    name: 'password-wrong, an ACL user with the password inside the URL',
    failure: 'password-wrong',
    connection: { username: 'app', passwordFrom: 'REDIS_URL' },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected ACL user "app" with the password inside REDIS_URL',
    hint: 'the server at 10.0.0.5:6380 rejected ACL user "app" with the password inside REDIS_URL: the user may not exist, be off, or have another password; check it on the server (ACL GETUSER app), and in the app REDIS_USERNAME (or the user in the URL) and the password inside REDIS_URL',
    fixSays: ["for the password inside REDIS_URL, replace it in REDIS_URL with the user's password, or better remove it from the URL and set REDIS_PASSWORD once"],
  },
  {
    name: 'password-wrong, an ACL user and no password',
    failure: 'password-wrong',
    connection: { username: 'app', password: undefined, passwordFrom: undefined },
    message: 'WRONGPASS invalid username-password pair or user is disabled.',
    detail: 'password-wrong: the server at 10.0.0.5:6380 rejected ACL user "app" with no password',
    hint: 'the server at 10.0.0.5:6380 rejected ACL user "app" with no password: the user may not exist, be off, or have another password; check it on the server (ACL GETUSER app), and in the app REDIS_USERNAME (or the user in the URL) and no password',
    fixSays: ["for no password, set REDIS_PASSWORD to the user's password"],
  },
  {
    name: 'password-not-required, from REDIS_PASSWORD',
    failure: 'password-not-required',
    message: 'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    detail: 'password-not-required: the server at 10.0.0.5:6380 has no password, yet the app sends the password from REDIS_PASSWORD',
    hint: 'the server at 10.0.0.5:6380 has no password, yet the app sends the password from REDIS_PASSWORD: anyone who reaches it can use it; make the server require that password (requirepass), or remove REDIS_PASSWORD if this server is meant to be open',
    fixSays: ['safer: keep the password from REDIS_PASSWORD and make the server require it: CONFIG SET requirepass', 'only if this server is meant to be open (a local development server): remove REDIS_PASSWORD in .env.production'],
  },
  {
    name: 'password-not-required, from the URL',
    failure: 'password-not-required',
    connection: { passwordFrom: 'REDIS_URL' },
    message: 'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    detail: 'password-not-required: the server at 10.0.0.5:6380 has no password, yet the app sends the password inside REDIS_URL',
    hint: 'the server at 10.0.0.5:6380 has no password, yet the app sends the password inside REDIS_URL: anyone who reaches it can use it; make the server require that password (requirepass), or remove the password from REDIS_URL if this server is meant to be open',
    fixSays: ['only if this server is meant to be open (a local development server): remove the password from REDIS_URL in .env.production'],
  },
  {
    name: 'password-not-required, from REDIS_PASSWORD_FILE',
    failure: 'password-not-required',
    connection: { passwordFrom: 'REDIS_PASSWORD_FILE' },
    message: 'ERR Client sent AUTH, but no password is set',
    detail: 'password-not-required: the server at 10.0.0.5:6380 has no password, yet the app sends the password in the file REDIS_PASSWORD_FILE names',
    hint: 'the server at 10.0.0.5:6380 has no password, yet the app sends the password in the file REDIS_PASSWORD_FILE names: anyone who reaches it can use it; make the server require that password (requirepass), or remove REDIS_PASSWORD_FILE if this server is meant to be open',
  },
  {
    name: 'dns, host from the URL',
    failure: 'dns',
    connection: { host: 'redis' },
    message: 'getaddrinfo ENOTFOUND redis',
    detail: 'dns: the host name "redis" does not resolve (getaddrinfo ENOTFOUND redis)',
    hint: 'the host name "redis" does not resolve: check REDIS_URL (a container service name resolves only inside its network; outside it, use 127.0.0.1 and the published port)',
    fixSays: ['resolves only inside its Compose or Kubernetes network'],
  },
  {
    name: 'dns, host from the defaults, port from REDIS_PORT',
    failure: 'dns',
    connection: { host: 'localhost', locatedBy: 'REDIS_PORT' },
    message: 'getaddrinfo EAI_AGAIN localhost',
    detail: 'dns: the host name "localhost" does not resolve (getaddrinfo EAI_AGAIN localhost)',
    hint: 'the host name "localhost" does not resolve: check REDIS_HOST (a container service name resolves only inside its network; outside it, use 127.0.0.1 and the published port)',
  },
  {
    name: 'dns, port from the port option',
    failure: 'dns',
    connection: { host: 'localhost', locatedBy: 'port option' },
    message: 'no answer within 1500 ms',
    detail: 'dns: the host name "localhost" does not resolve (no answer within 1500 ms)',
    hint: 'the host name "localhost" does not resolve: check the host option (a container service name resolves only inside its network; outside it, use 127.0.0.1 and the published port)',
  },
  {
    name: 'tls',
    failure: 'tls',
    connection: { host: 'redis.internal', tls: {} },
    message: 'self-signed certificate in certificate chain',
    detail: 'tls: the TLS handshake with redis.internal:6380 failed (self-signed certificate in certificate chain)',
    hint: 'the TLS handshake with redis.internal:6380 failed: unless that is the server\'s TLS port, turn TLS off (redis:// instead of rediss://, REDIS_TLS unset); on a TLS port, the certificate must match "redis.internal" and be trusted',
    fixSays: ['to turn TLS off in .env.production: redis:// instead of rediss://, REDIS_TLS unset', 'NODE_EXTRA_CA_CERTS=/path/to/ca.pem'],
  },
  {
    name: "out of memory: writes refused, Redis's reply in the step line",
    failure: 'out-of-memory',
    message: "OOM command not allowed when used memory > 'maxmemory'.",
    detail: "out-of-memory: the server at 10.0.0.5:6380 is out of memory under noeviction and refuses writes (OOM command not allowed when used memory > 'maxmemory'.)",
    hint: "the server at 10.0.0.5:6380 is out of memory under noeviction and refuses writes: free memory or raise maxmemory on the server (CONFIG SET maxmemory, and in redis.conf), or give the rate limiter a Redis of its own; until writes succeed, rate limiting counts in memory",
    fixSays: ["CONFIG SET maxmemory"],
  },
  {
    name: "a read-only replica",
    failure: 'read-only',
    message: "READONLY You can't write against a read only replica.",
    detail: "read-only: the server at 10.0.0.5:6380 is a read-only replica (READONLY You can't write against a read only replica.)",
    hint: "the server at 10.0.0.5:6380 is a read-only replica: point the connection at the primary; a replica takes no writes, so rate limiting counts in memory meanwhile",
    fixSays: ["point REDIS_URL in .env.production at it"],
  },
  {
    name: "an ACL user without a permission: the rule that grants it",
    failure: 'no-permission',
    connection: { username: 'limiter' },
    message: "NOPERM this user has no permissions to run the 'evalsha' command",
    detail: "no-permission: ACL user \"limiter\" lacks a permission on 10.0.0.5:6380 (NOPERM this user has no permissions to run the 'evalsha' command)",
    hint: "ACL user \"limiter\" lacks a permission on 10.0.0.5:6380: grant what the error names, on the server: ACL SETUSER limiter ~frr-rate-limit:* +eval +evalsha +incrby +pexpire +pttl +ping covers the rate limiter (with its default key prefix) and health checks",
    fixSays: ["on the server: ACL SETUSER limiter ~frr-rate-limit:* +eval +evalsha +incrby +pexpire +pttl +ping"],
  },
  {
    name: "the default user without a permission",
    failure: 'no-permission',
    message: "NOPERM this user has no permissions to run the 'ping' command",
    detail: "no-permission: the default user lacks a permission on 10.0.0.5:6380 (NOPERM this user has no permissions to run the 'ping' command)",
    hint: "the default user lacks a permission on 10.0.0.5:6380: grant what the error names, on the server: ACL SETUSER default ~frr-rate-limit:* +eval +evalsha +incrby +pexpire +pttl +ping covers the rate limiter (with its default key prefix) and health checks",
    fixSays: ["ACL GETUSER default"],
  },
  {
    name: "writes refused while the server cannot save",
    failure: 'not-persisting',
    message: "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
    detail: "not-persisting: the server at 10.0.0.5:6380 refuses writes because it cannot save to disk (MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.)",
    hint: "the server at 10.0.0.5:6380 refuses writes because it cannot save to disk: the server's log says why its last save failed (disk full, permissions); fix that, or CONFIG SET stop-writes-on-bgsave-error no if losing the snapshot is acceptable",
    fixSays: ["rdb_last_bgsave_status"],
  },
  {
    name: "still loading after a restart",
    failure: 'loading',
    message: "LOADING Redis is loading the dataset in memory",
    detail: "loading: the server at 10.0.0.5:6380 is still loading its dataset (LOADING Redis is loading the dataset in memory)",
    hint: "the server at 10.0.0.5:6380 is still loading its dataset: it answers once the data is in memory, which takes a while for a large dataset after a restart; nothing to change unless it never ends",
    fixSays: ["loading_eta_seconds"],
  },
  {
    name: "blocked by a script",
    failure: 'busy',
    message: "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
    detail: "busy: the server at 10.0.0.5:6380 is blocked by a long-running script or function (BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.)",
    hint: "the server at 10.0.0.5:6380 is blocked by a long-running script or function: wait for the script to end, or stop it (SCRIPT KILL, FUNCTION KILL); while it runs the server answers nobody",
    fixSays: ["SCRIPT KILL"],
  },
  {
    name: 'one server\'s settings at a cluster node: the cluster settings to use instead',
    failure: 'cluster-node',
    message: 'the server answers HELLO with mode "cluster", not "standalone"',
    detail: 'cluster-node: the server at 10.0.0.5:6380 is a Redis Cluster node, reached as one server: it holds only the keys of its own slots and answers MOVED for the others (the server answers HELLO with mode "cluster", not "standalone")',
    hint: 'the server at 10.0.0.5:6380 is a Redis Cluster node, reached as one server: it holds only the keys of its own slots and answers MOVED for the others: use REDIS_CLUSTER_NODES=10.0.0.5:6380 (more nodes after commas), or a redis+cluster:// URL, instead of REDIS_URL',
    fixSays: ['replace REDIS_URL with REDIS_CLUSTER_NODES', 'CLUSTER NODES'],
  },
  {
    name: 'one server\'s settings at a sentinel, located by REDIS_HOST: the sentinel settings to use instead',
    failure: 'sentinel-port',
    connection: { locatedBy: 'REDIS_HOST', port: 26379 },
    message: "ERR unknown command 'get', with args beginning with: 'k' ",
    detail: "sentinel-port: the server at 10.0.0.5:26379 is a Redis Sentinel, reached as one server: it holds no data and knows no data command (ERR unknown command 'get', with args beginning with: 'k' )",
    hint: 'the server at 10.0.0.5:26379 is a Redis Sentinel, reached as one server: it holds no data and knows no data command: use REDIS_SENTINELS=10.0.0.5:26379 (more sentinels after commas) and REDIS_SENTINEL_NAME (the master set it watches), or a redis+sentinel:// URL, instead of REDIS_HOST',
    fixSays: ['replace REDIS_HOST with REDIS_SENTINELS', 'SENTINEL MASTERS', 'REDIS_SENTINEL_PASSWORD'],
  },
  {
    name: 'other: the error is all there is, so the step line shows it',
    failure: 'other',
    message: "ERR unknown command 'frob', with args beginning with: ",
    detail: "other: unexpected error from 10.0.0.5:6380: ERR unknown command 'frob', with args beginning with: ",
    hint: 'unexpected error from 10.0.0.5:6380: the error itself says what went wrong',
    fixSays: ["the error above is what Redis answered; the server's log may say more"],
  },
]

/** Classes mended on the server (or by waiting): their fixes name no app setting to change. */
const SERVER_SIDE: FailureClass[] = ['refused', 'hanging', 'connection-lost', 'out-of-memory', 'no-permission', 'not-persisting', 'loading', 'busy', 'other']

for (const wordsCase of CASES) {
  t.test(wordsCase.name, async (t) => {
    const c = { ...BASE, ...wordsCase.connection }
    const summary = failureSummary(wordsCase.failure, c)
    const detail = failedStepDetail(wordsCase.failure, c, wordsCase.message)
    const hint = failureHint(wordsCase.failure, c)
    const fixes = connectionFixes(wordsCase.failure, c, CTX)
    t.equal(detail, wordsCase.detail, 'the step line')
    t.equal(hint, wordsCase.hint, 'the hint')

    t.ok(detail.startsWith(`${wordsCase.failure}: ${summary}`), 'the step line says what happened…')
    t.ok(hint.startsWith(`${summary}: `), '… and the hint says the same, then what to do…')
    t.equal(fixes[0], hint, '… and the fixes start with the hint')
    t.ok(fixes.length > 1, 'then spell the change out')
    for (const said of wordsCase.fixSays ?? []) t.ok(fixes.slice(1).some((fix) => fix.includes(said)), `a fix says: ${said}`)
    const fixSettings = settings(fixes.join('\n'))
    for (const name of settings(detail)) t.ok(settings(hint).includes(name), `the hint names ${name}, as the step line does`)
    if (!SERVER_SIDE.includes(wordsCase.failure)) {
      t.ok(fixes.slice(1).some((fix) => fix.includes(CTX.where)), 'a fix says where to make the change')
    }
    t.ok(fixSettings.length >= settings(hint).length, 'the fixes name every setting the hint names')

    for (const text of [detail, hint, ...fixes]) {
      for (const never of NEVER) t.notMatch(text, never, `never: ${never.source}`)
    }
    if (wordsCase.failure.startsWith('password-')) t.notMatch(detail, AUTH_WORDS, "Redis's reply stays out of the step line (the JSON keeps it)")
    else t.ok(detail.includes(wordsCase.message), 'the error as received stays in the step line')
  })
}

t.test('every class is covered above', async (t) => {
  t.same([...new Set(CASES.map((c) => c.failure))].sort(), [...FAILURE_CLASSES].sort())
})
