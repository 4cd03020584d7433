import type { FastifyReply, FastifyRequest } from 'fastify'
import { RedisUnavailableError } from './errors.js'
import { classifyFailure } from './failure-class.js'
import { scrubText } from './redact.js'
import { quietDefaultErrorLog, type UnavailableReplies } from './unavailable-log.js'

/** Seconds a client is asked to wait before retrying (the reconnect loop runs well within it). */
export const RETRY_AFTER_SECONDS = 1

/*
 * ioredis errors that mean "Redis cannot answer now", as opposed to a bad
 * command or a script error, which stay 500s.
 */
const UNAVAILABLE_MESSAGES = [
  "Stream isn't writeable", // sent while disconnected (offline queue off)
  'Connection is closed.',
  'Command timed out',
  'Socket timeout',
  'Command aborted due to connection close',
  'Reached the max retries per request limit',
  // A Cluster that is not ready (offline queue off), has no reachable node, or kept being redirected.
  "Cluster isn't ready",
  'None of startup nodes is available',
  'Failed to refresh slots cache',
  'Too many Cluster redirections',
  'Cluster is ended',
]
// Replies that say the server cannot serve now, whatever the key: not authenticated, loading,
// out of memory (noeviction), a read-only replica, busy with a script, unable to persist. And
// those of a cluster node or a sentinel to a client of one server (failure-class.ts): a MOVED or
// ASK (an ioredis Cluster follows them itself), a sentinel's "unknown command 'get'". CROSSSLOT
// is the app's own mistake on a cluster; on a client of one server, command-guard.ts maps it.
const UNAVAILABLE_REPLIES = /^(NOAUTH|WRONGPASS|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|OOM|READONLY|BUSY|MISCONF)\b|^(MOVED|ASK) \d+ /
const UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError'])

/** True for our own RedisUnavailableError and for ioredis errors that mean Redis is unreachable. */
export function isRedisUnavailableError (error: unknown): error is Error {
  if (!(error instanceof Error)) return false
  if ((error as { code?: unknown }).code === 'FRR_ERR_REDIS_UNAVAILABLE') return true
  return UNAVAILABLE_NAMES.has(error.name) ||
    UNAVAILABLE_REPLIES.test(error.message) ||
    (error.name === 'ReplyError' && classifyFailure(error) === 'sentinel-port') ||
    UNAVAILABLE_MESSAGES.some((text) => error.message.startsWith(text))
}

/**
 * An `onError` hook. It runs before whichever error handler the route has,
 * the app's own or Fastify's default, and rewrites a Redis-unavailable error
 * in place so that handler answers 503 with `Retry-After`, the code
 * FRR_ERR_REDIS_UNAVAILABLE and a message without internals. The original
 * message moves to `cause`, scrubbed. The 503 is counted in `replies` instead
 * of being logged with a stack by Fastify's default handler. Every other
 * error is left untouched.
 */
export function createUnavailableErrorHook (secrets: readonly string[], replies: UnavailableReplies) {
  const template = new RedisUnavailableError()
  return async function mapRedisUnavailable (request: FastifyRequest, reply: FastifyReply, error: Error): Promise<void> {
    if (!isRedisUnavailableError(error)) return
    reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    quietDefaultErrorLog(reply, error)
    if ((error as { code?: unknown }).code === template.code) {
      replies.record(request, error.cause instanceof Error ? scrubText(error.cause.message, secrets) : error.message)
      return
    }
    const original = new Error(scrubText(error.message, secrets))
    original.name = error.name
    replies.record(request, original.message)
    Object.assign(error, {
      message: template.message,
      code: template.code,
      statusCode: 503,
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
      cause: original,
    })
    // ioredis keeps the command's arguments on its errors; they must not reach a log.
    delete (error as { command?: unknown }).command
  }
}
