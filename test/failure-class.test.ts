// Unit tests for src/failure-class.ts: classifying ioredis / Node errors into failure classes.
import t from 'tap'
import { RedisUnavailableError } from '../src/errors.js'
import { classifyFailure, FAILURE_CLASSES, isAuthFailure, isTopologyMismatch, keepsKnownFailure, needsConfigChange, type FailureClass } from '../src/failure-class.js'

/** An Error with a Node-style `code`. */
function coded (code: string, message = `connect ${code} 127.0.0.1:6379`): Error {
  return Object.assign(new Error(message), { code })
}

/** An Error as ioredis builds a server reply error. */
function reply (message: string): Error {
  const error = new Error(message)
  error.name = 'ReplyError'
  return error
}

t.test('classifyFailure: replies from Redis 6/7 via ioredis 6', async (t) => {
  const cases: Array<[string, FailureClass]> = [
    ['NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time', 'password-missing'],
    ['NOAUTH Authentication required.', 'password-missing'],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'password-wrong'],
    ['ERR invalid password', 'password-wrong'],
    ['ERR invalid username-password pair', 'password-wrong'],
    ['ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?', 'password-not-required'],
    ['ERR Client sent AUTH, but no password is set', 'password-not-required'],
  ]
  for (const [message, expected] of cases) t.equal(classifyFailure(reply(message)), expected, message)
})

t.test('classifyFailure: timeouts', async (t) => {
  t.equal(classifyFailure(new Error('Command timed out')), 'hanging')
  t.equal(classifyFailure(new Error("Socket timeout. Expecting data, but didn't receive any in 1000ms.")), 'hanging')
  t.equal(classifyFailure(coded('ETIMEDOUT', 'connect ETIMEDOUT')), 'hanging')
})

