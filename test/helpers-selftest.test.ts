// Proves the fault-injection helpers themselves work, so a failing plugin test is never the helpers' fault.
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Redis } from 'ioredis'
import { freePort, startRedis, stopAllRedis } from './helpers/redis-server.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'

t.teardown(stopAllRedis)

const encode = (args: string[]): string =>
  `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')

/**
 * A raw client socket whose replies can be awaited with a deadline (null = nothing arrived).
 * Deadlines for a reply that must come are generous (5 s: only one that never comes fails, never
 * a busy machine); short ones only check that nothing came, which a busy machine cannot break.
 */
function openRaw(port: number) {
  const sock = net.connect({ host: '127.0.0.1', port })
  let buf = ''
  sock.on('data', (d) => { buf += d.toString() })
  sock.on('error', () => {})
  const closed = new Promise<void>((r) => sock.once('close', () => r()))
  const connected = new Promise<void>((r, j) => {
    sock.once('connect', () => r())
    sock.once('error', j)
  })
  return {
    sock, closed, connected,
    send: (...args: string[]) => { sock.write(encode(args)) },
    async reply(ms: number): Promise<string | null> {
      const deadline = Date.now() + ms
      while (!buf.includes('\r\n')) {
        if (Date.now() >= deadline || sock.destroyed) return null
        await sleep(10)
      }
      const out = buf
      buf = ''
      return out
    },
  }
}

/** Error code of a connect attempt ('connected' if something accepted it). */
function connectResult(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port })
    sock.on('connect', () => { sock.destroy(); resolve('connected') })
    sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
  })
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true } catch { return false }
}

async function ioredisPing(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.ping()
  } finally {
    client.disconnect()
  }
}

t.test('freePort gives an unused loopback port', async (t) => {
  const port = await freePort()
  t.ok(port > 0 && port !== 6379)
  t.equal(await connectResult(port), 'ECONNREFUSED')
})

t.test('server with password: AUTH required, url works with ioredis', async (t) => {
  const password = 'p@ss w:rd/%'
  const srv = await startRedis({ password })
  t.teardown(() => srv.kill())
  t.equal(srv.host, '127.0.0.1')
  t.equal(srv.password, password)
  t.equal(srv.url, `redis://:${encodeURIComponent(password)}@127.0.0.1:${srv.port}`)
  t.ok(srv.pid !== undefined && alive(srv.pid))
  t.match(await srv.command('PING'), /PONG/)
  const raw = openRaw(srv.port)
  raw.send('PING')
  t.match(await raw.reply(5000), /^-NOAUTH/)
  raw.sock.destroy()
  t.equal(await ioredisPing(srv.url), 'PONG')
})

t.test('server without password, explicit port, extraArgs, multi-line replies', async (t) => {
  const port = await freePort()
  const srv = await startRedis({ port, extraArgs: ['--maxmemory', '10mb'] })
  t.teardown(() => srv.kill())
  t.equal(srv.port, port)
  t.equal(srv.password, undefined)
  t.equal(srv.url, `redis://127.0.0.1:${port}`)
  t.equal(await srv.command('PING'), '+PONG')
  t.equal(await srv.command('CONFIG', 'GET', 'maxmemory'), '*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760')
  t.equal(await srv.command('GET', 'missing'), '$-1')
  t.match(await srv.command('NOPE'), /^-ERR unknown command/)
  t.equal(await ioredisPing(srv.url), 'PONG')
})

t.test('explicit port already taken fails with the server output', async (t) => {
  const blocker = net.createServer((s) => s.destroy())
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())))
  const addr = blocker.address() as net.AddressInfo
  await t.rejects(startRedis({ port: addr.port }), /exited early[\s\S]*in use/i)
})

t.test('kill, restart on same port with empty data, password changes', async (t) => {
  const srv = await startRedis({ password: 'first' })
  t.teardown(() => srv.kill())
  const port = srv.port
  t.equal(await srv.command('SET', 'k', 'v'), '+OK')
  const oldPid = srv.pid
  await srv.kill()
  t.equal(srv.pid, undefined)
  t.notOk(oldPid !== undefined && alive(oldPid), 'process gone')
  t.equal(await connectResult(port), 'ECONNREFUSED')
  await srv.kill() // idempotent
  t.throws(() => srv.pause(), /not running/)

  await srv.restart()
  t.equal(srv.port, port)
  t.equal(srv.password, 'first')
  t.not(srv.pid, oldPid)
  t.equal(await srv.command('GET', 'k'), '$-1', 'data gone after restart')
  t.equal(await srv.command('DBSIZE'), ':0')

  await srv.restart({ password: 'second' }) // restart while running
  t.equal(srv.password, 'second')
  t.equal(await srv.command('PING'), '+PONG')
  const raw = openRaw(port)
  raw.send('AUTH', 'first')
  t.match(await raw.reply(5000), /^-WRONGPASS/)
  raw.sock.destroy()

  await srv.restart({ password: null })
  t.equal(srv.password, undefined)
  t.equal(srv.url, `redis://127.0.0.1:${port}`)
  const open = openRaw(port)
  open.send('PING')
  t.equal(await open.reply(5000), '+PONG\r\n')
  open.sock.destroy()
})

