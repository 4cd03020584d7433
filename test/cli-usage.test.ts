// The check command without any Redis: argument parsing, --help/--version,
// --env-file errors, configuration errors (exit 2), and the pure helpers.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { parseCliArgs, USAGE } from '../src/cli/args.js'
import { loadEnv } from '../src/cli/env.js'
import { envSecrets } from '../src/redact.js'
import { configErrorFixes, fixLocation } from '../src/cli/fixes.js'
import { describePolicy, describeServer, infoField, serverRole } from '../src/cli/redis-facts.js'
import { runCli } from '../src/cli/run-cli.js'
import { StepTimeoutError, withTimeout } from '../src/cli/timeout.js'
import { packageVersion } from '../src/cli/version.js'

const URL_SECRET = 'url-Secret-4711'
const ENV_SECRET = 'env-Secret-0815'
const SECRETS = [URL_SECRET, ENV_SECRET, encodeURIComponent(URL_SECRET)]
const ROOT = join(import.meta.dirname, '..')
const { version: VERSION } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

const scratch = mkdtempSync(join(tmpdir(), 'frr-cli-usage-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

interface Run { code: number; stdout: string; stderr: string }
type Asserts = Pick<typeof t, 'notOk'>

/** runCli in-process; every run also proves no secret reached the output. */
async function run (t: Asserts, argv: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, { env, stdout: (s) => { stdout += s }, stderr: (s) => { stderr += s } })
  for (const secret of SECRETS) t.notOk((stdout + stderr).includes(secret), 'no password in the output')
  return { code, stdout, stderr }
}

t.test('--help, -h and check --help print the usage on stdout', async (t) => {
  for (const argv of [['--help'], ['-h'], ['check', '--help']]) {
    const { code, stdout, stderr } = await run(t, argv)
    t.equal(code, 0)
    t.equal(stdout, USAGE)
    t.equal(stderr, '')
  }
  t.match(USAGE, /check \[--fix-auth\] \[--json\] \[--env-file PATH\]/)
})

t.test('--version and -v print the package version', async (t) => {
  for (const argv of [['--version'], ['-v']]) {
    const { code, stdout } = await run(t, argv)
    t.equal(code, 0)
    t.equal(stdout, `${VERSION}\n`)
  }
})

t.test('packageVersion finds package.json one or two levels up, else says unknown', async (t) => {
  t.equal(packageVersion(), VERSION, 'from src/cli (two levels)')
  t.equal(packageVersion(pathToFileURL(join(ROOT, 'dist', 'cli.js')).href), VERSION, 'from dist (one level)')
  // a/b/x.js: a/package.json is another package, a/../package.json does not exist.
  mkdirSync(join(scratch, 'v', 'a', 'b'), { recursive: true })
  writeFileSync(join(scratch, 'v', 'a', 'package.json'), JSON.stringify({ name: 'other', version: '9.9.9' }))
  t.equal(packageVersion(pathToFileURL(join(scratch, 'v', 'a', 'b', 'x.js')).href), 'unknown')
  writeFileSync(join(scratch, 'v', 'a', 'package.json'), JSON.stringify({ name: 'fastify-resilient-redis' }))
  t.equal(packageVersion(pathToFileURL(join(scratch, 'v', 'a', 'b', 'y.js')).href), 'unknown', 'no version field')
})

t.test('bad usage exits 2 with a message on stderr and nothing on stdout', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /missing command/],
    [['status'], /unknown command: the only command is "check"/],
    [['check', '--bogus'], /error: Unknown option '--bogus'\n/],
    [['check', '-x'], /Unknown option '-x'/],
    [['check', '--json=yes'], /Option '--json' does not take an argument/],
    [['check', '--env-file'], /Option '--env-file <value>' argument missing/],
    [['check', '--env-file='], /--env-file needs a path/],
    [['check', '--env-file', join(scratch, 'missing.env')], /cannot read --env-file .*missing\.env \(ENOENT\)/],
    [['check', '--env-file', scratch], /cannot read --env-file .* \(EISDIR\)/],
    // A stray argument is often a URL: it must not be echoed.
    [['check', `redis://:${URL_SECRET}@example.com`], /check takes no arguments \(got 1\)/],
    [[`redis://:${URL_SECRET}@example.com`], /unknown command/],
    [['check', `--password=${URL_SECRET}`], /Unknown option '--password'/],
  ]
  for (const [argv, message] of cases) {
    const { code, stdout, stderr } = await run(t, argv)
    t.equal(code, 2, argv.join(' '))
    t.equal(stdout, '')
    t.match(stderr, message)
    t.match(stderr, /Run "fastify-resilient-redis --help" for usage/)
  }
})

