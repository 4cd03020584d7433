// The mode switch behind the store, driven by a readiness we control: which
// mode decides, one log line and one diagnostics event per change, and a
// background probe that alone brings counting back to Redis.
import t from 'tap'
import diagnosticsChannel from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { RATE_LIMIT_CHANNEL } from '../src/diagnostics.js'
import { DecisionTimeoutError } from '../src/rate-limit/deadline.js'
import { Failover, PROBE_INTERVAL_MS, type FailMode } from '../src/rate-limit/failover.js'
import type { Readiness } from '../src/rate-limit/readiness.js'

class ControlledReadiness implements Readiness {
  ready: boolean
  cause = 'refused'
  readonly #listeners = new Set<() => void>()
  constructor (ready: boolean) { this.ready = ready }
  onChange (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }
  set (ready: boolean): void {
    this.ready = ready
    for (const listener of this.#listeners) listener()
  }
  get listeners (): number { return this.#listeners.size }
}

interface Line { level: string; obj: Record<string, unknown>; msg: string }
function recordingLogger (): { lines: Line[]; logger: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; error: (o: object, m: string) => void } } {
  const lines: Line[] = []
  const log = (level: string) => (obj: object, msg: string) => { lines.push({ level, obj: obj as Record<string, unknown>, msg }) }
  return { lines, logger: { info: log('info'), warn: log('warn'), error: log('error') } }
}

function failover (readiness: Readiness, probe: () => Promise<unknown>, failMode: FailMode = 'local') {
  const { lines, logger } = recordingLogger()
  const instance = new Failover({ readiness, failMode, failureThreshold: 2, probe, identity: { username: undefined, nameSpace: 'frr-rate-limit:' }, logger })
  t.teardown(() => { instance.close() })
  return { instance, lines }
}

t.test('starting without Redis: one "starts" line, then back to Redis once ready', async (t) => {
  const readiness = new ControlledReadiness(false)
  const { instance, lines } = failover(readiness, async () => 'ok', 'open')
  t.equal(instance.mode, 'open')
  t.notOk(instance.useRedis)
  t.same(lines.map((l) => l.msg), ['Rate limiting starts admitting every request (failMode open) until Redis is available: Redis unavailable (refused)'])
  readiness.set(true)
  t.equal(instance.mode, 'redis')
  t.match(lines[1]?.msg, /^Rate limiting counts in Redis again after \d+\.\d s: the Redis connection is ready again \(0 decisions made without it\)$/)
})

t.test('connection lost and back: one line each way, with the cause, and diagnostics events', async (t) => {
  const events: unknown[] = []
  const onEvent = (event: unknown): void => { events.push(event) }
  diagnosticsChannel.subscribe(RATE_LIMIT_CHANNEL, onEvent)
  t.teardown(() => { diagnosticsChannel.unsubscribe(RATE_LIMIT_CHANNEL, onEvent) })

  const readiness = new ControlledReadiness(true)
  const { instance, lines } = failover(readiness, async () => 'ok', 'closed')
  t.equal(instance.mode, 'redis')
  t.same(lines, [], 'nothing logged while all is well')
  readiness.set(false)
  readiness.set(false)
  instance.decisionsOutsideRedis += 5
  readiness.set(true)
  t.same(lines.map((l) => l.level), ['warn', 'info'])
  t.equal(lines[0]?.msg, 'Rate limiting switched to refusing requests with 503 (failMode closed): Redis unavailable (refused)')
  t.match(lines[1]?.msg, /\(5 decisions made without it\)/)
  t.same(events, [
    { mode: 'closed', previous: 'redis', cause: 'Redis unavailable (refused)', decisionsOutsideRedis: 0 },
    { mode: 'redis', previous: 'closed', cause: 'the Redis connection is ready again', decisionsOutsideRedis: 5 },
  ])
  const report = instance.report()
  t.equal(report.mode, 'redis')
  t.equal(report.decisionsOutsideRedis, 5)
  t.match(report.since, /^\d{4}-\d\d-\d\dT/)
})

t.test('the breaker: open after failures, probed in the background until Redis counts again', async (t) => {
  const readiness = new ControlledReadiness(true)
  let probes = 0
  let healthy = false
  const { instance, lines } = failover(readiness, async () => {
    probes++
    if (!healthy) throw new Error('Command timed out')
  })
  instance.breaker.recordFailure(Object.assign(new Error('OOM command not allowed when used memory > maxmemory'), { name: 'ReplyError' }))
  t.equal(instance.mode, 'redis', 'one failure is not enough')
  instance.breaker.recordFailure(Object.assign(new Error('OOM command not allowed when used memory > maxmemory'), { name: 'ReplyError' }))
  t.equal(instance.mode, 'local')
  t.equal(lines[0]?.msg, 'Rate limiting switched to counting in local memory (per process): Redis commands failing (out-of-memory): OOM command not allowed when used memory > maxmemory')
  t.equal(lines[0]?.level, 'error', 'memory full: only an operator mends it')
  t.equal(instance.report().cause, 'Redis commands failing (out-of-memory): OOM command not allowed when used memory > maxmemory')

  await sleep(PROBE_INTERVAL_MS * 3.5)
  t.ok(probes >= 2, `probed ${probes} times while failing`)
  t.equal(instance.mode, 'local')
  healthy = true
  await sleep(PROBE_INTERVAL_MS * 2)
  t.equal(instance.mode, 'redis', 'a successful probe closes the breaker')
  t.match(lines[1]?.msg, /: Redis answers the background probe again \(/, 'the return names its cause')
  const probesWhenClosed = probes
  await sleep(PROBE_INTERVAL_MS * 2)
  t.equal(probes, probesWhenClosed, 'no probing while Redis counts')
})

t.test('no probe while the connection is down; one as soon as it is ready', async (t) => {
  const readiness = new ControlledReadiness(true)
  let probes = 0
  const { instance } = failover(readiness, async () => { probes++ })
  readiness.set(false)
  instance.breaker.recordFailure(new Error('Command timed out'))
  await sleep(PROBE_INTERVAL_MS * 2)
  t.equal(probes, 0, 'nothing sent while the connection is down')
  readiness.set(true)
  await sleep(20)
  t.equal(probes, 1)
  t.equal(instance.mode, 'redis')
})

t.test('a probe that fires after the connection dropped does nothing', async (t) => {
  const readiness = new ControlledReadiness(true)
  let probes = 0
  const { instance } = failover(readiness, async () => { probes++; throw new Error('Command timed out') })
  instance.breaker.recordFailure(new Error('Command timed out'))
  await sleep(10)
  t.equal(probes, 1)
  readiness.cause = 'hanging'
  readiness.set(false)
  await sleep(PROBE_INTERVAL_MS * 2)
  t.equal(probes, 1, 'the scheduled probe saw the connection down and stopped')
})

t.test('close() stops probing and listening', async (t) => {
  const readiness = new ControlledReadiness(true)
  let probes = 0
  const { instance, lines } = failover(readiness, async () => { probes++; throw new Error('Command timed out') })
  instance.breaker.recordFailure(new Error('Command timed out'))
  await sleep(10)
  instance.close()
  const logged = lines.length
  await sleep(PROBE_INTERVAL_MS * 2)
  t.equal(probes, 1, 'no probe after close')
  t.equal(readiness.listeners, 0, 'unsubscribed')
  instance.breaker.close()
  t.equal(lines.length, logged, 'no log line after close')
})

t.test('without a logger it stays silent', async (t) => {
  const readiness = new ControlledReadiness(false)
  const instance = new Failover({ readiness, failMode: 'local', failureThreshold: 1, probe: async () => 'ok', identity: { username: undefined, nameSpace: 'frr-rate-limit:' }, logger: undefined })
  readiness.set(true)
  readiness.set(false)
  t.equal(instance.mode, 'local')
  instance.close()
})

t.test('a change while a probe is in flight does not start a second probe', async (t) => {
  const readiness = new ControlledReadiness(true)
  let probes = 0
  const { instance } = failover(readiness, async () => { probes++; await sleep(60) })
  instance.breaker.recordFailure(new Error('Command timed out'))
  await sleep(20)
  readiness.set(true) // an update while the first probe waits for its reply
  await sleep(80)
  t.equal(probes, 1)
  t.equal(instance.mode, 'redis')
})

t.test('decisions that waited on Redis, by how the wait ended', async (t) => {
  const { instance } = failover(new ControlledReadiness(true), async () => 'ok')
  t.match(instance.report(), { decisionsOutsideRedis: 0, decisionsAfterTimeout: 0, decisionsAfterError: 0 })
  instance.countWaited(new DecisionTimeoutError(), 3)
  instance.countWaited(new Error('Command timed out'), 2) // the client's own timeout: the call failed
  instance.countWaited(Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), { name: 'ReplyError' }), 1)
  t.match(instance.report(), { decisionsAfterTimeout: 3, decisionsAfterError: 3 })
})

