// The throughput scenarios of `npm run bench`, each run for every variant.
import { VARIANTS } from './app-process.js'

export const OUTAGES = ['refused', 'hanging', 'password-missing']
/** The cluster scenarios (issue 13, item 8): this package and the status quo, on 3 masters and on one server, interleaved. */
const CLUSTER_VARIANTS = ['status-quo', 'status-quo~cluster', 'plugin', 'plugin~cluster']

/**
 * healthy: Redis up, nothing refused (max 10⁹ a minute): GET / under the
 * global limit and GET /own with a config.rateLimit of its own; one client
 * key (127.0.0.1) or 50 (one X-Forwarded-For per connection); 10 and 50
 * connections. abusive: one client (one X-Forwarded-For) at 100 × its max,
 * Redis up. outages: Redis killed, SIGSTOPped, or requiring a password the
 * app lacks. cluster: healthy on a 3-master cluster beside one server.
 */
export function scenarioList ({ connections = [10, 50], outageConnections = 50, abuseMax = 400 } = {}) {
  const list = []
  for (const [route, path] of [['global', '/'], ['own', '/own']]) {
    for (const clients of [1, 50]) {
      for (const c of connections) list.push({ id: `healthy ${route} ${clients}key ${c}c`, kind: 'healthy', path, clients, connections: c })
    }
  }
  // A window longer than the run: exactly one window, so exactly max admitted.
  for (const c of connections) list.push({ id: `abusive ${c}c`, kind: 'abusive', path: '/', clients: 1, connections: c, max: abuseMax, windowMs: 600_000 })
  for (const fault of OUTAGES) list.push({ id: `${fault} ${outageConnections}c`, kind: 'outage', fault, path: '/', clients: 1, connections: outageConnections })
  for (const clients of [1, 50]) list.push({ id: `cluster ${clients}key 50c`, kind: 'cluster', path: '/', clients, connections: 50, variants: CLUSTER_VARIANTS })
  return list
}

export const variantsOf = (scenario) => scenario.variants ?? VARIANTS
