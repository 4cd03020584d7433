// Routes that never touch Redis themselves: only the rate limiter does.
import { badRequest, errorBody, tooManyRequests } from '../schemas.js'

/** @param {import('fastify').FastifyInstance} app */
export function addPublicRoutes (app) {
  app.get('/greeting', {
    schema: {
      tags: ['public'],
      summary: 'Say hello',
      description: 'A public route under the global rate limit (100 requests a minute per IP). Never touches Redis itself; only the limiter does.',
      querystring: {
        type: 'object',
        properties: { name: { type: 'string', maxLength: 50, default: 'world', description: 'Whom to greet.' } },
      },
      response: {
        200: {
          description: 'The greeting.',
          type: 'object',
          properties: { greeting: { type: 'string' } },
        },
        400: badRequest,
        429: tooManyRequests,
      },
    },
  }, async (request) => {
    const { name } = /** @type {{ name: string }} */ (request.query)
    return { greeting: `Hello, ${name}!` }
  })

  app.post('/login', {
    // A stricter limit of its own: 5 attempts a minute per IP.
    config: { rateLimit: { max: 5, timeWindow: '1 minute' } },
    schema: {
      tags: ['auth'],
      summary: 'Log in (demo)',
      description: 'A login-style route limited to 5 attempts a minute per IP, counted separately from the global limit. ' +
        'The demo account is `demo` / `demo`.',
      body: {
        type: 'object',
        required: ['username', 'password'],
        properties: {
          username: { type: 'string', minLength: 1, maxLength: 100 },
          password: { type: 'string', minLength: 1, maxLength: 100 },
        },
        examples: [{ username: 'demo', password: 'demo' }],
      },
      response: {
        200: {
          description: 'Logged in.',
          type: 'object',
          properties: { token: { type: 'string' } },
        },
        400: badRequest,
        401: { ...errorBody, description: 'Wrong username or password.' },
        429: { ...tooManyRequests, description: 'More than 5 attempts in a minute: wait for `retry-after` (seconds).' },
      },
    },
  }, async (request, reply) => {
    const { username, password } = /** @type {{ username: string, password: string }} */ (request.body)
    if (username !== 'demo' || password !== 'demo') {
      return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'Wrong username or password' })
    }
    return { token: 'demo-token' }
  })
}
