// POST /reports (add a job) and GET /reports/{id} (its state).
import { badRequest, notFound, serviceUnavailable, tooManyRequests } from '../schemas.js'

const reportState = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', description: 'BullMQ\'s job state: `waiting`, `active`, `completed`, `failed`, `delayed`, …' },
    result: {
      type: 'object',
      nullable: true,
      properties: { products: { type: 'integer' }, totalCents: { type: 'integer' } },
    },
  },
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('bullmq').Queue} queue
 */
export function addReportRoutes (app, queue) {
  app.post('/reports', {
    schema: {
      tags: ['queue'],
      summary: 'Order a report (a BullMQ job)',
      description: 'Adds a job to the BullMQ queue and answers 202 at once; the worker builds the report, and a `report-ready` ' +
        'notification goes to `GET /notifications` when it is done. While Redis is unavailable: 503 with `retry-after` at once ' +
        '(within the command timeout while Redis hangs), never a hang. A job accepted (202) is not lost by an outage.',
      body: {
        type: 'object',
        required: ['productIds'],
        properties: { productIds: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'integer', minimum: 1, maximum: 1000 } } },
        examples: [{ productIds: [1, 2, 42] }],
      },
      response: {
        202: { description: 'Accepted: the job is queued.', ...reportState },
        400: badRequest,
        429: tooManyRequests,
        503: serviceUnavailable,
      },
    },
  }, async (request, reply) => {
    const job = await queue.add('report', request.body)
    return reply.code(202).send({ id: job.id, state: 'waiting', result: null })
  })

  app.get('/reports/:id', {
    schema: {
      tags: ['queue'],
      summary: 'A report\'s state',
      description: 'Reads the job from Redis: its state and, once completed, the report. While Redis is unavailable: 503.',
      params: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'string', pattern: '^[0-9]{1,12}$', examples: ['1'] } },
      },
      response: {
        200: { description: 'The job.', ...reportState },
        400: badRequest,
        404: notFound,
        429: tooManyRequests,
        503: serviceUnavailable,
      },
    },
  }, async (request, reply) => {
    const { id } = /** @type {{ id: string }} */ (request.params)
    const job = await queue.getJob(id)
    if (job === undefined) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No report ${id}` })
    return { id, state: await job.getState(), result: job.returnvalue ?? null }
  })
}
