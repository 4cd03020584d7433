import { FAILURE_CLASSES } from './failure-class.js'

/*
 * The JSON schema of the health report, for the `healthRoute`: it documents
 * the route (e.g. in @fastify/swagger) and lets Fastify serialize it fast.
 * Keep it in step with RedisHealthReport in health.ts.
 */

const clientHealth = {
  type: 'object',
  required: ['state', 'url', 'since'],
  properties: {
    state: { type: 'string', enum: ['ready', 'connecting', 'down'] },
    url: { type: 'string', description: 'The server, password redacted.' },
    since: { type: 'string', format: 'date-time' },
    latencyMs: { type: 'number', description: 'Round trip of this report\'s PING.' },
    failure: { type: 'string', enum: FAILURE_CLASSES },
    hint: { type: 'string', description: 'What the failure means and what to check.' },
    error: { type: 'string', description: 'The last error, without secrets.' },
  },
} as const

const rateLimit = {
  type: 'object',
  required: ['mode'],
  properties: {
    mode: { type: 'string', enum: ['redis', 'local', 'open', 'closed', 'disabled'], description: 'Where rate-limit decisions are made now.' },
    since: { type: 'string', format: 'date-time' },
    cause: { type: 'string', description: 'Why decisions are made outside Redis (absent in mode redis).' },
    decisionsOutsideRedis: { type: 'integer' },
    decisionsAfterTimeout: { type: 'integer', description: 'Of decisionsOutsideRedis, those sent to Redis whose call did not answer within decisionTimeout.' },
    decisionsAfterError: { type: 'integer', description: 'Of decisionsOutsideRedis, those sent to Redis whose call failed.' },
    failMode: { type: 'string', enum: ['local', 'open', 'closed'] },
    memoryKeys: { type: 'integer', description: 'Keys the in-process limiter holds a count for: those with a full window (at most cache) plus those kept as fingerprints (at most 65,536, or cache if more, up to 2^20).' },
    overLimitKeys: { type: 'integer', description: 'Keys Redis said are over their limit, refused in process until their window ends.' },
    refusedWithoutRedis: { type: 'integer', description: 'Requests refused that way, without a Redis call.' },
  },
} as const

export const healthReportSchema = {
  type: 'object',
  required: ['status', 'clients', 'rateLimit'],
  properties: {
    status: { type: 'string', enum: ['up', 'degraded', 'down'], description: 'down: no client ready; degraded: a client not ready or lacking a permission, a cluster master failing while the others serve, or rate limiting deciding outside Redis; up: none of that.' },
    clients: { type: 'object', additionalProperties: clientHealth },
    rateLimit,
  },
} as const

export const healthRouteSchema = {
  summary: 'Redis health',
  description: 'The state of every Redis connection (with a PING bounded by the command timeout) and where rate-limit decisions are made. 200 while any client is ready, 503 when none is.',
  response: {
    200: { description: 'At least one Redis client is ready.', ...healthReportSchema },
    503: { description: 'No Redis client is ready; the app still serves what does not need Redis.', ...healthReportSchema },
  },
}
