// The connection monitor on its own, with a real ioredis client and server:
// a close while its AUTH check is still pending reports nothing more.
import t from 'tap'
import { Redis } from 'ioredis'
import { resolveConfig } from '../src/config/index.js'
import { ConnectionMonitor } from '../src/connection/connection-monitor.js'
import { startRedis, stopAllRedis } from './helpers/redis-server.js'
import { waitFor, EVENTUALLY_MS } from './helpers/app.js'

const SECRET = 'Monitor-Secret-9Lp'
t.teardown(stopAllRedis)

t.test('closed while the AUTH check is pending: no state change after it, no line', async (t) => {
  const server = await startRedis({ password: SECRET })
  const [connection] = resolveConfig({ url: server.url }).connections
  const lines: string[] = []
  const log = (_: object, line: string): void => { lines.push(line) }
  const monitor = new ConnectionMonitor(connection as NonNullable<typeof connection>, { info: log, warn: log, error: log }, [SECRET])
  const client = new Redis({ host: '127.0.0.1', port: server.port, password: SECRET, lazyConnect: true, enableReadyCheck: false })
  t.teardown(() => { client.disconnect() })
  monitor.attach(client)
  // The monitor sends its AUTH check on 'connect'; closing right after leaves it pending.
  client.once('connect', () => { monitor.close() })
  t.ok(await waitFor(() => client.status === 'ready', EVENTUALLY_MS))
  await client.ping()
  t.equal(monitor.state.status, 'connecting', 'the check answered after close: nothing reported')
  t.same(lines, [])
})
