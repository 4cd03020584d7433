// Live notifications: one Redis subscription per app instance, fanned out to
// every browser connected to GET /notifications over server-sent events.
//
// Every instance subscribes to the same channel, so a message published by
// any instance (a finished report, POST /notifications) reaches the browsers
// of all of them. Pub/sub keeps nothing: what is published while this
// instance's subscriber is disconnected is lost; the plugin subscribes again
// after every reconnect, so messages flow again as soon as Redis is back.
import { PassThrough } from 'node:stream'
import { isRedisUnavailableError } from 'fastify-resilient-redis'

export const NOTIFICATIONS_CHANNEL = 'example:notifications'

/** A comment line every so often, so that proxies and browsers keep an idle stream open. */
const KEEPALIVE_MS = 15_000

/**
 * @param {import('ioredis').Redis} channels The `subscriber`-role client (app.redis.channels).
 * @param {import('fastify').FastifyBaseLogger} log
 */
export function createNotificationHub (channels, log) {
  /** @type {Set<PassThrough>} */
  const streams = new Set()
  // As the ioredis README does, straight after registration, without waiting
  // for ready: the plugin's duplicate waits for its first connection, and
  // remembers the subscription to make it again after each reconnect.
  const subscriber = channels.duplicate()
  subscriber.subscribe(NOTIFICATIONS_CHANNEL).catch((error) => {
    // Redis unavailable (down, or the password rejected): the plugin makes
    // the subscription when the connection is ready, and logs the outage
    // itself. Anything else (an ACL channel rule) is worth a line.
    if (!isRedisUnavailableError(error)) log.error({ err: error }, 'notifications: subscribing failed')
  })

  /** @param {string} event @param {unknown} data */
  const frame = (event, data) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
  /** @param {string} text */
  const broadcast = (text) => { for (const stream of streams) stream.write(text) }

  subscriber.on('message', (_channel, message) => { broadcast(`event: notification\ndata: ${message}\n\n`) })
  // Tell the browsers when notifications pause and resume (once per change:
  // ioredis emits 'close' after every failed reconnect attempt).
  let live = false
  /** @param {boolean} now */
  const setLive = (now) => {
    if (now === live) return
    live = now
    broadcast(frame('status', { live }))
  }
  subscriber.on('ready', () => { setLive(true) })
  subscriber.on('close', () => { setLive(false) })

  const keepalive = setInterval(() => { broadcast(': keep-alive\n\n') }, KEEPALIVE_MS)
  keepalive.unref()

  return {
    /** Whether this instance's subscription is up now. */
    get live () { return live },
    /** A new event stream for one browser; ended by `close()` or when the browser goes. */
    open () {
      const stream = new PassThrough()
      streams.add(stream)
      stream.on('close', () => { streams.delete(stream) })
      // `retry`: how soon (ms) an EventSource reconnects if this stream breaks.
      stream.write(`retry: 1000\n${frame('status', { live })}`)
      return stream
    },
    /** Ends every open stream (before the server closes: it waits for open responses). */
    close () {
      clearInterval(keepalive)
      for (const stream of streams) stream.end()
    },
  }
}
