// The packed tarball, installed into a fresh app with fastify 5, works from
// ESM, from CommonJS and from TypeScript exactly as the public contract says,
// and ships nothing but the build and the docs.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './helpers/redis-server.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

const dir = mkdtempSync(join(tmpdir(), 'frr-consumer-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function run (command: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(command, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

t.before(() => {
  // --ignore-scripts: dist is built by `npm test` before the suite runs.
  const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>
  const tarball = packed[0]
  if (tarball === undefined) throw new Error('npm pack produced nothing')
  writeFileSync(join(dir, 'files.json'), JSON.stringify(tarball.files.map((f) => f.path)))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball.filename), 'fastify@5', '@types/node@20', '@fastify/redis@9'])
})

t.test('the tarball holds the build and the docs only', async (t) => {
  const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as string[]
  // The library in ESM and CJS with declarations; the bin in ESM only (package.json `bin`), without any.
  t.same(files.filter((f) => f.startsWith('dist/')).sort(), [
    'dist/cli.js', 'dist/cli.js.map',
    'dist/index.cjs', 'dist/index.cjs.map', 'dist/index.d.cts', 'dist/index.d.ts', 'dist/index.js', 'dist/index.js.map',
  ], 'no dist/cli.cjs, cli.d.ts or cli.d.cts; a map for each script that ships, and for nothing else')
  t.ok(files.includes('README.md') && files.includes('CHANGELOG.md') && files.includes('package.json'))
  t.same(files.filter((f) => !/^(dist\/|README\.md$|CHANGELOG\.md$|LICENSE$|package\.json$)/.test(f)), [], 'no tests, sources or configs')
})

const SCRIPT = (load: string) => `
${load}
const app = Fastify()
app.register(plugin, { env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: process.env.PORT } })
app.get('/redis', async () => app.redis.get('k'))
app.ready().then(async () => {
  const res = await app.inject('/redis')
  const health = await app.redisHealth()
  console.log(JSON.stringify({
    sameExport: plugin === named,
    decorated: typeof app.redis.get === 'function',
    status: res.statusCode,
    retryAfter: res.headers['retry-after'],
    health: health.status,
    errorCode: new errors.RedisUnavailableError().code,
  }))
  await app.close()
})
`

t.test('CommonJS: require() gives the plugin as default and as resilientRedis', async (t) => {
  writeFileSync(join(dir, 'app.cjs'), SCRIPT(`
const Fastify = require('fastify')
const errors = require('fastify-resilient-redis')
const plugin = errors.default
const named = errors.resilientRedis`))
  const out = JSON.parse(run(process.execPath, ['app.cjs'], { PORT: String(await freePort()) }))
  t.same(out, { sameExport: true, decorated: true, status: 503, retryAfter: '1', health: 'down', errorCode: 'FRR_ERR_REDIS_UNAVAILABLE' })
})

t.test('ESM: default import and named import', async (t) => {
  writeFileSync(join(dir, 'app.mjs'), SCRIPT(`
import Fastify from 'fastify'
import plugin, { resilientRedis as named } from 'fastify-resilient-redis'
import * as errors from 'fastify-resilient-redis'`))
  const out = JSON.parse(run(process.execPath, ['app.mjs'], { PORT: String(await freePort()) }))
  t.same(out, { sameExport: true, decorated: true, status: 503, retryAfter: '1', health: 'down', errorCode: 'FRR_ERR_REDIS_UNAVAILABLE' })
})

t.test('TypeScript: the types of the contract, and what they reject', async (t) => {
  writeFileSync(join(dir, 'app.ts'), `
import Fastify from 'fastify'
import resilientRedis, { type RedisHealthReport } from 'fastify-resilient-redis'
import type { FastifyRedis } from '@fastify/redis'

const app = Fastify()
await app.register(resilientRedis, { env: process.env, clients: { cache: { db: 1 } }, healthRoute: '/health', requirePassword: false })
const value: string | null = await app.redis.get('k')
const cached: string | null | undefined = await app.redis.cache?.get('k')
// Code written for @fastify/redis takes our decorator unchanged.
const asFastifyRedis: FastifyRedis = app.redis
const report: RedisHealthReport = await app.redisHealth()
const status: 'up' | 'degraded' | 'down' = report.status
console.log(value, cached, asFastifyRedis, status)

// @ts-expect-error: healthRoute is a path or false
await app.register(resilientRedis, { healthRoute: 42 })
// @ts-expect-error: port is a number
await app.register(resilientRedis, { port: '6379' })
// @ts-expect-error: a client takes url and db only
await app.register(resilientRedis, { clients: { cache: { host: 'x' } } })
// @ts-expect-error: redisHealth takes no arguments
await app.redisHealth('default')
`)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'] },
    files: ['app.ts'],
  }))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  let output = ''
  try {
    output = run(process.execPath, [tsc, '-p', '.'])
  } catch (error) {
    output = String((error as { stdout?: string }).stdout)
  }
  t.equal(output, '', 'the consumer type-checks, and every @ts-expect-error is an error')
  t.ok(readdirSync(dir).includes('node_modules'))
})
