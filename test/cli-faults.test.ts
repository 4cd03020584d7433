// `check` against servers that hang, proxies that stall or drop, and TLS
// problems: each failure is named, and every run ends on its own.
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../src/cli/run-cli.js'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'

const SECRET = 'Fault-Secret-v3$Lm'
const SECRETS = [SECRET, encodeURIComponent(SECRET)]
/**
 * A step is bounded at 1.5 s, so a run with a hanging server takes about that. The bug this
 * catches is a step that is not bounded (waiting until the server answers: here, never), so the
 * bound is far above it: no busy machine reaches it.
 */
const BOUND_MS = 30_000
/** The auth step's bound, which a hanging server uses up: timers never fire early. */
const STEP_MS = 1500
const TLS_DIR = join(import.meta.dirname, 'fixtures', 'tls')

t.teardown(stopAllRedis)
const tlsPort = await freePort()
const [healthy, paused] = await Promise.all([
  startRedis({ password: SECRET }),
  startRedis({ password: SECRET }),
  startRedis({
    password: SECRET,
    extraArgs: ['--tls-port', String(tlsPort), '--tls-cert-file', join(TLS_DIR, 'server.pem'), '--tls-key-file', join(TLS_DIR, 'server-key.pem'),
      '--tls-ca-cert-file', join(TLS_DIR, 'ca.pem'), '--tls-auth-clients', 'no'],
  }),
])

const at = (port: number): string => `redis://127.0.0.1:${port}`

interface Run { code: number; stdout: string; stderr: string; ms: number }
type Asserts = Pick<typeof t, 'notOk'>

/** runCli in-process, timed; every run also proves no secret reached the output. */
async function run (t: Asserts, argv: string[], env: Record<string, string | undefined>): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const started = Date.now()
  const code = await runCli(argv, { env, stdout: (s) => { stdout += s }, stderr: (s) => { stderr += s } })
  for (const secret of SECRETS) t.notOk((stdout + stderr).includes(secret), 'no password in the output')
  return { code, stdout, stderr, ms: Date.now() - started }
}

interface JsonReport { ok: boolean; connections: Array<{ name: string; ok: boolean; failure: { step: string; class: string; message: string } | null; steps: Array<{ name: string; status: string; ms: number }> }> }

t.test('a hanging server (SIGSTOP): the auth step times out, the run ends within seconds', async (t) => {
  paused.pause()
  t.teardown(() => paused.resume())
  const text = await run(t, ['check', '--fix-auth'], { REDIS_URL: at(paused.port), REDIS_PASSWORD: SECRET })
  t.equal(text.code, 1)
  t.ok(text.ms < BOUND_MS, `took ${text.ms} ms`)
  t.match(text.stdout, /✔ tcp        connected to 127\.0\.0\.1:\d+\n/, 'the kernel still accepts the connection')
  t.match(text.stdout, `✘ auth       hanging: 127.0.0.1:${paused.port} accepts connections but does not answer in time (no answer within 1500 ms)\n`)
  t.match(text.stdout, `• 127.0.0.1:${paused.port} accepts connections but does not answer in time: check that Redis is not stopped or overloaded and that nothing on the network drops the traffic\n`)
  t.match(text.stdout, '• stopped: SIGSTOP, a debugger, a paused container (docker ps, docker unpause); overloaded: redis-cli --latency, SLOWLOG GET, a long-running script (each step here waited 1500 ms)')

  const json = await run(t, ['check', '--json'], { REDIS_URL: at(paused.port), REDIS_PASSWORD: SECRET })
  t.equal(json.code, 1)
  t.ok(json.ms < BOUND_MS, `took ${json.ms} ms`)
  const [c] = (JSON.parse(json.stdout) as JsonReport).connections
  t.match(c?.failure, { step: 'auth', class: 'hanging', message: 'no answer within 1500 ms' })
  t.ok((c?.steps.find((s) => s.name === 'auth')?.ms ?? 0) >= 1400, 'the auth step waited its bound')
})

