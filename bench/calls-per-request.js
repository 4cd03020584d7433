// How many Redis calls, and how many context switches, a request costs each
// variant (issue 14, low concurrency): each variant with its own
// redis-server, one fixed load of `--requests` requests to GET / from one
// client key, then Redis's INFO commandstats (commands per request) and the
// voluntary context switches of the app and of redis-server (each time one
// went to sleep waiting for the other or for the load) from /proc.
//   node bench/calls-per-request.js [--variants status-quo,plugin,floor-batched] [--connections 10] [--requests 50000] [--rounds 2]
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startApp } from './app-process.js'
import { hammer } from './load.js'
import { HOST, killAllRedis, rawCommand, startRedis } from './redis.js'

const { values: args } = parseArgs({
  options: {
    variants: { type: 'string', default: 'status-quo,plugin,floor-batched,floor-count-behind' },
    connections: { type: 'string', default: '10' },
    requests: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '2' },
  },
})

/** Voluntary context switches of `pid` so far. */
function sleeps (pid) {
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
}

/** Calls per command name from INFO commandstats, e.g. { evalsha: 1234, incrby: 10 }. */
async function commandCalls (port) {
  const info = await rawCommand(port, undefined, ['INFO', 'commandstats'])
  const calls = {}
  for (const [, name, n] of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) calls[name] = Number(n)
  return calls
}

const connections = Number(args.connections)
const requests = Number(args.requests)
try {
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const variant of args.variants.split(',')) {
      const redis = await startRedis()
      const boot = await startApp(variant, { redisUrl: `redis://${HOST}:${redis.port}` })
      if (!boot.ok) throw new Error(`${variant} did not boot: ${boot.message}`)
      // A warm-up, then counts from here.
      await hammer(boot.port, { amount: 5000, connections, appPid: boot.app.pid })
      const before = { calls: await commandCalls(redis.port), app: sleeps(boot.app.pid), redis: sleeps(redis.pid) }
      const result = await hammer(boot.port, { amount: requests, connections, appPid: boot.app.pid })
      const calls = await commandCalls(redis.port)
      const perRequest = (n) => (n / result.answered).toFixed(3)
      const counted = Object.entries(calls)
        .filter(([name]) => !['info', 'hello', 'client|setinfo', 'client|setname', 'script|load', 'ping', 'auth'].includes(name))
        .map(([name, n]) => `${name} ${perRequest(n - (before.calls[name] ?? 0))}`)
      console.log(`round ${round}  ${variant.padEnd(20)} ${connections} conn  ${Math.round(result.answeredPerSec)} answered/s  ` +
        `Redis commands per request: ${counted.join(', ')}  ` +
        `sleeps per request: app ${perRequest(sleeps(boot.app.pid) - before.app)}, redis-server ${perRequest(sleeps(redis.pid) - before.redis)}`)
      await boot.app.stop()
      await redis.kill()
    }
  }
} finally {
  killAllRedis()
}