t.test('parseCliArgs reads every flag; --env-file may repeat', async (t) => {
  // Not given: undefined, so that check applies the plugin's default.
  const nameSpace = undefined
  t.same(parseCliArgs(['check']), { kind: 'check', fixAuth: false, json: false, envFiles: [], nameSpace })
  t.same(parseCliArgs(['check', '--fix-auth', '--json', '--env-file', 'a.env', '--env-file=b.env']),
    { kind: 'check', fixAuth: true, json: true, envFiles: ['a.env', 'b.env'], nameSpace })
  t.same(parseCliArgs(['--json', 'check']), { kind: 'check', fixAuth: false, json: true, envFiles: [], nameSpace })
  t.same(parseCliArgs(['check', '--rate-limit-namespace', 'api:rl:']), { kind: 'check', fixAuth: false, json: false, envFiles: [], nameSpace: 'api:rl:' })
  t.throws(() => parseCliArgs(['check', '--rate-limit-namespace=']), { name: 'UsageError', message: '--rate-limit-namespace needs a prefix (leave it out for frr-rate-limit:)' })
})

t.test('loadEnv layers env files over the environment, in order', async (t) => {
  const a = join(scratch, 'a.env')
  const b = join(scratch, 'b.env')
  writeFileSync(a, '# comment\nREDIS_HOST=from-a\nREDIS_PORT=1111\nexport REDIS_DB=2\n')
  writeFileSync(b, 'REDIS_PORT="2222"\n')
  t.same(loadEnv({ REDIS_HOST: 'from-env', OTHER: 'x' }, [a, b]), { REDIS_HOST: 'from-a', OTHER: 'x', REDIS_PORT: '2222', REDIS_DB: '2' })
  t.same(loadEnv({ A: '1' }, []), { A: '1' })
})

t.test('envSecrets collects REDIS_PASSWORD and URL passwords, as written and decoded', async (t) => {
  t.same(envSecrets({
    REDIS_PASSWORD: 'p1',
    REDIS_URL: 'redis://user:p%202@h:1/0',
    REDIS_CACHE_URL: 'rediss://:p3@h',
    REDIS_SESSION_STORE_URL: 'redis://h:1', // no password
    REDIS_QUEUE_URL: 'redis://user:@h', // empty password
    REDIS_BAD_URL: 'redis://:%E0%A4%A@h', // not valid percent-encoding
    REDIS_EMPTY_URL: '',
    REDIS_HOST: 'not-a-secret',
    OTHER_URL: 'redis://:not-ours@h',
    UNSET: undefined,
  }), ['p1', 'p%202', 'p 2', 'p3', '%E0%A4%A'])
})