t.test('a stalled proxy in front of named clients; all connections are checked at the same time', async (t) => {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: healthy.port })
  t.teardown(() => proxy.close())
  proxy.stall()
  const hanging = ['REDIS_BROKER_URL', 'REDIS_CACHE_URL', 'REDIS_JOBS_URL', 'REDIS_QUEUE_URL', 'REDIS_SESSION_STORE_URL']
  const { code, stdout, ms } = await run(t, ['check'], {
    REDIS_URL: at(healthy.port), REDIS_PASSWORD: SECRET,
    ...Object.fromEntries(hanging.map((name) => [name, at(proxy.port)])),
  })
  t.equal(code, 1)
  // One after the other, the hanging clients cannot take less than one step bound each (7.5 s);
  // at the same time they take about one (1.5 s). The bound sits just below the first: a busy
  // machine would have to add 5.5 s to a 1.5 s run to fail it.
  const sequential = hanging.length * STEP_MS
  t.ok(ms < sequential - 500, `connections checked in parallel (took ${ms} ms; one after the other takes at least ${sequential} ms)`)
  t.match(stdout, 'checking 6 connections')
  t.match(stdout, `✔ default  redis://:***@127.0.0.1:${healthy.port}/0\n`)
  t.match(stdout, `✘ cache  redis://:***@127.0.0.1:${proxy.port}/0\n  located by REDIS_CACHE_URL, password from REDIS_PASSWORD\n`)
  t.match(stdout, `✘ sessionStore  redis://:***@127.0.0.1:${proxy.port}/0\n  located by REDIS_SESSION_STORE_URL`)
  t.match(stdout, `  hint: 127.0.0.1:${proxy.port} accepts connections but does not answer in time: check that Redis is not stopped or overloaded`)
  t.match(stdout, /\n✘ 5 of 6 failed: broker \(hanging\), cache \(hanging\), jobs \(hanging\), queue \(hanging\), sessionStore \(hanging\)\n$/)
})

t.test('a proxy whose Redis is down: accepted, then closed', async (t) => {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: await freePort() })
  t.teardown(() => proxy.close())
  const { code, stdout } = await run(t, ['check', '--fix-auth'], { REDIS_URL: at(proxy.port), REDIS_PASSWORD: SECRET })
  t.equal(code, 1)
  t.match(stdout, /✔ tcp        connected to/)
  t.match(stdout, `✘ auth       connection-lost: the connection to 127.0.0.1:${proxy.port} was closed by the server or something in between (Connection is closed.)\n`)
  t.match(stdout, `• the connection to 127.0.0.1:${proxy.port} was closed by the server or something in between: often a proxy or port forward whose Redis is down, otherwise the server's log says why`)
  t.match(stdout, '• a proxy or port forward: docker-proxy, kubectl port-forward, an SSH tunnel, a load balancer')
})

t.test('TLS on, but the port speaks plain Redis: the handshake gets no answer', async (t) => {
  const { code, stdout, ms } = await run(t, ['check', '--fix-auth'], { REDIS_URL: at(healthy.port), REDIS_PASSWORD: SECRET, REDIS_TLS: 'true' })
  t.equal(code, 1)
  t.ok(ms < BOUND_MS, `took ${ms} ms`)
  t.match(stdout, `✘ default  rediss://:***@127.0.0.1:${healthy.port}/0\n`)
  t.match(stdout, `✘ tls        tls: the TLS handshake with 127.0.0.1:${healthy.port} failed (no answer within 1500 ms)\n`)
  t.match(stdout, '- auth       not run: tls failed\n')
  t.match(stdout, `• the TLS handshake with 127.0.0.1:${healthy.port} failed: unless that is the server's TLS port, turn TLS off (redis:// instead of rediss://, REDIS_TLS unset); on a TLS port, the certificate must match "127.0.0.1" and be trusted`)
  t.match(stdout, "• to turn TLS off where the app's environment is defined (.env file, Compose environment:, Kubernetes Secret): redis:// instead of rediss://, REDIS_TLS unset")
  t.match(stdout, '• on a TLS port, a certificate from a private CA is trusted with NODE_EXTRA_CA_CERTS=/path/to/ca.pem')
})

t.test('a TLS port whose certificate this process does not trust', async (t) => {
  const { code, stdout } = await run(t, ['check'], { REDIS_URL: `rediss://localhost:${tlsPort}`, REDIS_PASSWORD: SECRET })
  t.equal(code, 1)
  // Fails at once: on the certificate, not after the step's bound ("no answer within 1500 ms").
  t.match(stdout, new RegExp(`✘ tls        tls: the TLS handshake with localhost:${tlsPort} failed \\(.*certificate.*\\)\n`))
  t.notMatch(stdout, 'no answer within')
  t.match(stdout, `hint: the TLS handshake with localhost:${tlsPort} failed`)
})
