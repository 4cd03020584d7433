// Unit tests for src/connection/server-mode.ts: the `mode` of a HELLO reply in each shape a client
// may hand it over (RESP2 array, RESP3 map as an object or a Map), and what a mode means for settings
// of one server. The real replies of a cluster node, a sentinel and a standalone server are met in
// test/misconfigured-topology.test.ts.
import t from 'tap'
import { mismatchError, modeOfHello, topologyMismatch } from '../src/connection/server-mode.js'

t.test('modeOfHello reads mode from every shape of the reply', async (t) => {
  t.equal(modeOfHello(['server', 'redis', 'version', '7.0.15', 'proto', 3, 'id', 5, 'mode', 'cluster', 'role', 'master', 'modules', []]), 'cluster')
  t.equal(modeOfHello(['server', 'valkey', 'mode', Buffer.from('sentinel')]), 'sentinel', 'a Buffer value')
  t.equal(modeOfHello({ server: 'redis', mode: 'standalone' }), 'standalone')
  t.equal(modeOfHello(new Map([['mode', 'sentinel']])), 'sentinel')
  t.equal(modeOfHello(['role', 'mode', 'x', 'y']), undefined, 'a value that happens to be "mode" is no name')
  t.equal(modeOfHello(['server', 'redis']), undefined, 'no mode')
  t.equal(modeOfHello({ mode: 'replica-of-something' }), undefined, 'an unknown mode')
  t.equal(modeOfHello('OK'), undefined)
  t.equal(modeOfHello(null), undefined)
})

t.test('topologyMismatch: only a cluster node or a sentinel is the wrong kind for one server', async (t) => {
  t.equal(topologyMismatch('cluster'), 'cluster-node')
  t.equal(topologyMismatch('sentinel'), 'sentinel-port')
  t.equal(topologyMismatch('standalone'), undefined)
  t.equal(topologyMismatch(undefined), undefined)
  t.equal(mismatchError('cluster').message, 'the server answers HELLO with mode "cluster", not "standalone"')
})
