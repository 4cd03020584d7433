// Whole-process behaviour, in child processes running the built package by its
// public name, as an app would: ioredis never prints "Unhandled error event",
// and closing the app leaves nothing that keeps the process alive, whatever
// state Redis is in.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SECRET = 'S3cret-Pa55word!'
// The close itself is bounded by the command timeout (500 ms). The bug this catches is a process
// held open by a timer or a connection, which never exits (runApp kills it at 60 s): the bound
// only needs to be below that, far above what a busy machine adds.
const EXIT_BOUND_MS = 15_000

t.teardown(stopAllRedis)

const APP = `
import Fastify from 'fastify'
import resilientRedis from 'fastify-resilient-redis'
const app = Fastify({ logger: true })
await app.register(resilientRedis, { env: JSON.parse(process.env.APP_ENV) })
app.get('/redis', async () => app.redis.get('k'))
await app.ready()
await new Promise((resolve) => setTimeout(resolve, Number(process.env.SERVE_MS)))
const res = await app.inject('/redis')
console.log('STATUS ' + res.statusCode)
await app.close()
console.log('CLOSED ' + Date.now())
`

interface Run { code: number | null; stdout: string; stderr: string; exitedAt: number }

function runApp (env: Record<string, string>, serveMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', APP], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', APP_ENV: JSON.stringify(env), SERVE_MS: String(serveMs) },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const killer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the app did not exit: ${stdout}\n${stderr}`)) }, 60_000)
    child.on('exit', (code) => { clearTimeout(killer); resolve({ code, stdout, stderr, exitedAt: Date.now() }) })
  })
}

function closedAt (run: Run): number {
  return Number(/CLOSED (\d+)/.exec(run.stdout)?.[1])
}

t.test('refused for a while: no ioredis noise, exits after close', async (t) => {
  const port = await freePort()
  const run = await runApp({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port), REDIS_PASSWORD: SECRET }, 1500)
  t.equal(run.code, 0)
  t.match(run.stdout, /STATUS 503/)
  t.notMatch(run.stderr, /Unhandled error event/)
  t.equal(run.stderr, '', 'nothing on stderr')
  t.ok(run.exitedAt - closedAt(run) < EXIT_BOUND_MS, `exited ${run.exitedAt - closedAt(run)} ms after close`)
  t.notOk(run.stdout.includes(SECRET))
})

t.test('hanging server: exits after close', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  server.pause()
  const run = await runApp({ REDIS_URL: server.url }, 200)
  t.equal(run.code, 0)
  t.match(run.stdout, /STATUS 503/)
  t.ok(run.exitedAt - closedAt(run) < EXIT_BOUND_MS, `exited ${run.exitedAt - closedAt(run)} ms after close`)
  t.notOk(run.stdout.includes(SECRET) || run.stderr.includes(SECRET))
})

t.test('healthy server: quits the connection and exits', async (t) => {
  const server = await startRedis({ password: SECRET })
  t.teardown(() => server.kill())
  const run = await runApp({ REDIS_URL: server.url }, 0)
  t.equal(run.code, 0)
  t.match(run.stdout, /STATUS 200/)
  t.ok(run.exitedAt - closedAt(run) < EXIT_BOUND_MS, `exited ${run.exitedAt - closedAt(run)} ms after close`)
  const clients = await server.command('CLIENT', 'LIST')
  t.notMatch(clients, /fastify-resilient-redis/, 'no connection left on the server')
})
