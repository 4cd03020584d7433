// The breaker: opens after consecutive failures or at the first timeout,
// closes only when told to, and reports each change once.
import t from 'tap'
import { Breaker, type BreakerState } from '../src/rate-limit/breaker.js'

const replyError = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' })

t.test('opens after the threshold of consecutive failures; a success resets the count', async (t) => {
  const breaker = new Breaker(3)
  const changes: BreakerState[] = []
  breaker.on('change', (state) => changes.push(state))
  breaker.recordFailure(replyError('OOM command not allowed'))
  breaker.recordFailure(replyError('OOM command not allowed'))
  breaker.recordSuccess()
  t.same(breaker.state, { status: 'closed', consecutiveFailures: 0 })
  breaker.recordSuccess()
  breaker.recordFailure(replyError('OOM command not allowed'))
  breaker.recordFailure(replyError('OOM command not allowed'))
  t.notOk(breaker.isOpen)
  breaker.recordFailure(replyError('OOM command not allowed'))
  t.ok(breaker.isOpen)
  t.equal(breaker.state.status === 'open' && breaker.state.cause, 'out-of-memory')
  breaker.recordFailure(new Error('Command timed out'))
  t.equal(changes.length, 1, 'failures while open change nothing')
})

t.test('a timeout opens it at once', async (t) => {
  const breaker = new Breaker(3)
  breaker.recordFailure(new Error('Command timed out'))
  t.ok(breaker.isOpen)
  t.equal(breaker.state.status === 'open' && breaker.state.cause, 'hanging')
})

t.test('close() closes an open breaker and does nothing to a closed one', async (t) => {
  const breaker = new Breaker(1)
  const changes: string[] = []
  breaker.on('change', (state, previous) => changes.push(`${previous.status}->${state.status}`))
  breaker.close()
  breaker.recordFailure(new Error('Connection is closed.'))
  breaker.close()
  t.same(changes, ['closed->open', 'open->closed'])
  t.same(breaker.state, { status: 'closed', consecutiveFailures: 0 })
})

t.test('a failure that is not an Error keeps its text as the message', async (t) => {
  const breaker = new Breaker(1)
  breaker.recordFailure('READONLY You can\'t write against a read only replica.')
  t.same(breaker.state.status === 'open' && [breaker.state.cause, breaker.state.message], ['read-only', 'READONLY You can\'t write against a read only replica.'])
})