const replyError = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' })

t.test('a missing permission opens the breaker at once, at error level, with the rule that grants it', async (t) => {
  const readiness = new ControlledReadiness(true)
  const { instance, lines } = failover(readiness, async () => { throw replyError("NOPERM this user has no permissions to run the 'evalsha' command") })
  instance.breaker.recordFailure(replyError("NOPERM this user has no permissions to run the 'evalsha' command"))
  t.equal(instance.mode, 'local', 'no threshold: retrying cannot mend it')
  t.same(lines.map((l) => [l.level, l.msg]), [['error', "Rate limiting switched to counting in local memory (per process): Redis commands failing (no-permission): NOPERM this user has no permissions to run the 'evalsha' command; grant what the limiter needs on the server: ACL SETUSER default ~frr-rate-limit:* +eval +evalsha +incrby +pexpire +pttl +ping"]])
  await sleep(PROBE_INTERVAL_MS * 3.5)
  t.equal(lines.length, 1, 'probes failing for the same reason add no line')
})

t.test('while outside Redis, a new reason in a probe reply is logged once; timeouts and the same reply are not', async (t) => {
  const readiness = new ControlledReadiness(true)
  const replies: unknown[] = [new Error('Command timed out'), replyError('OOM command not allowed'), replyError('OOM command not allowed'), new Error('Command timed out')]
  let probes = 0
  const { instance, lines } = failover(readiness, async () => {
    probes++
    throw replies.shift() ?? replyError('OOM command not allowed')
  })
  instance.breaker.recordFailure(new Error('Command timed out'))
  t.equal(lines.length, 1)
  t.match(lines[0], { level: 'warn', msg: /\(hanging\)$/ })
  t.ok(await waitUntil(() => probes >= 5), 'probed')
  t.same(lines.slice(1).map((l) => [l.level, l.msg]), [['error', 'Rate limiting still counting in local memory (per process), now because: Redis commands failing (out-of-memory): OOM command not allowed']])
  t.equal(instance.report().cause, 'Redis commands failing (out-of-memory): OOM command not allowed')
  t.equal(instance.breaker.state.status === 'open' && instance.breaker.state.cause, 'out-of-memory')
})

