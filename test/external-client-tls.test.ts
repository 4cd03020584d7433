// The `client` option with TLS: ioredis 6.1 also takes a TLS profile name,
// swapped for that profile's options when the client is made if it knows
// the name. What the plugin records of the client (for its log lines, hints
// and `check`) is node:tls options either way. The clients are lazy and never
// connect.
import t from 'tap'
import { Redis, type RedisOptions } from 'ioredis'
import { externalConnection } from '../src/connection/external-client.js'

function recordedTls (tls: unknown): unknown {
  // Port 1 on loopback: never dialled (lazyConnect), and never the machine's own Redis.
  const client = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, tls: tls as RedisOptions['tls'] })
  try {
    return externalConnection(client).tls
  } finally {
    client.disconnect()
  }
}

t.test('no TLS: none recorded', async (t) => {
  t.equal(recordedTls(undefined), undefined)
})

t.test('node:tls options: recorded as given', async (t) => {
  t.same(recordedTls({ servername: 'redis.internal' }), { servername: 'redis.internal' })
})

t.test('a profile name ioredis does not know: TLS on, with no options of its own', async (t) => {
  t.same(recordedTls('NoSuchProfile'), {})
  t.same(recordedTls({ profile: 'NoSuchProfile', servername: 'redis.internal' }), { servername: 'redis.internal' })
})