t.test('classifyFailure: network error codes', async (t) => {
  const cases: Array<[string, FailureClass]> = [
    ['ECONNREFUSED', 'refused'],
    ['ETIMEDOUT', 'hanging'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['EAI_NONAME', 'dns'],
    ['ECONNRESET', 'connection-lost'],
    ['EPIPE', 'connection-lost'],
    ['EPROTO', 'tls'],
  ]
  for (const [code, expected] of cases) t.equal(classifyFailure(coded(code)), expected, code)
  t.equal(classifyFailure(coded('ENOTFOUND', 'getaddrinfo ENOTFOUND redis')), 'dns')
})

t.test('classifyFailure: TLS', async (t) => {
  t.equal(classifyFailure(coded('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames")), 'tls')
  t.equal(classifyFailure(coded('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')), 'tls')
  t.equal(classifyFailure(coded('CERT_HAS_EXPIRED', 'certificate has expired')), 'tls')
  t.equal(classifyFailure(coded('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number')), 'tls')
  t.equal(classifyFailure(new Error('write EPROTO 0020:error:0A00010B:SSL routines:ssl3_get_record:wrong version number')), 'tls', 'SSL in the message')
  t.equal(classifyFailure(new Error('Client network socket disconnected before secure TLS connection was established')), 'tls', 'TLS in the message')
  t.equal(classifyFailure(new Error('bad tls handshake')), 'tls', 'any case')
  t.equal(classifyFailure(new Error('a TLSv1 word is not the word TLS... or is it')), 'tls')
  t.equal(classifyFailure(new Error('CLUSTERED SSLX')), 'other', 'TLS/SSL must be whole words')
})

t.test('classifyFailure: connection closed', async (t) => {
  t.equal(classifyFailure(new Error('Connection is closed.')), 'connection-lost')
  // Sent after a connection was dropped and before ioredis saw it close (a Sentinel failover drops it on purpose).
  t.equal(classifyFailure(new Error("Stream isn't writeable and enableOfflineQueue options is false")), 'connection-lost')
})

t.test('classifyFailure: anything else', async (t) => {
  t.equal(classifyFailure(new Error('boom')), 'other')
  t.equal(classifyFailure(reply("ERR wrong number of arguments for 'get' command")), 'other')
  t.equal(classifyFailure(coded('EWHATEVER')), 'other', 'unknown code')
  t.equal(classifyFailure(Object.assign(new Error('x'), { code: 111 })), 'other', 'non-string code')
  t.equal(classifyFailure(new Error('Command timed out.')), 'other', 'the timeout message is matched exactly')
  t.equal(classifyFailure(null), 'other')
  t.equal(classifyFailure(undefined), 'other')
  t.equal(classifyFailure(42), 'other')
})

t.test('classifyFailure: non-Error values', async (t) => {
  t.equal(classifyFailure('NOAUTH Authentication required.'), 'password-missing', 'a string is read as the message')
  t.equal(classifyFailure('Connection is closed.'), 'connection-lost')
  t.equal(classifyFailure({ code: 'ECONNREFUSED' }), 'refused', 'an error-like object with a code')
  t.equal(classifyFailure({ message: 'NOAUTH' }), 'other', 'an object is not read as a message')
})

t.test('classifyFailure: reply case does not matter', async (t) => {
  t.equal(classifyFailure(new Error('noauth authentication required')), 'password-missing')
  t.equal(classifyFailure(new Error('wrongpass invalid username-password pair')), 'password-wrong')
})

t.test('isAuthFailure', async (t) => {
  const all: FailureClass[] = ['refused', 'hanging', 'connection-lost', 'password-missing', 'password-wrong', 'password-not-required', 'dns', 'tls', 'other']
  const auth = all.filter(isAuthFailure)
  t.same(auth, ['password-missing', 'password-wrong', 'password-not-required'])
})

// The words for each class (summary, hint, fixes, step line): test/doctor-words.test.ts.

t.test('classifyFailure: replies of a server that is up but will not serve, by their first word', async (t) => {
  const cases: Array<[string, string]> = [
    ["OOM command not allowed when used memory > 'maxmemory'.", 'out-of-memory'],
    ["READONLY You can't write against a read only replica.", 'read-only'],
    ["NOPERM this user has no permissions to run the 'evalsha' command", 'no-permission'],
    ['NOPERM this user has no permissions to access one of the keys used as arguments', 'no-permission'],
    // Redis 7 inside a script, where redis.call meets a command the ACL denies.
    ["ERR The user executing the script can't run this command or subcommand script: 5f1c…, on @user_script:1.", 'no-permission'],
    ["MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", 'not-persisting'],
    ['LOADING Redis is loading the dataset in memory', 'loading'],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.', 'busy'],
  ]
  for (const [message, expected] of cases) t.equal(classifyFailure(reply(message)), expected, message)
  t.equal(classifyFailure(reply('ERR OOM is mentioned later')), 'other', 'the word must come first')
  t.equal(classifyFailure(reply('BUSYKEY Target key name already exists.')), 'other', 'whole words only')
})

t.test('classifyFailure: a cluster node or a sentinel reached as one server', async (t) => {
  const cases: Array<[string, FailureClass]> = [
    ['MOVED 15495 127.0.0.1:40977', 'cluster-node'],
    ['ASK 3999 127.0.0.1:7001', 'cluster-node'],
    ["CROSSSLOT Keys in request don't hash to the same slot", 'cluster-node'],
    ['ERR SELECT is not allowed in cluster mode', 'cluster-node'],
    // As ioredis sends them (lower case) and as redis-cli does.
    ["ERR unknown command 'get', with args beginning with: 'a' ", 'sentinel-port'],
    ["ERR unknown command 'EVALSHA', with args beginning with: 'abc' '0' ", 'sentinel-port'],
    ["ERR unknown command 'select', with args beginning with: '1' ", 'sentinel-port'],
    // A command the server lacks (a module's), or a word that only starts like one: the app's own matter.
    ["ERR unknown command 'JSON.GET', with args beginning with: 'k' ", 'other'],
    ["ERR unknown command 'getx', with args beginning with: ", 'other'],
    ['MOVEDX 1 2', 'other'],
    ['ERR Error running script: MOVED', 'other'],
  ]
  for (const [message, expected] of cases) t.equal(classifyFailure(reply(message)), expected, message)
})

t.test('classifyFailure: a lookup whose connection was never made is refused, wherever the message comes from', async (t) => {
  t.equal(classifyFailure(new Error('All sentinels are unreachable. Retrying from scratch after 25ms. Last error: Connection is closed.')), 'refused')
  t.equal(classifyFailure(Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: new Error('Connection is closed.') })), 'refused')
  t.equal(classifyFailure(Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: new Error('Command timed out') })), 'hanging')
  t.equal(classifyFailure(new Error('All sentinels are unreachable. Retrying from scratch after 25ms. Last error: Command timed out')), 'hanging')
  // Any other error that carries a last node error is classified by it as it is: a closed connection was lost.
  t.equal(classifyFailure(Object.assign(new Error('Too many Cluster redirections.'), { lastNodeError: new Error('Connection is closed.') })), 'connection-lost')
  t.equal(classifyFailure(new Error('Connection is closed.')), 'connection-lost')
})

t.test('isTopologyMismatch and needsConfigChange', async (t) => {
  t.same(FAILURE_CLASSES.filter(isTopologyMismatch), ['cluster-node', 'sentinel-port'])
  t.same(FAILURE_CLASSES.filter(needsConfigChange), ['password-missing', 'password-wrong', 'password-not-required', 'cluster-node', 'sentinel-port'])
})

t.test('classifyFailure: a reply the plugin wrapped as RedisUnavailableError is classified by the reply', async (t) => {
  t.equal(classifyFailure(new RedisUnavailableError({ cause: reply("CROSSSLOT Keys in request don't hash to the same slot") })), 'cluster-node')
  t.equal(classifyFailure(new RedisUnavailableError()), 'other', 'without a cause, nothing to tell')
})

t.test('keepsKnownFailure: a connection closed during a known outage says nothing new; anything else is newer', async (t) => {
  t.equal(keepsKnownFailure('hanging', 'connection-lost'), true)
  t.equal(keepsKnownFailure('hanging', 'refused'), false)
  t.equal(keepsKnownFailure(undefined, 'connection-lost'), false, 'a first failure is what it is')
})
