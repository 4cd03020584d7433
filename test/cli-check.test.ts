// `check` against real redis-server processes: healthy servers, every
// authentication problem, ACL users, what the server says about itself,
// refused and unresolvable servers, named clients, --json and --env-file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../src/cli/run-cli.js'
import { STEP_NAMES } from '../src/cli/types.js'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'Cli-Secret-k9#Qz' // a '#' so it must be percent-encoded in URLs
const USER_SECRET = 'Acl-Secret-7Yp'
const WRONG = 'Wrong-Secret-1Xv'
const SECRETS = [SECRET, USER_SECRET, WRONG, encodeURIComponent(SECRET)]

t.teardown(stopAllRedis)
const scratch = mkdtempSync(join(tmpdir(), 'frr-cli-check-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

const [locked, open, renamed] = await Promise.all([
  startRedis({ password: SECRET }),
  startRedis(),
  // CONFIG renamed away, as many hosted Redis do; an eviction policy that drops counters.
  startRedis({ extraArgs: ['--rename-command', 'CONFIG', '', '--maxmemory-policy', 'allkeys-lru'] }),
])
const replica = await startRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(open.port)] })
// ACL users: one that works, and ones missing a permission the check uses.
for (const [user, rules] of [['app', []], ['noinfo', ['-info', '-config']], ['noconfig', ['-config']], ['noping', ['-ping']]] as const) {
  const reply = await locked.command('ACL', 'SETUSER', user, 'on', `>${USER_SECRET}`, '~*', '&*', '+@all', ...rules)
  if (reply !== '+OK') throw new Error(`ACL SETUSER ${user}: ${reply}`)
}

const at = (port: number, auth = ''): string => `redis://${auth}127.0.0.1:${port}`

interface Run { code: number; stdout: string; stderr: string }
type Asserts = Pick<typeof t, 'notOk'>

/** runCli in-process; every run also proves no secret reached the output. */
async function run (t: Asserts, argv: string[], env: Record<string, string | undefined>): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, { env, stdout: (s) => { stdout += s }, stderr: (s) => { stderr += s } })
  for (const secret of SECRETS) t.notOk((stdout + stderr).includes(secret), 'no password in the output')
  return { code, stdout, stderr }
}

/** The block of one connection in the text output, from its header to the blank line after it. */
const section = (stdout: string, name: string): string =>
  stdout.split('\n\n').find((block) => /^[✔✘] /.test(block) && block.slice(2).startsWith(`${name}  `)) ?? ''

/** The text line of one step (of the first connection shown), e.g. '✘ auth       password-missing: …'. */
const step = (stdout: string, name: string): string | undefined =>
  stdout.split('\n').find((line) => line.startsWith(`  `) && line.slice(4, 15).trim() === name)?.trim()

t.test('healthy: exit 0, one line per step, version, role and policy', async (t) => {
  const { code, stdout, stderr } = await run(t, ['check'], { REDIS_HOST: 'localhost', REDIS_PORT: String(locked.port), REDIS_PASSWORD: SECRET })
  t.equal(code, 0)
  t.equal(stderr, '')
  t.match(stdout, /^fastify-resilient-redis \d+\.\d+\.\d+\S*: checking 1 connection\n\n/)
  t.match(stdout, `✔ default  redis://:***@localhost:${locked.port}/0\n  located by REDIS_HOST, password from REDIS_PASSWORD\n`)
  t.match(step(stdout, 'dns'), /^✔ dns        localhost → \S+/)
  t.match(step(stdout, 'tcp'), /^✔ tcp        connected to \S+:\d+$/)
  t.equal(step(stdout, 'tls'), '- tls        not configured (redis://, REDIS_TLS unset)')
  t.equal(step(stdout, 'auth'), '✔ auth       authenticated as the default user (password from REDIS_PASSWORD)')
  t.match(step(stdout, 'ping'), /^✔ ping       PONG in [\d.]+ ms$/)
  t.match(step(stdout, 'server'), /^✔ server     Redis 7\.\d+\.\d+, role master$/)
  t.match(step(stdout, 'policy'), /^✔ policy     noeviction: nothing is evicted; when memory is full, writes fail and the rate limiter falls back/)
  t.match(stdout, /\n✔ every connection works \(1\)\n$/)
})

