// Unit tests for src/redis-url.ts: URL parsing, number/flag parsing, display strings.
import t, { type Test } from 'tap'
import { describeConnection, parseDb, parseFlag, parsePort, parseRedisUrl } from '../src/config/redis-url.js'

type CodedError = Error & { code?: string; cause?: unknown }

function throwsCode (t: Test, fn: () => unknown, code: string): CodedError {
  const error = t.throws(fn, { code })
  return error instanceof Error ? error : new Error('(did not throw)')
}

t.test('parseRedisUrl', async (t) => {
  t.test('a full URL', async (t) => {
    t.strictSame(parseRedisUrl('redis://alice:s3cret@redis.example.com:6380/2', 'REDIS_URL'), {
      host: 'redis.example.com',
      port: 6380,
      db: 2,
      username: 'alice',
      password: 's3cret',
      tls: false,
    })
  })

  t.test('fields the URL does not state are undefined', async (t) => {
    t.strictSame(parseRedisUrl('redis://h', 'REDIS_URL'), {
      host: 'h', port: undefined, db: undefined, username: undefined, password: undefined, tls: false,
    })
    t.equal(parseRedisUrl('redis://h/', 'REDIS_URL').db, undefined, 'a bare slash is no db')
  })

  t.test('rediss:// is TLS', async (t) => {
    t.equal(parseRedisUrl('rediss://h', 'REDIS_URL').tls, true)
  })

  t.test('scheme is case-insensitive', async (t) => {
    t.equal(parseRedisUrl('REDIS://h', 'REDIS_URL').host, 'h')
  })

  t.test('password only', async (t) => {
    const url = parseRedisUrl('redis://:pw@h', 'REDIS_URL')
    t.equal(url.username, undefined)
    t.equal(url.password, 'pw')
  })

  t.test('username only', async (t) => {
    const url = parseRedisUrl('redis://alice@h', 'REDIS_URL')
    t.equal(url.username, 'alice')
    t.equal(url.password, undefined)
  })

  t.test('percent-encoded credentials are decoded', async (t) => {
    const url = parseRedisUrl('redis://al%20ice:p%40ss%3Aw%2Ford@h', 'REDIS_URL')
    t.equal(url.username, 'al ice')
    t.equal(url.password, 'p@ss:w/ord')
  })

  t.test('invalid percent-encoding is kept as written', async (t) => {
    const url = parseRedisUrl('redis://u%zz:p%zz@h', 'REDIS_URL')
    t.equal(url.username, 'u%zz')
    t.equal(url.password, 'p%zz')
  })

  t.test('IPv6 host loses its brackets', async (t) => {
    const url = parseRedisUrl('redis://[::1]:6380/1', 'REDIS_URL')
    t.equal(url.host, '::1')
    t.equal(url.port, 6380)
    t.equal(url.db, 1)
  })

  t.test('a query string is ignored', async (t) => {
    t.equal(parseRedisUrl('redis://h:6379/3?family=6', 'REDIS_URL').db, 3)
  })

  t.test("not a URL: names the setting, shows the scheme only, keeps a safe copy of Node's error", async (t) => {
    const err = throwsCode(t, () => parseRedisUrl('redis://:hunter2@/0', 'REDIS_URL'), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^REDIS_URL is not a valid URL \(got "redis:\/\/\*\*\*"\)/)
    t.match(err.message, /use redis:\/\/\[\[username\]:password@\]host\[:port\]\[\/db\], or rediss:\/\/ for TLS/)
    t.notMatch(err.message, /hunter2/)
    t.match(err.cause, { name: 'TypeError', message: 'Invalid URL', code: 'ERR_INVALID_URL' })
    t.notOk('input' in (err.cause as object), "not Node's error itself, whose input holds the URL")
  })

  t.test('a URL that parses without a host shows the scheme only (the password sits in its path)', async (t) => {
    for (const value of ['redis:/:hunter2@h:6379', 'redis:hunter2@h', 'redis:///:hunter2@h']) {
      const err = throwsCode(t, () => parseRedisUrl(value, 'REDIS_URL'), 'FRR_ERR_INVALID_SETTING')
      t.match(err.message, /^REDIS_URL has no host \(got "redis:\/\/\*\*\*"\)/, value)
    }
  })

  t.test('a bad db path is shown unless it holds a password', async (t) => {
    const err = throwsCode(t, () => parseRedisUrl('redis://:hunter2@h/hunter2', 'REDIS_URL'), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^the database in REDIS_URL must be a whole number from 0 \(got a value that holds a configured password, not shown\)/)
    const other = throwsCode(t, () => parseRedisUrl('redis://h/x-s3cret', 'REDIS_URL', ['s3cret']), 'FRR_ERR_INVALID_SETTING')
    t.match(other.message, /\(got a value that holds a configured password, not shown\)/, 'a password configured elsewhere')
  })

  t.test('not a URL at all', async (t) => {
    const err = throwsCode(t, () => parseRedisUrl('cache host with spaces', 'clients.cache.url'), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^clients\.cache\.url is not a valid URL \(got "\/\/\*\*\*"\)/)
  })

  t.test('host:port without a scheme reads as a wrong scheme', async (t) => {
    const err = throwsCode(t, () => parseRedisUrl('localhost:6379', 'REDIS_URL'), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^REDIS_URL must start with redis:\/\/ or rediss:\/\/ \(got "localhost:\/\/"\)/)
  })

  t.test('a port beyond 65535 is not a valid URL', async (t) => {
    const err = throwsCode(t, () => parseRedisUrl('redis://h:70000', 'REDIS_URL'), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /REDIS_URL is not a valid URL/)
  })

  t.test('wrong scheme', async (t) => {
    const err = throwsCode(t, () => parseRedisUrl('http://user:pw@h:6379', 'REDIS_URL'), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^REDIS_URL must start with redis:\/\/ or rediss:\/\/ \(got "http:\/\/"\)/)
    t.notMatch(err.message, /pw/)
  })

  t.test('no host', async (t) => {
    for (const value of ['redis:///0', 'redis://', 'redis:localhost']) {
      const err = throwsCode(t, () => parseRedisUrl(value, 'REDIS_URL'), 'FRR_ERR_INVALID_SETTING')
      t.match(err.message, /^REDIS_URL has no host/, value)
    }
  })

  t.test('a bad db path names the database in the setting', async (t) => {
    for (const value of ['redis://h/x', 'redis://h/1/2', 'redis://h/-1']) {
      const err = throwsCode(t, () => parseRedisUrl(value, 'REDIS_URL'), 'FRR_ERR_INVALID_SETTING')
      t.match(err.message, /^the database in REDIS_URL must be a whole number from 0/, value)
    }
  })
})

