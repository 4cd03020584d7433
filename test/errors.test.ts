// Unit tests for src/errors.ts and for isRedisUnavailableError (src/unavailable-error.ts).
import { inspect } from 'node:util'
import t from 'tap'
import {
  AlreadyRegisteredError,
  ConflictingSettingsError,
  ERROR_CODES,
  InvalidSettingError,
  isResilientRedisError,
  PasswordFileError,
  PasswordRequiredError,
  RedisUnavailableError,
} from '../src/errors.js'
import { isRedisUnavailableError } from '../src/unavailable-error.js'

t.test('InvalidSettingError', async (t) => {
  const err = new InvalidSettingError('REDIS_PORT', 'must be a number', 'set it to 6379')
  t.ok(err instanceof Error)
  t.ok(err instanceof InvalidSettingError)
  t.equal(err.code, 'FRR_ERR_INVALID_SETTING')
  t.equal(err.statusCode, 500)
  t.equal(err.message, 'REDIS_PORT must be a number; set it to 6379')
  t.equal(err.cause, undefined)
  t.ok(isResilientRedisError(err))
})

t.test('InvalidSettingError with a cause', async (t) => {
  const cause = Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL', input: 'redis://:hunter2@h:x' })
  const err = new InvalidSettingError('REDIS_URL', 'is bad', 'fix it', { cause })
  t.equal(err.message, 'REDIS_URL is bad; fix it', 'the cause is not formatted into the message')
  t.not(err.cause, cause, 'whatever the caller passes, the cause is a copy…')
  t.match(err.cause, { name: 'TypeError', message: 'Invalid URL', code: 'ERR_INVALID_URL' })
  t.notOk('input' in (err.cause as object), '… of name, code and message only')
  t.notMatch(inspect(err, { depth: Infinity, showHidden: true }), /hunter2/)
  t.ok(err instanceof InvalidSettingError)
  t.ok(InvalidSettingError('a', 'b', 'c') instanceof InvalidSettingError, 'callable without new, like any @fastify/error class')
  t.match(err.stack, /^FastifyError: REDIS_URL is bad; fix it\n\s+at /)
  t.notMatch(err.stack, /SafeCauseError/, 'the stack starts at the caller')
})

t.test('ConflictingSettingsError', async (t) => {
  const err = new ConflictingSettingsError('REDIS_URL', 'REDIS_PASSWORD', 'make them equal')
  t.equal(err.code, 'FRR_ERR_CONFLICTING_SETTINGS')
  t.equal(err.statusCode, 500)
  t.equal(err.message, 'REDIS_URL and REDIS_PASSWORD disagree; make them equal')
  t.ok(err instanceof ConflictingSettingsError)
  t.notOk(err instanceof InvalidSettingError, 'classes are distinct')
})

t.test('PasswordRequiredError', async (t) => {
  const err = new PasswordRequiredError('cache', 'set REDIS_PASSWORD')
  t.equal(err.code, 'FRR_ERR_PASSWORD_REQUIRED')
  t.equal(err.statusCode, 500)
  t.equal(err.message, 'Redis connection "cache" has no password, but requirePassword is on (the default when NODE_ENV=production); set REDIS_PASSWORD')
})

t.test('PasswordFileError', async (t) => {
  const err = new PasswordFileError('REDIS_PASSWORD_FILE', '/run/secrets/redis', 'is empty')
  t.equal(err.code, 'FRR_ERR_PASSWORD_FILE')
  t.equal(err.statusCode, 500)
  t.equal(err.message, 'REDIS_PASSWORD_FILE (/run/secrets/redis) is empty; point it at a readable file that holds only the password')
  const cause = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT', path: '/x' })
  const withCause = new PasswordFileError('REDIS_SENTINEL_PASSWORD_FILE', '/x', 'cannot be read (ENOENT)', { cause })
  t.match(withCause.message, /^REDIS_SENTINEL_PASSWORD_FILE \(\/x\) cannot be read/, 'names the variable it was given')
  t.match(withCause.cause, { code: 'ENOENT', message: cause.message })
  t.notOk('path' in (withCause.cause as object), 'a copy without the properties of the fs error')
})

t.test('AlreadyRegisteredError', async (t) => {
  const err = new AlreadyRegisteredError()
  t.equal(err.code, 'FRR_ERR_ALREADY_REGISTERED')
  t.equal(err.statusCode, 500)
  t.match(err.message, /already registered/)
  t.match(err.message, /clients/)
})

t.test('RedisUnavailableError', async (t) => {
  const err = new RedisUnavailableError()
  t.equal(err.code, 'FRR_ERR_REDIS_UNAVAILABLE')
  t.equal(err.statusCode, 503)
  t.equal(err.message, 'Redis is unavailable; try again shortly')
  const cause = new Error('Connection is closed.')
  t.equal(new RedisUnavailableError({ cause }).cause, cause)
})