t.test('--json: exactly one document with connections, steps, facts and fixes', async (t) => {
  const { code, stdout, stderr } = await run(t, ['check', '--json'], {
    REDIS_URL: at(locked.port), REDIS_PASSWORD: SECRET, REDIS_CACHE_URL: at(open.port, 'cacheuser@'),
  })
  t.equal(code, 1)
  t.equal(stderr, '')
  const report = JSON.parse(stdout) as {
    ok: boolean; version: string; error: unknown
    connections: Array<{ name: string; ok: boolean; steps: Array<{ name: string; status: string; ms: number; detail: string }>; [key: string]: unknown }>
  }
  t.equal(report.ok, false)
  t.equal(report.error, null)
  t.same(report.connections.map((c) => [c.name, c.ok]), [['default', true], ['cache', false]])
  const [main, cache] = report.connections
  t.match(main, {
    url: `redis://:***@127.0.0.1:${locked.port}/0`, locatedBy: 'REDIS_URL', passwordSet: true, passwordFrom: 'REDIS_PASSWORD', username: null,
    failure: null, fixes: [], server: { version: /^7\./, role: 'master', maxmemoryPolicy: 'noeviction' },
  })
  for (const c of report.connections) {
    t.same(c.steps.map((s) => s.name), STEP_NAMES)
    for (const s of c.steps) {
      t.same(Object.keys(s), ['name', 'status', 'ms', 'detail'])
      t.type(s.ms, 'number')
    }
  }
  t.same(main?.steps.map((s) => s.status), ['skipped', 'ok', 'skipped', 'ok', 'ok', 'ok', 'ok', 'ok'])
  // The ACL user of REDIS_CACHE_URL does not exist on a server without users: rejected.
  t.match(cache, {
    url: `redis://cacheuser:***@127.0.0.1:${open.port}/0`, locatedBy: 'REDIS_CACHE_URL', passwordFrom: 'REDIS_PASSWORD', username: 'cacheuser',
    failure: { step: 'auth', class: 'password-wrong', message: /^WRONGPASS/, hint: /rejected ACL user "cacheuser" with the password from REDIS_PASSWORD/ },
    fixes: [/ACL user "cacheuser"/, /ACL GETUSER cacheuser/, /check REDIS_USERNAME/],
    server: {},
  })
  t.same(cache?.steps.map((s) => s.status), ['skipped', 'ok', 'skipped', 'fail', 'skipped', 'skipped', 'skipped', 'skipped'])
})

t.test('a named client (REDIS_CACHE_URL) on a server without a password, while the default is fine', async (t) => {
  const env = { REDIS_URL: at(locked.port), REDIS_PASSWORD: SECRET, REDIS_CACHE_URL: at(open.port) }
  const hinted = await run(t, ['check'], env)
  t.equal(hinted.code, 1)
  t.match(hinted.stdout, 'checking 2 connections')
  t.match(hinted.stdout, `✔ default  redis://:***@127.0.0.1:${locked.port}/0\n`)
  t.match(hinted.stdout, `✘ cache  redis://:***@127.0.0.1:${open.port}/0\n  located by REDIS_CACHE_URL, password from REDIS_PASSWORD\n`)
  t.match(step(section(hinted.stdout, 'default'), 'auth'), /^✔ auth       authenticated as the default user/)
  t.equal(step(section(hinted.stdout, 'cache'), 'auth'), `✘ auth       password-not-required: the server at 127.0.0.1:${open.port} has no password, yet the app sends the password from REDIS_PASSWORD`)
  t.match(hinted.stdout, `  hint: the server at 127.0.0.1:${open.port} has no password, yet the app sends the password from REDIS_PASSWORD: anyone who reaches it can use it; make the server require that password (requirepass), or remove REDIS_PASSWORD if this server is meant to be open\n        (run with --fix-auth for the exact change)\n`)
  t.match(hinted.stdout, /\n✘ 1 of 2 failed: cache \(password-not-required\)\n$/)

  const fixed = await run(t, ['check', '--fix-auth'], env)
  t.equal(fixed.code, 1)
  t.notMatch(fixed.stdout, /hint:|--fix-auth/)
  t.match(fixed.stdout, `  fix:\n    • the server at 127.0.0.1:${open.port} has no password, yet the app sends the password from REDIS_PASSWORD: anyone who reaches it can use it;`)
  t.match(fixed.stdout, '    • safer: keep the password from REDIS_PASSWORD and make the server require it: CONFIG SET requirepass')
  t.match(fixed.stdout, '    • only if this server is meant to be open (a local development server): remove REDIS_PASSWORD where the app\'s environment is defined')
})