t.test('pause hangs, resume answers, kill and stop work while paused', async (t) => {
  const srv = await startRedis()
  t.teardown(() => srv.kill())
  srv.pause()
  const raw = openRaw(srv.port)
  await raw.connected // the kernel still accepts into the backlog
  raw.send('PING')
  t.equal(await raw.reply(300), null, 'no answer while paused')
  await t.rejects(srv.command('PING'), /timed out after 2000 ms/)
  srv.resume()
  t.equal(await raw.reply(5000), '+PONG\r\n', 'queued command answered after resume')
  raw.sock.destroy()

  srv.pause()
  await srv.kill()
  t.equal(await connectResult(srv.port), 'ECONNREFUSED')

  await srv.restart()
  srv.pause()
  const pid = srv.pid
  await srv.stop() // SIGTERM is delivered because stop() also sends SIGCONT
  t.equal(srv.pid, undefined)
  t.notOk(pid !== undefined && alive(pid))
  t.equal(await connectResult(srv.port), 'ECONNREFUSED')
  t.throws(() => srv.resume(), /not running/)
  await srv.stop() // idempotent
})

t.test('tcp proxy: forward, stall, unstall, dropAll, close', async (t) => {
  const srv = await startRedis()
  t.teardown(() => srv.kill())
  const proxy = await startTcpProxy({ host: srv.host, port: srv.port })
  t.teardown(() => proxy.close())
  t.equal(proxy.url(), `redis://127.0.0.1:${proxy.port}`)
  t.equal(proxy.url('a b'), `redis://:a%20b@127.0.0.1:${proxy.port}`)
  t.equal(await ioredisPing(proxy.url()), 'PONG')

  const a = openRaw(proxy.port)
  a.send('PING')
  t.equal(await a.reply(5000), '+PONG\r\n', 'forwards')
  t.equal(proxy.connections, 1)

  proxy.stall()
  a.send('PING')
  const b = openRaw(proxy.port) // accepted while stalled, but nothing flows
  await b.connected
  b.send('ECHO', 'late')
  t.equal(await a.reply(300), null, 'no answer while stalled')
  t.equal(await b.reply(50), null, 'new connection stalled too')
  t.equal(proxy.connections, 2)
  proxy.unstall()
  t.equal(await a.reply(5000), '+PONG\r\n', 'held bytes delivered after unstall')
  t.equal(await b.reply(5000), '$4\r\nlate\r\n')

  proxy.dropAll()
  await Promise.all([a.closed, b.closed])
  t.ok(a.sock.destroyed && b.sock.destroyed, 'client sockets closed')
  for (let i = 0; i < 50 && proxy.connections > 0; i++) await sleep(10)
  t.equal(proxy.connections, 0)

  const c = openRaw(proxy.port) // still accepting after dropAll
  c.send('PING')
  t.equal(await c.reply(5000), '+PONG\r\n')
  await proxy.close()
  await c.closed
  t.equal(await connectResult(proxy.port), 'ECONNREFUSED')
})

t.test('tcp proxy: delayReplies holds replies, in order, also when the delay changes', async (t) => {
  const srv = await startRedis()
  t.teardown(() => srv.kill())
  const proxy = await startTcpProxy({ host: srv.host, port: srv.port })
  t.teardown(() => proxy.close())
  const a = openRaw(proxy.port)
  await a.connected
  proxy.delayReplies(200)
  const started = performance.now()
  a.send('ECHO', 'first')
  t.equal(await a.reply(100), null, 'nothing before the delay')
  proxy.delayReplies(0)
  a.send('ECHO', 'second') // not delayed itself, but must not overtake the first
  let replies = (await a.reply(5000)) ?? ''
  t.ok(performance.now() - started >= 190, 'the first reply waited the delay')
  if (!replies.includes('second')) replies += (await a.reply(5000)) ?? ''
  t.equal(replies, '$5\r\nfirst\r\n$6\r\nsecond\r\n', 'both, in order: the second was held behind the first')
  a.send('PING')
  t.equal(await a.reply(5000), '+PONG\r\n', 'no delay once it is 0')
})

t.test('tcp proxy: holdReplies holds every reply until released, in order', async (t) => {
  const srv = await startRedis()
  t.teardown(() => srv.kill())
  const proxy = await startTcpProxy({ host: srv.host, port: srv.port })
  t.teardown(() => proxy.close())
  const a = openRaw(proxy.port)
  await a.connected
  proxy.holdReplies()
  a.send('ECHO', 'first')
  a.send('ECHO', 'second')
  t.equal(await a.reply(300), null, 'nothing while held')
  t.equal(await srv.command('ECHO', 'direct'), '$6\r\ndirect', 'the server itself answers')
  proxy.releaseReplies()
  let replies = (await a.reply(5000)) ?? ''
  if (!replies.includes('second')) replies += (await a.reply(5000)) ?? ''
  t.equal(replies, '$5\r\nfirst\r\n$6\r\nsecond\r\n', 'released in order')
  a.send('ECHO', 'third')
  t.equal(await a.reply(300), null, 'still holding after a release')
  proxy.holdReplies(false)
  t.equal(await a.reply(5000), '$5\r\nthird\r\n', 'passed on when holding ends')
  a.send('PING')
  t.equal(await a.reply(5000), '+PONG\r\n', 'no holding once it ended')
})

t.test('proxy closes the client when upstream is down', async (t) => {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: await freePort() })
  t.teardown(() => proxy.close())
  const raw = openRaw(proxy.port)
  await raw.connected
  await raw.closed
  t.pass('client closed after upstream refused')
})

t.test('stopAllRedis kills every leftover server', async (t) => {
  const one = await startRedis()
  const two = await startRedis({ password: 'x' })
  two.pause()
  const pids = [one.pid, two.pid]
  await stopAllRedis()
  t.same([one.pid, two.pid], [undefined, undefined])
  for (const pid of pids) t.notOk(pid !== undefined && alive(pid))
  t.equal(await connectResult(one.port), 'ECONNREFUSED')
  t.equal(await connectResult(two.port), 'ECONNREFUSED')
  await stopAllRedis() // nothing left: no-op
})
