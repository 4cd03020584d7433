// ioredis puts a failed command's arguments on its error, and fails the
// commands queued behind a rejected handshake (HELLO 3 AUTH user password)
// with that same error: an app that logs it would log the password. On a
// plugin client the arguments are hidden before anyone sees the error.
import t from 'tap'
import type { Redis } from 'ioredis'
import { buildApp } from './helpers/app.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { hideCredentials } from '../src/connection/command-guard.js'

const SECRET = 'Right-Pa55-For-Args'
const WRONG = 'Wr0ng-Pa55-In-Args'

t.teardown(stopAllRedis)

t.test('a command queued behind a rejected password fails without the password on its error', async (t) => {
  const server = await startRedis({ password: SECRET })
  const built = await buildApp({ url: `redis://127.0.0.1:${server.port}`, password: WRONG, rateLimit: false, clients: { channels: { role: 'subscriber' } } })
  t.teardown(() => built.app.close())
  // A duplicate queues what is sent before its first ready: here, behind the failing handshake.
  const sub = (built.app.redis.channels as Redis).duplicate()
  const error = await sub.subscribe('news').then(() => undefined, (err: unknown) => err as Error & { command?: { name: string; args: unknown[] } })
  t.ok(error, 'the subscription fails')
  t.match(error?.message, /WRONGPASS|NOAUTH|invalid/, 'with the server\'s reason')
  t.notOk(JSON.stringify({ ...error, message: error?.message, stack: error?.stack }).includes(WRONG), 'no password anywhere on the error')
  if (error?.command !== undefined) t.notOk(error.command.args.includes(WRONG), `args hidden: ${JSON.stringify(error.command.args)}`)
  t.notOk(built.logText().includes(WRONG), 'nor in the log')
})

t.test('hideCredentials: AUTH and HELLO arguments, nothing else', async (t) => {
  const auth = Object.assign(new Error('x'), { command: { name: 'auth', args: ['user', 'pw'] } })
  hideCredentials(auth)
  t.same(auth.command.args, ['***'])
  const hello = Object.assign(new Error('x'), { command: { name: 'HELLO', args: ['3', 'AUTH', 'user', 'pw'] } })
  hideCredentials(hello)
  t.same(hello.command.args, ['3', 'AUTH', '***'])
  const get = Object.assign(new Error('x'), { command: { name: 'get', args: ['key'] } })
  hideCredentials(get)
  t.same(get.command.args, ['key'], 'other commands keep their arguments')
  const bare = new Error('x')
  hideCredentials(bare)
  t.same(Object.keys(bare), [], 'an error without a command is left alone')
  const odd = Object.assign(new Error('x'), { command: { name: 'auth', args: 'pw' } })
  hideCredentials(odd)
  t.equal(odd.command.args, 'pw', 'a shape ioredis never makes is left alone')
})