t.test('password missing', async (t) => {
  const { code, stdout } = await run(t, ['check', '--fix-auth'], { REDIS_URL: at(locked.port) })
  t.equal(code, 1)
  t.match(stdout, '  located by REDIS_URL, no password set\n')
  t.equal(step(stdout, 'auth'), `✘ auth       password-missing: the server at 127.0.0.1:${locked.port} requires a password and none is sent`)
  for (const later of ['ping', 'server', 'policy']) t.equal(step(stdout, later), `- ${later.padEnd(10)} not run: auth failed`)
  t.match(stdout, `• the server at 127.0.0.1:${locked.port} requires a password and none is sent: set REDIS_PASSWORD (or REDIS_PASSWORD_FILE) to the server's password\n`)
  t.match(stdout, /• set REDIS_PASSWORD where the app's environment is defined .*, or REDIS_PASSWORD_FILE to the path of a file that holds only the password/)
})

t.test('password wrong, from REDIS_PASSWORD', async (t) => {
  const { code, stdout } = await run(t, ['check', '--fix-auth'], { REDIS_URL: at(locked.port), REDIS_PASSWORD: WRONG })
  t.equal(code, 1)
  t.equal(step(stdout, 'auth'), `✘ auth       password-wrong: the server at 127.0.0.1:${locked.port} rejected the password from REDIS_PASSWORD`)
  t.match(stdout, `• the server at 127.0.0.1:${locked.port} rejected the password from REDIS_PASSWORD: set REDIS_PASSWORD to the server's password (its requirepass)\n`)
  t.notMatch(stdout, /keep the password out of the URL/)
})

t.test('password wrong, inside the URL: replace it there, or better move it to REDIS_PASSWORD', async (t) => {
  const { code, stdout } = await run(t, ['check', '--fix-auth'], { REDIS_URL: at(locked.port, `:${WRONG}@`) })
  t.equal(code, 1)
  t.match(stdout, '  located by REDIS_URL, password from REDIS_URL\n')
  t.equal(step(stdout, 'auth'), `✘ auth       password-wrong: the server at 127.0.0.1:${locked.port} rejected the password inside REDIS_URL`)
  t.match(stdout, `• the server at 127.0.0.1:${locked.port} rejected the password inside REDIS_URL: replace it in REDIS_URL with the server's password (its requirepass), or better remove it from the URL and set REDIS_PASSWORD once\n`)
  t.match(stdout, '• to replace it, edit REDIS_URL where the app')
  t.match(stdout, '• better, keep the password out of the URL: remove it from REDIS_URL (redis://host:port/db) and set it once in REDIS_PASSWORD')
  t.notMatch(stdout, /set REDIS_URL to/)

  const hinted = await run(t, ['check'], { REDIS_URL: at(locked.port, `:${WRONG}@`) })
  t.match(hinted.stdout, "  hint: the server at 127.0.0.1:")
  t.match(hinted.stdout, "rejected the password inside REDIS_URL: replace it in REDIS_URL with the server's password (its requirepass), or better remove it from the URL and set REDIS_PASSWORD once\n")

  const json = await run(t, ['check', '--json'], { REDIS_URL: at(locked.port, `:${WRONG}@`) })
  const [c] = (JSON.parse(json.stdout) as { connections: Array<{ failure: { message: string } }> }).connections
  t.match(c?.failure.message, /^WRONGPASS invalid username-password pair/, "the JSON keeps Redis's reply as received")
})

t.test('no password on either side: works, with a warning', async (t) => {
  const { code, stdout } = await run(t, ['check'], { REDIS_URL: at(open.port) })
  t.equal(code, 0)
  t.equal(step(stdout, 'auth'), '! auth       no password set: the server lets in anyone who can reach it')
  t.match(stdout, '✔ every connection works (1)')
})

t.test('ACL users', async (t) => {
  const user = (name: string, password = USER_SECRET): Record<string, string> =>
    ({ REDIS_URL: at(locked.port), REDIS_USERNAME: name, REDIS_PASSWORD: password })

  t.test('a working user', async (t) => {
    const { code, stdout } = await run(t, ['check'], user('app'))
    t.equal(code, 0)
    t.match(stdout, '  located by REDIS_URL, password from REDIS_PASSWORD, ACL user "app"\n')
    t.equal(step(stdout, 'auth'), '✔ auth       authenticated as ACL user "app" (password from REDIS_PASSWORD)')
  })

  t.test('the user may not run CONFIG: the policy comes from INFO', async (t) => {
    const { code, stdout } = await run(t, ['check', '--json'], user('noconfig'))
    t.equal(code, 0)
    const [c] = (JSON.parse(stdout) as { connections: Array<{ server: unknown; steps: Array<{ name: string; detail: string }> }> }).connections
    t.match(c?.server, { version: /^7\./, role: 'master', maxmemoryPolicy: 'noeviction' })
    t.match(c?.steps.find((s) => s.name === 'policy')?.detail, /^noeviction:/)
  })

  t.test('the user may run neither INFO nor CONFIG: warnings, still exit 0', async (t) => {
    const { code, stdout } = await run(t, ['check'], user('noinfo'))
    t.equal(code, 0)
    t.match(step(stdout, 'server'), /^! server     INFO failed: NOPERM .*; version and role unknown$/)
    t.match(step(stdout, 'policy'), /^! policy     unknown: CONFIG GET and INFO are not available here/)
  })

  t.test('the user may not PING: the ping step fails', async (t) => {
    const { code, stdout } = await run(t, ['check', '--fix-auth'], user('noping'))
    t.equal(code, 1)
    t.match(step(stdout, 'ping'), /^✘ ping       no-permission: ACL user "noping" lacks a permission on 127\.0\.0\.1:\d+ \(NOPERM this user has no permissions to run the 'ping' command\)$/)
    t.match(stdout, '• on the server: ACL SETUSER noping ~frr-rate-limit:* +eval +evalsha +incrby +pexpire +pttl +ping (it adds to what the user has; ACL SAVE or the ACL file keeps it)')
  })

  t.test('a wrong password for the user', async (t) => {
    const { code, stdout } = await run(t, ['check', '--fix-auth'], user('app', WRONG))
    t.equal(code, 1)
    t.equal(step(stdout, 'auth'), `✘ auth       password-wrong: the server at 127.0.0.1:${locked.port} rejected ACL user "app" with the password from REDIS_PASSWORD`)
    t.match(stdout, `• the server at 127.0.0.1:${locked.port} rejected ACL user "app" with the password from REDIS_PASSWORD: the user may not exist, be off, or have another password;`)
    t.match(stdout, '• on the server, ACL GETUSER app shows the user; ACL SETUSER app on ><password> ~* +@all creates or repairs it')
    t.match(stdout, "• in the app, check REDIS_USERNAME (or the user in the URL) where the app's environment is defined")
  })

  t.test('a user that does not exist', async (t) => {
    const { code, stdout } = await run(t, ['check'], user('ghost'))
    t.equal(code, 1)
    t.match(step(stdout, 'auth'), /^✘ auth       password-wrong: the server at 127\.0\.0\.1:\d+ rejected ACL user "ghost" with the password from REDIS_PASSWORD$/)
    t.match(stdout, 'hint: the server at 127.0.0.1:')
    t.match(stdout, 'rejected ACL user "ghost" with the password from REDIS_PASSWORD: the user may not exist')
  })
})

t.test('CONFIG renamed away: the policy comes from INFO, and allkeys-lru is a warning', async (t) => {
  const { code, stdout } = await run(t, ['check'], { REDIS_URL: at(renamed.port) })
  t.equal(code, 0)
  t.match(step(stdout, 'policy'), /^! policy     allkeys-lru: when memory is full any key may be evicted, rate-limit counters included/)
})

t.test('a replica: read-only, a warning, and the limiter step fails', async (t) => {
  const { code, stdout } = await run(t, ['check'], { REDIS_URL: at(replica.port) })
  t.equal(code, 1, 'the rate limiter cannot count there')
  t.match(step(stdout, 'limiter'), /^✘ limiter    read-only: the server at 127\.0\.0\.1:\d+ is a read-only replica \(READONLY You can't write against a read only replica\.\)$/)
  t.match(step(stdout, 'server'), /^! server     Redis 7\.\d+\.\d+, role replica: read-only, so rate-limit counters cannot be written here/)
})

t.test('refused: nothing listens on the port', async (t) => {
  const port = await freePort()
  const hinted = await run(t, ['check'], { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) })
  t.equal(hinted.code, 1)
  t.equal(step(hinted.stdout, 'tcp'), `✘ tcp        refused: nothing accepts connections at 127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`)
  t.match(hinted.stdout, `hint: nothing accepts connections at 127.0.0.1:${port}`)
  const fixed = await run(t, ['check', '--fix-auth'], { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) })
  t.match(fixed.stdout, `• nothing accepts connections at 127.0.0.1:${port}: start Redis there, or correct the host and port (they come from REDIS_HOST)`)
  t.match(fixed.stdout, '• a Redis in Docker Compose or Kubernetes is reached by its service name (e.g. redis:6379) from inside that network, and at 127.0.0.1 with the published port from outside it')
})

t.test('a host name that does not resolve', async (t) => {
  const { code, stdout } = await run(t, ['check', '--fix-auth'], { REDIS_URL: `redis://:${encodeURIComponent(SECRET)}@nonexistent.invalid:${locked.port}` })
  t.equal(code, 1)
  t.match(step(stdout, 'dns'), /^✘ dns        dns: the host name "nonexistent\.invalid" does not resolve \(getaddrinfo \w+ nonexistent\.invalid\)$/)
  for (const later of ['tcp', 'tls', 'auth', 'ping', 'server', 'policy']) t.equal(step(stdout, later), `- ${later.padEnd(10)} not run: dns failed`)
  t.match(stdout, '• the host name "nonexistent.invalid" does not resolve: check REDIS_URL (')
  t.match(stdout, '• a container service name such as "redis" resolves only inside its Compose or Kubernetes network: from outside it use 127.0.0.1')
})

t.test('--env-file: variables from the file, layered over the environment', async (t) => {
  const file = join(scratch, 'app.env')
  writeFileSync(file, `# the app's settings\nREDIS_URL=${at(locked.port)}\nREDIS_PASSWORD="${SECRET}"\n`)
  const good = await run(t, ['check', '--env-file', file], { REDIS_PASSWORD: WRONG })
  t.equal(good.code, 0, 'the file wins over the environment')
  t.match(good.stdout, 'password from REDIS_PASSWORD')

  const wrong = join(scratch, 'wrong.env')
  writeFileSync(wrong, `REDIS_URL=${at(locked.port)}\nREDIS_PASSWORD=${WRONG}\n`)
  const bad = await run(t, ['check', '--fix-auth', `--env-file=${wrong}`], {})
  t.equal(bad.code, 1)
  t.match(bad.stdout, `• change REDIS_PASSWORD in ${wrong}\n`)
})
