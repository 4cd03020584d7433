// The original failure's app, for bench/outage-tries.js: Fastify + this plugin
// (loaded like plugin.js), the README's BullMQ recipe — a Queue on app.redis
// with skipWaitingForReady and skipVersionCheck, a Worker and QueueEvents on a
// client of role 'queue' (BENCH_WORKER_ROLE: another role, to reproduce what
// the fail-fast settings did) — a route that enqueues a job and a /health
// route that never touches Redis. Plugin log lines (JSON) go to
// BENCH_LOG_FILE; what happens to jobs goes to stdout, one line each, so that
// the harness sees it even from a process that froze or crashed afterwards:
//   adding <n> | accepted <n> <Date.now()> | refused <n> | completed <n> <Date.now()>
//   loop-delay <max ms of the event loop's delay over the last 250 ms> <Date.now()>
// No unhandledRejection handler: Node's default (the process exits) is what counts as a crash.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import Fastify from 'fastify'
import { Queue, QueueEvents, Worker } from 'bullmq'
import { loadPlugin } from './load-plugin.js'

const { default: resilientRedis } = await loadPlugin()
const QUEUE = 'bench-jobs'
const JOB_MS = Number(process.env.BENCH_JOB_MS ?? 20)
const say = (line) => { process.stdout.write(`${line}\n`) }

// What the process itself saw, apart from the harness's own scheduling: a frozen loop reports nothing.
const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()
setInterval(() => {
  say(`loop-delay ${Math.round(delay.max / 1e6)} ${Date.now()}`)
  delay.reset()
}, 250).unref()

const app = Fastify({ logger: { level: 'info', file: process.env.BENCH_LOG_FILE }, disableRequestLogging: true })
try {
  await app.register(resilientRedis, { rateLimit: false, clients: { jobs: { role: process.env.BENCH_WORKER_ROLE ?? 'queue' } } })
} catch (err) {
  process.stderr.write(`boot-failed ${err.code ?? ''} ${String(err.message).split('\n')[0]}\n`)
  process.exit(1)
}
const queue = new Queue(QUEUE, { connection: app.redis, skipWaitingForReady: true, skipVersionCheck: true })
const worker = new Worker(QUEUE, async (job) => {
  // Each job takes a little while, so that some are being processed when Redis goes away.
  await new Promise((resolve) => setTimeout(resolve, JOB_MS))
  return job.data.n
}, { connection: app.redis.jobs })
const events = new QueueEvents(QUEUE, { connection: app.redis.jobs })
worker.on('completed', (job) => { say(`completed ${job.data.n} ${Date.now()}`) })
app.addHook('onClose', async () => { await Promise.all([worker.close(), events.close(), queue.close()]) })

app.get('/health', async () => ({ ok: true }))
app.post('/jobs', async (request) => {
  const { n } = request.body
  say(`adding ${n}`)
  try {
    const job = await queue.add('work', { n })
    say(`accepted ${n} ${Date.now()}`)
    return { id: job.id }
  } catch (err) {
    say(`refused ${n}`)
    throw err
  }
})

await app.listen({ port: 0, host: '127.0.0.1' })
say(`listening ${app.server.address().port}`)
// The harness stops apps by pid: SIGTERM exits at once (a frozen process cannot, which is measured).
process.once('SIGTERM', () => process.exit(0))
