// A BullMQ job queue: routes add report jobs, a worker in this process builds
// them, and each finished report is announced on the notifications channel.
//
// Two clients on the queue's server (REDIS_QUEUE_URL), as BullMQ's docs ask:
// - app.redis.queueProducer (role `command`) for the Queue the routes use, so
//   that adding a job during an outage fails at once (503), never waits;
// - app.redis.queue (role `queue`: no timeouts, offline queue, retries without
//   limit) for the Worker, which waits through an outage and resumes after it.
//   BullMQ duplicates it for its blocking reads: `queue.1` in /health.
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue, Worker } from 'bullmq'
import { isRedisUnavailableError } from 'fastify-resilient-redis'
import { computeProduct } from './routes/catalog.js'
import { NOTIFICATIONS_CHANNEL } from './notification-hub.js'

export const REPORTS_QUEUE = 'example-reports'
/** How long building a report takes (the demo's "slow work"). */
const WORK_MS = 100
/** How long a finished report's notification is retried while the channels' connection is away. */
const PUBLISH_RETRY_MS = 5000
/** How long closing the queue may hold up the app's shutdown while Redis is away. */
const CLOSE_BOUND_MS = 2000

/**
 * @typedef {{ productIds: number[] }} ReportRequest
 * @typedef {{ products: number, totalCents: number }} Report
 */

/** @param {import('fastify').FastifyInstance} app */
export function createReportsQueue (app) {
  const producer = /** @type {import('ioredis').Redis} */ (app.redis.queueProducer)
  const consumer = /** @type {import('ioredis').Redis} */ (app.redis.queue)
  const channels = /** @type {import('ioredis').Redis} */ (app.redis.channels)

  // skipWaitingForReady + skipVersionCheck: with Redis down at boot, add()
  // fails at once instead of waiting for Redis without bound.
  /** @type {Queue<ReportRequest, Report>} */
  const queue = new Queue(REPORTS_QUEUE, {
    connection: producer,
    skipWaitingForReady: true,
    skipVersionCheck: true,
    defaultJobOptions: { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 86_400 } },
  })

  /** @type {Worker<ReportRequest, Report>} */
  const worker = new Worker(REPORTS_QUEUE, async (job) => {
    await sleep(WORK_MS)
    const products = job.data.productIds.map(computeProduct)
    return { products: products.length, totalCents: products.reduce((sum, p) => sum + p.priceCents, 0) }
  }, { connection: consumer })

  worker.on('completed', (job, report) => {
    const notification = JSON.stringify({ type: 'report-ready', reportId: job.id, ...report, at: new Date().toISOString() })
    void publishSoon(channels, notification, app.log)
  })
  // BullMQ emits an error for each failed attempt while Redis is away; the
  // plugin already logs each connection's state changes once, so these stay
  // at debug level. (An EventEmitter without an 'error' listener would throw.)
  for (const emitter of [queue, worker]) {
    emitter.on('error', (error) => { app.log.debug({ err: error }, 'reports queue: BullMQ error') })
  }

  return {
    queue,
    /**
     * Stops the worker and the queue. With Redis there, the job in progress
     * finishes first; without it, BullMQ's graceful close would wait for
     * Redis (and its stalled-job timer would hold the process open), so the
     * worker is closed at once: a job it was building stays in Redis and is
     * picked up again after its lock expires. Bounded either way.
     */
    async close () {
      const graceful = consumer.status === 'ready'
      await Promise.race([Promise.allSettled([worker.close(!graceful), queue.close()]), sleep(CLOSE_BOUND_MS)])
    },
  }
}

/**
 * Publishes on the notifications channel, retrying while the connection is
 * away for at most PUBLISH_RETRY_MS. The worker can finish a job while
 * `channels` is still reconnecting (Redis just came back; the worker's own
 * connection waits, `channels` fails fast): one retry a quarter second
 * later saves that notification. Never throws.
 * @param {import('ioredis').Redis} channels
 * @param {string} message
 * @param {import('fastify').FastifyBaseLogger} log
 */
async function publishSoon (channels, message, log) {
  const deadline = Date.now() + PUBLISH_RETRY_MS
  for (;;) {
    try {
      await channels.publish(NOTIFICATIONS_CHANNEL, message)
      return
    } catch (error) {
      if (!isRedisUnavailableError(error) || Date.now() >= deadline) {
        log.warn({ err: error }, 'report notification not published')
        return
      }
    }
    await sleep(250)
  }
}
