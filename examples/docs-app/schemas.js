// Response schemas shared by the example's routes.

/** The error body of every 4xx/5xx answer (Fastify's, @fastify/rate-limit's and the plugin's 503). */
export const errorBody = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
}

export const tooManyRequests = { ...errorBody, description: 'Rate limit exceeded: wait for the time in `retry-after` (seconds). Counted in Redis, or in process memory while Redis is unavailable.' }
export const serviceUnavailable = { ...errorBody, description: 'Redis is unavailable: try again after `retry-after` (seconds). Body code `FRR_ERR_REDIS_UNAVAILABLE`.' }
export const badRequest = { ...errorBody, description: 'The request does not match its schema.' }
export const notFound = { ...errorBody, description: 'No such resource.' }
