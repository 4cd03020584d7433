// settleWithin: a decision's wait on Redis, bounded by its deadline. Which
// outcome wins is decided by the order of events, never by how fast the
// machine is: a blocked event loop makes every timer below overdue at once.
import t from 'tap'
import { DecisionTimeoutError, settleWithin, withinDeadline } from '../src/rate-limit/deadline.js'
import { classifyFailure } from '../src/failure-class.js'
import { isRedisUnavailableError } from '../src/unavailable-error.js'

type Outcome = { value: unknown } | { error: unknown }

function outcome<T> (promise: Promise<T>, ms: number): Promise<Outcome> {
  return new Promise((resolve) => { settleWithin(promise, ms, (value) => { resolve({ value }) }, (error) => { resolve({ error }) }) })
}

/** Settles with `value` (or rejects with it, when it is an Error) after `ms`. */
function after<T> (ms: number, value: T): Promise<T> {
  return new Promise((resolve, reject) => { setTimeout(() => { value instanceof Error ? reject(value) : resolve(value) }, ms) })
}

/** Blocks the event loop, as a long synchronous task would. */
function block (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {}
}

t.test('the promise\'s own outcome, when it settles first', async (t) => {
  t.same(await outcome(Promise.resolve(1), 50), { value: 1 })
  const boom = new Error('Connection is closed.')
  t.same(await outcome(Promise.reject(boom), 50), { error: boom })
})

t.test('no answer: a DecisionTimeoutError, classified as a hanging, unavailable Redis', async (t) => {
  const result = await outcome(new Promise(() => {}), 20)
  t.ok('error' in result && result.error instanceof DecisionTimeoutError)
  const error = (result as { error: Error }).error
  t.equal(error.message, 'Command timed out')
  t.equal(error.name, 'DecisionTimeoutError')
  t.equal(classifyFailure(error), 'hanging')
  t.ok(isRedisUnavailableError(error))
  await t.rejects(withinDeadline(new Promise(() => {}), 20), DecisionTimeoutError)
  t.equal(await withinDeadline(Promise.resolve('ok'), 20), 'ok')
})

t.test('deadline and reply both overdue after a blocked event loop: the reply wins', async (t) => {
  // The deadline's timer (10 ms) fires first, the reply's (20 ms) in the same timers phase.
  const result = outcome(after(20, 'counted'), 10)
  block(100)
  t.same(await result, { value: 'counted' }, 'the app\'s own stall is not taken for a silent Redis')
})

t.test('deadline and a failure both overdue after a blocked event loop: the deadline\'s error', async (t) => {
  // As a client's command timeout overdue in the same stall: the decision has waited its deadline out.
  const result = outcome(after(20, new Error('Command timed out')), 10)
  block(100)
  const settled = await result
  t.ok('error' in settled && settled.error instanceof DecisionTimeoutError, 'counted as the deadline, not as an error of the call')
})