t.test('parsePort', async (t) => {
  t.equal(parsePort(6379, 'p'), 6379)
  t.equal(parsePort('6379', 'p'), 6379)
  t.equal(parsePort(' 6380 ', 'p'), 6380)
  t.equal(parsePort('1', 'p'), 1)
  t.equal(parsePort(65535, 'p'), 65535)
  for (const bad of [0, -1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 'abc', '', '0', '65536', '-5', '6379.0', '1e3', '0x10']) {
    const err = throwsCode(t, () => parsePort(bad, 'REDIS_PORT'), 'FRR_ERR_INVALID_SETTING')
    t.equal(err.message, `REDIS_PORT must be a whole number from 1 to 65535 (got "${String(bad)}"); set it to the port Redis listens on, usually 6379`)
  }
})

t.test('parseDb', async (t) => {
  t.equal(parseDb(0, 'd'), 0)
  t.equal(parseDb('0', 'd'), 0)
  t.equal(parseDb(' 15 ', 'd'), 15)
  t.equal(parseDb(16, 'd'), 16, 'no upper bound: servers may configure more databases')
  for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, 'x', '', '-1', '1.5', '99999999999999999999']) {
    const err = throwsCode(t, () => parseDb(bad, 'REDIS_DB'), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^REDIS_DB must be a whole number from 0 \(got ".*"\); set it to a database index such as 0/)
  }
})

t.test('parseFlag', async (t) => {
  for (const on of ['true', '1', 'yes', 'on', 'TRUE', 'Yes', ' on ']) t.equal(parseFlag(on, 'F'), true, on)
  for (const off of ['false', '0', 'no', 'off', 'False', 'NO', ' off\n']) t.equal(parseFlag(off, 'F'), false, off)
  for (const bad of ['', 'maybe', '2', 'y', 'enabled']) {
    const err = throwsCode(t, () => parseFlag(bad, 'REDIS_TLS'), 'FRR_ERR_INVALID_SETTING')
    t.equal(err.message, `REDIS_TLS must be true or false (got "${bad}"); use true/false, 1/0, yes/no or on/off`)
  }
})

t.test('describeConnection', async (t) => {
  const base = { host: 'h', port: 6379, db: 0, tls: undefined }
  t.equal(describeConnection(base), 'redis://h:6379/0')
  t.equal(describeConnection({ ...base, username: undefined, password: undefined }), 'redis://h:6379/0')
  t.equal(describeConnection({ ...base, username: 'alice' }), 'redis://alice@h:6379/0', 'username only')
  t.equal(describeConnection({ ...base, username: 'alice', password: 's3cret' }), 'redis://alice:***@h:6379/0')
  t.equal(describeConnection({ ...base, password: 's3cret' }), 'redis://:***@h:6379/0')
  t.equal(describeConnection({ ...base, username: 'a@b', password: 'x' }), 'redis://a%40b:***@h:6379/0', 'username is encoded')
  t.equal(describeConnection({ ...base, host: '::1' }), 'redis://[::1]:6379/0', 'IPv6 in brackets')
  t.equal(describeConnection({ ...base, tls: {} }), 'rediss://h:6379/0')
  t.equal(describeConnection({ ...base, tls: true }), 'rediss://h:6379/0')
  t.equal(describeConnection({ ...base, port: 6380, db: 3 }), 'redis://h:6380/3')
  t.notMatch(describeConnection({ ...base, password: 's3cret' }), /s3cret/)
})
