// TLS against a real redis-server with a TLS port and the test certificate in
// test/fixtures/tls: it connects with the CA, and a certificate or protocol
// mismatch is a classified failure the app boots through.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { BOOT_BOUND_MS, buildApp, EVENTUALLY_MS, waitFor } from './helpers/app.js'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'

const SECRET = 'S3cret-Pa55word!'
const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/tls/${name}`, import.meta.url))
const ca = readFileSync(fixture('ca.pem'))
t.teardown(stopAllRedis)

const tlsPort = await freePort()
const server = await startRedis({
  password: SECRET,
  extraArgs: ['--tls-port', String(tlsPort), '--tls-cert-file', fixture('server.pem'), '--tls-key-file', fixture('server-key.pem'),
    '--tls-ca-cert-file', fixture('ca.pem'), '--tls-auth-clients', 'no'],
})

t.test('rediss:// with the CA: connected, authenticated, served', async (t) => {
  const test = await buildApp({ env: { REDIS_URL: `rediss://127.0.0.1:${tlsPort}`, REDIS_PASSWORD: SECRET }, tls: { ca } })
  t.teardown(() => test.app.close())
  t.equal((await test.app.inject('/redis')).statusCode, 200)
  const health = await test.app.redisHealth()
  t.equal(health.status, 'up')
  t.equal(health.clients.default?.url, `rediss://:***@127.0.0.1:${tlsPort}/0`)
})

t.test('an untrusted certificate: boots degraded, failure "tls"', async (t) => {
  const test = await buildApp({ env: { REDIS_URL: `rediss://127.0.0.1:${tlsPort}`, REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  t.equal((await test.app.inject('/redis')).statusCode, 503)
  t.equal((await test.app.redisHealth()).clients.default?.failure, 'tls')
  t.match(test.connectionLogs()[0]?.msg, /TLS handshake/)
  t.notOk(test.logText().includes(SECRET))
})

t.test('TLS on, but the port speaks plain Redis: boots after the bound, the hint names TLS', async (t) => {
  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${server.port}`, REDIS_TLS: 'true', REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  t.ok(test.bootMs < BOOT_BOUND_MS, `boot waited connectWait at most, not for the handshake (${Math.round(test.bootMs)} ms)`)
  t.equal((await test.app.inject('/redis')).statusCode, 503)
  t.ok(await waitFor(async () => (await test.app.redisHealth()).clients.default?.failure === 'hanging', EVENTUALLY_MS), 'classified as hanging')
  t.match((await test.app.redisHealth()).clients.default?.hint, /and that this port speaks TLS \(TLS is on\)$/)
})

t.test('TLS off, but the port speaks TLS: boots degraded, 503', async (t) => {
  const test = await buildApp({ env: { REDIS_URL: `redis://127.0.0.1:${tlsPort}`, REDIS_PASSWORD: SECRET } })
  t.teardown(() => test.app.close())
  t.ok(test.bootMs < BOOT_BOUND_MS, `boot did not wait on Redis (${Math.round(test.bootMs)} ms)`)
  t.equal((await test.app.inject('/redis')).statusCode, 503)
  const health = await test.app.redisHealth()
  t.not(health.status, 'up')
  // The TLS port resets a plain-text connection.
  t.equal(health.clients.default?.failure, 'connection-lost')
  t.match(health.clients.default?.hint, /if that port expects TLS, use rediss:\/\/ or REDIS_TLS=true/)
})