t.test('a long reply is cut in the log line', async (t) => {
  const readiness = new ControlledReadiness(true)
  const { instance, lines } = failover(readiness, async () => { throw new Error('Command timed out') })
  instance.breaker.recordFailure(replyError(`READONLY ${'x'.repeat(300)}`))
  instance.breaker.recordFailure(replyError(`READONLY ${'x'.repeat(300)}`))
  t.equal(lines[0]?.level, 'warn', 'a replica answers READONLY for a moment in every failover: a warning')
  t.ok(lines[0]?.msg.endsWith(`(read-only): READONLY ${'x'.repeat(191)}…`), 'Redis\'s words, cut at 200 characters')
  t.equal(instance.report().mode, 'local')
})

async function waitUntil (check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(25)
  return check()
}

t.test('no new line for replies that read the same once cut, nor for a breaker that opens while the connection is down', async (t) => {
  const readiness = new ControlledReadiness(true)
  const long = `OOM ${'x'.repeat(300)}`
  let probes = 0
  const { instance, lines } = failover(readiness, async () => {
    probes++
    throw replyError(`${long}${probes}`)
  })
  instance.breaker.recordFailure(replyError(long))
  instance.breaker.recordFailure(replyError(long))
  t.ok(await waitUntil(() => probes >= 3), 'probed with replies that differ only past the cut')
  t.equal(lines.length, 1)

  const other = failover(new ControlledReadiness(false), async () => 'ok')
  other.instance.breaker.recordFailure(new Error('Connection is closed.'))
  other.instance.breaker.recordFailure(new Error('Connection is closed.'))
  t.ok(other.instance.breaker.isOpen)
  t.equal(other.lines.length, 1, 'only the "starts" line: the connection monitor speaks for a connection that is down')
})

t.test('a probe that fails after close schedules nothing', async (t) => {
  const readiness = new ControlledReadiness(true)
  let fail: (error: Error) => void = () => {}
  let probes = 0
  const { instance } = failover(readiness, () => new Promise((_resolve, reject) => { probes++; fail = reject }))
  instance.breaker.recordFailure(new Error('Command timed out'))
  t.ok(await waitUntil(() => probes === 1))
  instance.close()
  fail(replyError('OOM command not allowed'))
  await sleep(PROBE_INTERVAL_MS * 3)
  t.equal(probes, 1)
  t.equal(instance.breaker.state.status === 'open' && instance.breaker.state.cause, 'hanging', 'the late reply is not taken')
})