t.test('configuration errors exit 2 and name settings, never values', async (t) => {
  const conflict = { REDIS_URL: `redis://:${encodeURIComponent(URL_SECRET)}@127.0.0.1:1`, REDIS_PASSWORD: ENV_SECRET }

  t.test('URL password and REDIS_PASSWORD disagree: a hint without --fix-auth', async (t) => {
    const { code, stdout, stderr } = await run(t, ['check'], conflict)
    t.equal(code, 2)
    t.equal(stdout, '')
    t.match(stderr, /^error FRR_ERR_CONFLICTING_SETTINGS: REDIS_URL and REDIS_PASSWORD disagree/)
    t.match(stderr, /\(run with --fix-auth for the exact change\)\n$/)
  })

  t.test('… and the fix with --fix-auth, naming the env file it came from', async (t) => {
    const file = join(scratch, 'conflict.env')
    writeFileSync(file, `REDIS_PASSWORD=${ENV_SECRET}\n`)
    const { code, stdout, stderr } = await run(t, ['check', '--fix-auth', '--env-file', file], { REDIS_URL: conflict.REDIS_URL })
    t.equal(code, 2)
    t.equal(stdout, '')
    t.match(stderr, /^error FRR_ERR_CONFLICTING_SETTINGS: REDIS_URL and REDIS_PASSWORD disagree.*\nfix:\n/)
    t.match(stderr, `  • keep the password only in REDIS_PASSWORD and remove it from REDIS_URL (redis://host:port/db, or redis://user@host:port/db for an ACL user) in ${file}\n`)
    t.match(stderr, '  • if the URL held the right password, put that value in REDIS_PASSWORD first\n')
  })

  t.test('… and inside the JSON document with --json', async (t) => {
    const { code, stdout, stderr } = await run(t, ['check', '--json'], conflict)
    t.equal(code, 2)
    t.equal(stderr, '')
    const report = JSON.parse(stdout) as Record<string, unknown>
    t.same(report, {
      ok: false,
      version: VERSION,
      connections: [],
      error: {
        code: 'FRR_ERR_CONFLICTING_SETTINGS',
        message: 'REDIS_URL and REDIS_PASSWORD disagree; keep the password only in REDIS_PASSWORD and remove it from REDIS_URL (redis://host:port/db, or redis://user@host:port/db for an ACL user)',
        fixes: [
          `keep the password only in REDIS_PASSWORD and remove it from REDIS_URL (redis://host:port/db, or redis://user@host:port/db for an ACL user) ${fixLocation([])}`,
          'if the URL held the right password, put that value in REDIS_PASSWORD first',
        ],
      },
    })
  })

  t.test('a named client URL against REDIS_PASSWORD_FILE', async (t) => {
    const file = join(scratch, 'pw')
    writeFileSync(file, `${ENV_SECRET}\n`)
    const { code, stderr } = await run(t, ['check', '--fix-auth'], { REDIS_CACHE_URL: conflict.REDIS_URL, REDIS_PASSWORD_FILE: file })
    t.equal(code, 2)
    t.match(stderr, /REDIS_CACHE_URL and REDIS_PASSWORD_FILE disagree/)
    t.match(stderr, /• keep the password only in REDIS_PASSWORD_FILE and remove it from REDIS_CACHE_URL /)
  })

  t.test('REDIS_PASSWORD and REDIS_PASSWORD_FILE both set', async (t) => {
    const { code, stderr } = await run(t, ['check', '--fix-auth'], { REDIS_PASSWORD: ENV_SECRET, REDIS_PASSWORD_FILE: '/run/secrets/redis' })
    t.equal(code, 2)
    t.match(stderr, /^error FRR_ERR_CONFLICTING_SETTINGS: REDIS_PASSWORD and REDIS_PASSWORD_FILE disagree/)
    t.match(stderr, /• set only one of REDIS_PASSWORD and REDIS_PASSWORD_FILE: REDIS_PASSWORD_FILE when the password is mounted as a file .*, REDIS_PASSWORD otherwise where/)
  })

  t.test('a conflict that is not about the password', async (t) => {
    const { code, stderr } = await run(t, ['check', '--fix-auth'], { REDIS_URL: 'redis://127.0.0.1:1', REDIS_HOST: 'elsewhere' })
    t.equal(code, 2)
    t.match(stderr, /REDIS_URL and REDIS_HOST disagree/)
    t.match(stderr, /• REDIS_URL already sets the host: remove REDIS_HOST, or make it match the host in REDIS_URL /)
  })

  t.test('a bad port: the message is the fix, no --fix-auth note', async (t) => {
    const { code, stdout, stderr } = await run(t, ['check'], { REDIS_HOST: '127.0.0.1', REDIS_PORT: '70000' })
    t.equal(code, 2)
    t.equal(stdout, '')
    t.equal(stderr, 'error FRR_ERR_INVALID_SETTING: REDIS_PORT must be a whole number from 1 to 65535 (got "70000"); set it to the port Redis listens on, usually 6379\n')
  })

  t.test('a URL that is not a redis:// URL, with a password in it', async (t) => {
    const { code, stderr } = await run(t, ['check', '--fix-auth'], { REDIS_URL: `http://:${URL_SECRET}@example.com` })
    t.equal(code, 2)
    t.match(stderr, /^error FRR_ERR_INVALID_SETTING: REDIS_URL must start with redis:\/\/ or rediss:\/\//)
  })

  t.test('a password file that cannot be read', async (t) => {
    const { code, stderr } = await run(t, ['check'], { REDIS_PASSWORD_FILE: join(scratch, 'nope') })
    t.equal(code, 2)
    t.match(stderr, /^error FRR_ERR_PASSWORD_FILE: REDIS_PASSWORD_FILE \(.*nope\) cannot be read \(ENOENT\)/)
  })

  t.test('NODE_ENV=production without a password', async (t) => {
    const { code, stdout, stderr } = await run(t, ['check', '--json'], { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:1' })
    t.equal(code, 2)
    t.equal(stderr, '')
    t.match(JSON.parse(stdout), { ok: false, connections: [], error: { code: 'FRR_ERR_PASSWORD_REQUIRED', fixes: [] } })
  })

  t.test('a client name that would hide a Redis method', async (t) => {
    const { code, stderr } = await run(t, ['check'], { REDIS_GET_URL: 'redis://127.0.0.1:1' })
    t.equal(code, 2)
    t.match(stderr, /^error FRR_ERR_INVALID_SETTING: clients\.get would hide app\.redis\.get/)
  })
})

t.test('configErrorFixes has nothing to add to other errors', async (t) => {
  t.same(configErrorFixes('FRR_ERR_INVALID_SETTING', 'REDIS_PORT must be …', { where: 'x', stepMs: 1, nameSpace: 'frr-rate-limit:' }), [])
})

t.test('describePolicy says what each eviction policy does to rate-limit counters', async (t) => {
  t.match(describePolicy('noeviction'), { status: 'ok', detail: /^noeviction: nothing is evicted; when memory is full, writes fail and the rate limiter falls back/ })
  for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random']) {
    t.match(describePolicy(policy), { status: 'warn', detail: new RegExp(`^${policy}: when memory is full any key may be evicted, rate-limit counters included, so limits can reset early`) })
  }
  for (const policy of ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
    t.match(describePolicy(policy), { status: 'warn', detail: new RegExp(`^${policy}: when memory is full keys with a TTL are evicted, and rate-limit counters always have one`) })
  }
  t.match(describePolicy('future-policy'), { status: 'warn', detail: /^future-policy: not a policy this check knows/ })
  t.match(describePolicy(undefined), { status: 'warn', detail: /^unknown: CONFIG GET and INFO are not available here/ })
})

t.test('INFO parsing', async (t) => {
  const info = '# Server\r\nredis_version:7.2.4\r\nredis_mode:standalone\r\n\r\n# Replication\r\nrole:slave\r\n'
  t.equal(infoField(info, 'redis_version'), '7.2.4')
  t.equal(infoField(info, 'redis'), undefined, 'whole field names only')
  t.equal(serverRole(info), 'replica')
  t.equal(serverRole('role:master\n'), 'master')
  t.equal(serverRole(''), undefined)
  t.same(describeServer('7.2.4', 'master'), { status: 'ok', detail: 'Redis 7.2.4, role master' })
  t.match(describeServer('7.2.4', 'replica'), { status: 'warn', detail: /^Redis 7\.2\.4, role replica: read-only, so rate-limit counters cannot be written here/ })
  t.same(describeServer(undefined, undefined), { status: 'ok', detail: 'Redis of unknown version, role unknown' })
})

t.test('withTimeout settles like the work, or rejects with a hanging-class error', async (t) => {
  t.equal(await withTimeout(Promise.resolve(1), 50), 1)
  await t.rejects(withTimeout(Promise.reject(new Error('boom')), 50), /boom/)
  const never = new Promise<never>(() => {})
  // Settles at all (a promise that never does), by its own timeout: that is the point, not how soon.
  await t.rejects(withTimeout(never, 30), { name: 'StepTimeoutError', code: 'ETIMEDOUT', message: 'no answer within 30 ms' })
  t.ok(new StepTimeoutError(5) instanceof Error)
})
