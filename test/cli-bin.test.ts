// The real bin, end to end in child processes: the built `dist/cli.js` (run
// `npm run build` first) and the TypeScript entry `src/cli/main.ts`.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'

const ROOT = join(import.meta.dirname, '..')
const BIN = join(ROOT, 'dist', 'cli.js')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const TLS_DIR = join(import.meta.dirname, 'fixtures', 'tls')
const SECRET = 'Bin-Secret-Zq8!w'
const SECRETS = [SECRET, encodeURIComponent(SECRET)]

t.teardown(stopAllRedis)
const tlsPort = await freePort()
const [server, paused] = await Promise.all([
  startRedis({
    password: SECRET,
    extraArgs: ['--tls-port', String(tlsPort), '--tls-cert-file', join(TLS_DIR, 'server.pem'), '--tls-key-file', join(TLS_DIR, 'server-key.pem'),
      '--tls-ca-cert-file', join(TLS_DIR, 'ca.pem'), '--tls-auth-clients', 'no'],
  }),
  startRedis({ password: SECRET }),
])
const dead = await freePort()

/** The test process's environment without any Redis settings of its own. */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REDIS_') && key !== 'NODE_ENV'))

interface Exit { code: number | null; stdout: string; stderr: string; ms: number }

/** Runs node with `args`; a child still running after 60 s is killed (and the test fails on its exit code). */
function node (args: string[], env: Record<string, string>): Promise<Exit> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(killer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })
}

type Asserts = Pick<typeof t, 'notOk'>

const noSecret = (t: Asserts, exit: Exit): void => {
  for (const secret of SECRETS) t.notOk((exit.stdout + exit.stderr).includes(secret), 'no password in the output')
}

t.test('dist/cli.js', async (t) => {
  if (!existsSync(BIN)) {
    t.fail(`${BIN} is missing: run npm run build first`)
    return
  }

  t.test('a healthy default and a failing named client, with --fix-auth', async (t) => {
    const exit = await node([BIN, 'check', '--fix-auth'], {
      REDIS_URL: `redis://127.0.0.1:${server.port}`, REDIS_PASSWORD: SECRET, REDIS_CACHE_URL: `redis://127.0.0.1:${dead}`,
    })
    noSecret(t, exit)
    t.equal(exit.code, 1)
    t.equal(exit.stderr, '')
    t.match(exit.stdout, `✔ default  redis://:***@127.0.0.1:${server.port}/0\n  located by REDIS_URL, password from REDIS_PASSWORD\n`)
    t.match(exit.stdout, /  ✔ ping       PONG in [\d.]+ ms\n/)
    t.match(exit.stdout, `✘ cache  redis://:***@127.0.0.1:${dead}/0\n`)
    t.match(exit.stdout, `  ✘ tcp        refused: nothing accepts connections at 127.0.0.1:${dead} (connect ECONNREFUSED 127.0.0.1:${dead})\n`)
    t.match(exit.stdout, `    • nothing accepts connections at 127.0.0.1:${dead}: start Redis there`)
    t.match(exit.stdout, /\n✘ 1 of 2 failed: cache \(refused\)\n$/)
  })

  t.test('--json, healthy: exit 0 and one JSON document', async (t) => {
    const exit = await node([BIN, 'check', '--json'], { REDIS_URL: `redis://:${encodeURIComponent(SECRET)}@127.0.0.1:${server.port}/3` })
    noSecret(t, exit)
    t.equal(exit.code, 0)
    t.match(JSON.parse(exit.stdout), { ok: true, error: null, connections: [{ name: 'default', url: `redis://:***@127.0.0.1:${server.port}/3`, passwordFrom: 'REDIS_URL', ok: true }] })
  })

  t.test('a hanging server: the process ends on its own within seconds', async (t) => {
    paused.pause()
    t.teardown(() => paused.resume())
    const exit = await node([BIN, 'check'], { REDIS_URL: `redis://127.0.0.1:${paused.port}`, REDIS_PASSWORD: SECRET })
    noSecret(t, exit)
    // On its own: a process that does not end is killed (exit code null, not 1); how soon is not the point.
    t.equal(exit.code, 1, `exited after ${exit.ms} ms`)
    t.match(exit.stdout, /✘ auth       hanging: 127\.0\.0\.1:\d+ accepts connections but does not answer in time \(no answer within 1500 ms\)/)
  })

  t.test('a missing --env-file: a failure naming the file, before any connection', async (t) => {
    const missing = join(ROOT, 'no-such-dir', 'app.env')
    const exit = await node([BIN, 'check', '--env-file', missing], { REDIS_URL: `redis://127.0.0.1:${dead}` })
    // Node itself scans script arguments for --env-file (nodejs/node#54232) and may exit 9
    // ("node: PATH: not found") before the CLI runs; where it does not, the CLI exits 2.
    t.ok(exit.code === 2 || exit.code === 9, `exit code ${exit.code}`)
    t.equal(exit.stdout, '')
    t.match(exit.stderr, missing)
  })

  t.test('bad configuration: exit 2, the error on stderr', async (t) => {
    const exit = await node([BIN, 'check'], { REDIS_URL: `redis://:other@127.0.0.1:${server.port}`, REDIS_PASSWORD: SECRET })
    noSecret(t, exit)
    t.equal(exit.code, 2)
    t.equal(exit.stdout, '')
    t.equal(exit.stderr, 'error FRR_ERR_CONFLICTING_SETTINGS: REDIS_URL and REDIS_PASSWORD disagree; keep the password only in REDIS_PASSWORD and remove it from REDIS_URL (redis://host:port/db, or redis://user@host:port/db for an ACL user)\n(run with --fix-auth for the exact change)\n')
  })
})

t.test('src/cli/main.ts, with the test loader', async (t) => {
  // process.execArgv carries the TypeScript loader (and coverage) of this test process.
  const ts = (args: string[], env: Record<string, string>): Promise<Exit> => node([...process.execArgv, MAIN, ...args], env)
  const [tlsOk, usage] = await Promise.all([
    // A certificate from a private CA, trusted through NODE_EXTRA_CA_CERTS as the docs advise.
    ts(['check'], { REDIS_URL: `rediss://localhost:${tlsPort}`, REDIS_PASSWORD: SECRET, NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.pem') }),
    ts(['check', '--bogus'], {}),
  ])
  noSecret(t, tlsOk)
  t.equal(tlsOk.code, 0, tlsOk.stderr)
  t.match(tlsOk.stdout, `✔ default  rediss://:***@localhost:${tlsPort}/0\n`)
  t.match(tlsOk.stdout, /  ✔ tls        TLSv1\.[23] handshake, certificate verified\n/)
  t.match(tlsOk.stdout, '  ✔ auth       authenticated as the default user (password from REDIS_PASSWORD)\n')

  t.equal(usage.code, 2)
  t.equal(usage.stdout, '')
  t.match(usage.stderr, /^error: Unknown option '--bogus'\nRun "fastify-resilient-redis --help" for usage\.\n$/)
})
