// The packed tarball, installed into a fresh app with only fastify 5 (and
// @types/node, which fastify's and ioredis's own types need), works from ESM,
// from CommonJS and from strict TypeScript exactly as the public contract says,
// and ships nothing but the build and the docs.
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './helpers/redis-server.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CONSUMERS = fileURLToPath(new URL('fixtures/consumer/', import.meta.url))
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

// An install, three strict type-checks of fastify's, ioredis's and Node's own
// declarations (about 10 s of CPU each) and attw: a minute on an idle machine,
// several on a busy one, so this file gets more than the suite's 120 s.
t.setTimeout(600_000)

const dir = mkdtempSync(join(tmpdir(), 'frr-consumer-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let tarballPath = ''

function run (command: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(command, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 })
}

t.before(() => {
  // --ignore-scripts: dist is built by `npm test` before the suite runs.
  const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>
  const tarball = packed[0]
  if (tarball === undefined) throw new Error('npm pack produced nothing')
  tarballPath = join(dir, tarball.filename)
  writeFileSync(join(dir, 'files.json'), JSON.stringify(tarball.files.map((f) => f.path)))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  // Not @fastify/redis: the published types must stand without it.
  run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarballPath, 'fastify@5', '@types/node@20'])
})

t.test('the tarball holds the build and the docs only', async (t) => {
  const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as string[]
  // The library in ESM and CJS with declarations; the bin in ESM only (package.json `bin`), without any.
  t.same(files.filter((f) => f.startsWith('dist/')).sort(), [
    'dist/cli.js', 'dist/cli.js.map',
    'dist/index.cjs', 'dist/index.cjs.map', 'dist/index.d.cts', 'dist/index.d.ts', 'dist/index.js', 'dist/index.js.map',
  ], 'no dist/cli.cjs, cli.d.ts or cli.d.cts; a map for each script that ships, and for nothing else')
  t.ok(files.includes('README.md') && files.includes('CHANGELOG.md') && files.includes('package.json'))
  // What README links to (through unpkg: see test/readme.test.ts).
  t.ok(files.includes('BENCHMARKS.md') && files.includes('examples/docs-app/docs-screenshot.png'))
  const docs = /^(README\.md|CHANGELOG\.md|BENCHMARKS\.md|LICENSE|package\.json|examples\/docs-app\/docs-screenshot\.png)$/
  t.same(files.filter((f) => !f.startsWith('dist/') && !docs.test(f)), [], 'no tests, sources or configs')
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

interface TscError { file: string; line: number; code: string }

/** Each `// @ts-expect-error TS<code>` line of `source`: the line after it must fail with that code. */
function markedMisuses (file: string, source: string): TscError[] {
  return source.split('\n').flatMap((text, index) => {
    const code = /^\s*\/\/ @ts-expect-error (TS\d+) /.exec(text)?.[1]
    return code === undefined ? [] : [{ file, line: index + 2, code }]
  })
}

function tscErrors (output: string): TscError[] {
  return [...output.matchAll(/^(\S+?)\((\d+),\d+\): error (TS\d+):/gm)].map((m) => ({ file: m[1] as string, line: Number(m[2]), code: m[3] as string }))
}

/**
 * Runs a Node script; resolves to its exit code and stdout. Not niced: on a machine whose cores are
 * busy, a niced tsc starved past its time limit (and came back with no output at all).
 */
function nodeChild (args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      // Killed at its time limit: say so, instead of comparing an empty output.
      if (error !== null && error.killed) reject(new Error(`${args.join(' ')} did not finish within 240 s`))
      else resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout })
    })
  })
}

async function tsc (project: string): Promise<string> {
  return (await nodeChild([TSC, '-p', project, '--pretty', 'false'])).stdout
}

t.test('TypeScript: strict consumers (skipLibCheck false) in nodenext ESM, nodenext CJS (.cts) and bundler resolution', async (t) => {
  t.notOk(existsSync(join(dir, 'node_modules', '@fastify', 'redis')), '@fastify/redis is not installed')
  // test/fixtures/consumer/<setup>/: a tsconfig and an app file whose misuses are marked `@ts-expect-error TS<code>`.
  cpSync(CONSUMERS, dir, { recursive: true })
  // One after the other: the suite's timing-sensitive tests may be running beside this one.
  for (const setup of ['esm', 'cjs', 'bundler']) {
    const app = readdirSync(join(dir, setup)).find((file) => file.startsWith('app.')) as string
    const source = readFileSync(join(dir, setup, app), 'utf8')
    // The same file with the directives disarmed, in the same program: each misuse must fail, with its code.
    const misuse = `misuse${extname(app)}`
    writeFileSync(join(dir, setup, misuse), source.replaceAll('// @ts-expect-error', '// (disarmed) @ts-expect-error'))
    const expected = markedMisuses(`${setup}/${misuse}`, source)
    const errors = tscErrors(await tsc(setup))
    t.ok(expected.length >= 3, `${setup}: ${expected.length} marked misuses`)
    const order = (a: TscError, b: TscError): number => a.file.localeCompare(b.file) || a.line - b.line
    t.same(errors.sort(order), expected.sort(order),
      `${setup}: no error in the app file (every @ts-expect-error used) or in any declaration file; disarmed, each misuse fails with its code`)
  }
})

t.test('attw (Are the types wrong?): no problem in node10, node16 CJS and ESM, bundler', async (t) => {
  // The tarball packed above, not `attw --pack .`: that runs prepack, which rebuilds dist/ under the running suite.
  const require = createRequire(import.meta.url)
  const cliPackage = require.resolve('@arethetypeswrong/cli/package.json')
  const bin = (require(cliPackage) as { bin: Record<string, string> }).bin.attw as string
  const { code, stdout } = await nodeChild([join(cliPackage, '..', bin), tarballPath, '--format', 'json'])
  const out = JSON.parse(stdout) as {
    analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> }
  }
  t.same(out.analysis.problems, [], 'no problems')
  t.equal(code, 0, 'attw exits 0')
  const resolved = Object.fromEntries(Object.entries(out.analysis.entrypoints['.']?.resolutions ?? {}).map(([kind, r]) => [kind, r.resolution?.fileName]))
  t.same(resolved, {
    node10: '/node_modules/fastify-resilient-redis/dist/index.d.ts',
    'node16-cjs': '/node_modules/fastify-resilient-redis/dist/index.d.cts',
    'node16-esm': '/node_modules/fastify-resilient-redis/dist/index.d.ts',
    bundler: '/node_modules/fastify-resilient-redis/dist/index.d.ts',
  })
})