t.test('ERROR_CODES lists every code exactly once', async (t) => {
  const codes = [
    new InvalidSettingError('a', 'b', 'c').code,
    new ConflictingSettingsError('a', 'b', 'c').code,
    new PasswordRequiredError('a', 'b').code,
    new PasswordFileError('a', 'b', 'c').code,
    new AlreadyRegisteredError().code,
    new RedisUnavailableError().code,
  ]
  t.same([...ERROR_CODES].sort(), [...codes].sort())
  t.equal(new Set(ERROR_CODES).size, ERROR_CODES.length)
  for (const code of ERROR_CODES) t.match(code, /^FRR_ERR_[A-Z_]+$/)
})

t.test('isResilientRedisError', async (t) => {
  t.ok(isResilientRedisError(new InvalidSettingError('a', 'b', 'c')))
  t.ok(isResilientRedisError(new RedisUnavailableError()))
  t.ok(isResilientRedisError(new AlreadyRegisteredError()))
  t.ok(isResilientRedisError(Object.assign(new Error('from another copy'), { code: 'FRR_ERR_PASSWORD_FILE' })), 'keys on the code, not the class')
  t.notOk(isResilientRedisError(new Error('boom')), 'plain Error')
  t.notOk(isResilientRedisError(Object.assign(new Error('x'), { code: 'FST_ERR_VALIDATION' })), 'foreign code')
  t.notOk(isResilientRedisError(Object.assign(new Error('x'), { code: 'FRR_ERR_SOMETHING_ELSE' })), 'unknown FRR code')
  t.notOk(isResilientRedisError(Object.assign(new Error('x'), { code: 1 })), 'non-string code')
  t.notOk(isResilientRedisError({ code: 'FRR_ERR_INVALID_SETTING', message: 'x' }), 'not an Error')
  t.notOk(isResilientRedisError('FRR_ERR_INVALID_SETTING'))
  t.notOk(isResilientRedisError(null))
  t.notOk(isResilientRedisError(undefined))
  t.notOk(isResilientRedisError(42))
})

t.test('instanceof works across copies (keyed on Symbol.for(code))', async (t) => {
  const errorsA = await t.mockImport<typeof import('../src/errors.js')>('../src/errors.js')
  const foreign = new errorsA.InvalidSettingError('a', 'b', 'c')
  t.ok(foreign instanceof InvalidSettingError)
  t.notOk(foreign instanceof ConflictingSettingsError)
  t.ok(new InvalidSettingError('a', 'b', 'c') instanceof errorsA.InvalidSettingError)
})

t.test('isRedisUnavailableError', async (t) => {
  t.test('ioredis messages that mean Redis is unreachable', async (t) => {
    for (const message of [
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Connection is closed.',
      'Command timed out',
      "Socket timeout. Expecting data, but didn't receive any in 1000ms.",
      'Command aborted due to connection close',
      'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
    ]) {
      t.ok(isRedisUnavailableError(new Error(message)), message)
    }
  })

  t.test('error names', async (t) => {
    for (const name of ['MaxRetriesPerRequestError', 'ClusterAllFailedError']) {
      const error = new Error('something')
      error.name = name
      t.ok(isRedisUnavailableError(error), name)
    }
  })

  t.test('server replies that mean it cannot serve now', async (t) => {
    for (const message of [
      'NOAUTH Authentication required.',
      'WRONGPASS invalid username-password pair or user is disabled.',
      'LOADING Redis is loading the dataset in memory',
      'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.',
      'CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      "OOM command not allowed when used memory > 'maxmemory'.",
      "READONLY You can't write against a read only replica.",
      'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.',
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
    ]) {
      const error = new Error(message)
      error.name = 'ReplyError'
      t.ok(isRedisUnavailableError(error), message)
    }
  })

  t.test('our own RedisUnavailableError, and anything with its code', async (t) => {
    t.ok(isRedisUnavailableError(new RedisUnavailableError()))
    t.ok(isRedisUnavailableError(Object.assign(new Error('x'), { code: 'FRR_ERR_REDIS_UNAVAILABLE' })))
  })

  t.test('other errors are not', async (t) => {
    t.notOk(isRedisUnavailableError(new Error('boom')))
    const reply = new Error('ERR wrong number of arguments for \'get\' command')
    reply.name = 'ReplyError'
    t.notOk(isRedisUnavailableError(reply))
    t.notOk(isRedisUnavailableError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')))
    t.notOk(isRedisUnavailableError(new Error('NOAUTHX is not a reply')), 'reply prefixes are whole words')
    t.notOk(isRedisUnavailableError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')), 'an error about one key is not an outage')
    t.notOk(isRedisUnavailableError(new Error('the Connection is closed.')), 'messages are matched at the start')
    t.notOk(isRedisUnavailableError(new InvalidSettingError('a', 'b', 'c')))
  })

  t.test('non-Error values are not', async (t) => {
    t.notOk(isRedisUnavailableError('Connection is closed.'))
    t.notOk(isRedisUnavailableError({ message: 'Connection is closed.' }))
    t.notOk(isRedisUnavailableError({ code: 'FRR_ERR_REDIS_UNAVAILABLE' }))
    t.notOk(isRedisUnavailableError(null))
    t.notOk(isRedisUnavailableError(undefined))
  })
})
