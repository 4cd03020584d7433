// A configuration that fails registration must not carry a password anywhere
// reachable from the error: message, stack, own properties, the cause chain,
// util.inspect (what Node prints for a crash), JSON.stringify, and Fastify's
// pino logger. Same for what `check` prints about it.
import Fastify from 'fastify'
import { inspect } from 'node:util'
import t from 'tap'
import { runCli } from '../src/cli/run-cli.js'
import { resolveConfig } from '../src/config/index.js'
import { resilientRedis } from '../src/index.js'
import { captureLogs } from './helpers/app.js'
import { holdsSecret, SECRET_CASES, type SecretCase } from './helpers/secret-cases.js'

/** Registers the plugin with the case's options; returns the error the boot fails with. */
async function bootError (options: SecretCase['options']): Promise<unknown> {
  const app = Fastify()
  try {
    await app.register(resilientRedis, options)
    await app.ready()
  } catch (error) {
    return error
  } finally {
    await app.close().catch(() => {})
  }
  return undefined
}

/** Every string reachable from a value: own properties (enumerable or not), recursively. */
function reachableStrings (value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value]
  if (typeof value !== 'object' || value === null || seen.has(value)) return value === undefined || value === null ? [] : [String(value)]
  seen.add(value)
  const out: string[] = []
  for (const key of Reflect.ownKeys(value)) {
    out.push(String(key))
    const descriptor = Object.getOwnPropertyDescriptor(value, key)
    out.push(...reachableStrings(descriptor?.get === undefined ? descriptor?.value : descriptor.get.call(value), seen))
  }
  return out
}

/** What a pino logger (Fastify's, with its error serializer) writes for the error. */
function pinoLines (error: unknown): string {
  const logs = captureLogs()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  app.log.error({ err: error }, 'boot failed')
  app.log.error(error)
  app.log.fatal({ error }, 'boot failed')
  return logs.logText()
}

for (const secretCase of SECRET_CASES) {
  t.test(secretCase.name, async (t) => {
    const error = await bootError(secretCase.options)
    t.ok(error instanceof Error, 'registration fails')
    t.match((error as { code?: unknown }).code, /^FRR_ERR_/, 'with a coded error')
    const seen: Record<string, string> = {
      message: (error as Error).message,
      stack: String((error as Error).stack),
      'util.inspect': inspect(error, { depth: Infinity, showHidden: true }),
      'JSON.stringify': JSON.stringify(error),
      'own properties and the cause chain': reachableStrings(error).join('\n'),
      'pino (Fastify logger)': pinoLines(error),
    }
    for (const [where, text] of Object.entries(seen)) t.notOk(holdsSecret(text), `no password in ${where}`)
  })
}

t.test('check prints no password for any of these environments', async (t) => {
  for (const { name, options } of SECRET_CASES) {
    // The command reads only the environment (REDIS_CACHE_URL makes the cache client).
    if (Object.keys(options).some((key) => key !== 'env' && key !== 'clients') || (options.clients !== undefined && options.env.REDIS_CACHE_URL === undefined)) continue
    for (const argv of [['check', '--fix-auth'], ['check', '--json']]) {
      let output = ''
      const code = await runCli(argv, { env: options.env, stdout: (s) => { output += s }, stderr: (s) => { output += s } })
      t.equal(code, 2, `${name}: a configuration error`)
      t.notOk(holdsSecret(output), `${name} (${argv.join(' ')}): no password in the output`)
    }
  }
})

t.test('REDIS_PASSWORD_FILE without a directory is not shown: it may be the password itself', async (t) => {
  const err = t.throws(() => resolveConfig({ env: { REDIS_PASSWORD_FILE: 'hunter2' } }), { code: 'FRR_ERR_PASSWORD_FILE' })
  t.equal((err as Error).message, 'REDIS_PASSWORD_FILE (not shown: a name without a directory, which may be the password itself) cannot be read (ENOENT); point it at a readable file that holds only the password')
  const path = t.throws(() => resolveConfig({ env: { REDIS_PASSWORD_FILE: '/nonexistent/redis-password' } }), { code: 'FRR_ERR_PASSWORD_FILE' })
  t.match((path as Error).message, /^REDIS_PASSWORD_FILE \(\/nonexistent\/redis-password\) cannot be read \(ENOENT\)/, 'a path is shown')
})

t.test('a value that holds a configured password is not shown; other bad values are', async (t) => {
  const hidden = t.throws(() => resolveConfig({ env: { REDIS_PASSWORD: 'hunter2', REDIS_DB: 'hunter2' } }), { code: 'FRR_ERR_INVALID_SETTING' })
  t.equal((hidden as Error).message, 'REDIS_DB must be a whole number from 0 (got a value that holds a configured password, not shown); set it to a database index such as 0 (Redis has databases 0–15 unless configured otherwise)')
  const shown = t.throws(() => resolveConfig({ env: { REDIS_PASSWORD: 'hunter2', REDIS_DB: 'one' } }), { code: 'FRR_ERR_INVALID_SETTING' })
  t.match((shown as Error).message, /^REDIS_DB must be a whole number from 0 \(got "one"\)/)
  const option = t.throws(() => resolveConfig({ db: 'hunter2' as unknown as number, clients: { cache: { url: 'redis://:hunter2@h' } } }), { code: 'FRR_ERR_INVALID_SETTING' })
  t.match((option as Error).message, /^db option must be a whole number from 0 \(got a value that holds a configured password, not shown\)/, 'a password from a client URL option')
  const odd = t.throws(() => resolveConfig({ clients: 'x' as unknown as Record<string, never>, port: 'hunter2' as unknown as number, password: 'hunter2' }), { code: 'FRR_ERR_INVALID_SETTING' })
  t.match((odd as Error).message, /^clients option must be an object/, 'clients of the wrong type do not stop the collection of secrets')
})
