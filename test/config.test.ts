// Unit tests for the pure configuration resolver (src/config.ts) and the
// client-name helpers it relies on (src/client-names.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { assertClientName, clientNamesFromEnv, clientUrlVariable, DEFAULT_CLIENT } from '../src/config/client-names.js'
import { resolveConfig, type ConfigInput, type ResolvedConnection } from '../src/config/index.js'

type CodedError = Error & { code?: string; cause?: unknown }

/** Asserts that `fn` throws an error with `code` and returns that error for further checks. */
function throwsCode (t: Test, fn: () => unknown, code: string): CodedError {
  const error = t.throws(fn, { code })
  return error instanceof Error ? error : new Error('(did not throw)')
}

/** The default connection of a resolved config. */
function main (input: ConfigInput = {}): ResolvedConnection {
  const connection = resolveConfig(input).connections[0]
  if (connection === undefined) throw new Error('no default connection')
  return connection
}

/** A named connection of a resolved config. */
function named (input: ConfigInput, name: string): ResolvedConnection {
  const connection = resolveConfig(input).connections.find((c) => c.name === name)
  if (connection === undefined) throw new Error(`no connection named ${name}`)
  return connection
}

const dir = mkdtempSync(join(tmpdir(), 'frr-config-test-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let fileCount = 0
/** Writes a temporary password file and returns its path. */
function passwordFile (content: string): string {
  const path = join(dir, `password-${++fileCount}`)
  writeFileSync(path, content)
  return path
}

t.test('defaults', async (t) => {
  const config = resolveConfig()
  t.same(config, {
    requirePassword: false,
    connections: [{
      name: 'default',
      host: 'localhost',
      port: 6379,
      db: 0,
      username: undefined,
      password: undefined,
      tls: undefined,
      passwordFrom: undefined,
      locatedBy: 'defaults',
      display: 'redis://localhost:6379/0',
      role: 'command',
      topology: { kind: 'single' },
    }],
  })
  t.strictSame(resolveConfig({ env: {} }), config, 'an empty env gives the same defaults')
  t.equal(resolveConfig({ env: { REDIS_DB: '4' } }).connections[0]?.locatedBy, 'defaults', 'a db alone does not locate the server')
})

t.test('the function never reads process.env', async (t) => {
  const saved = process.env.REDIS_URL
  process.env.REDIS_URL = 'redis://from-process-env:1234'
  t.teardown(() => {
    if (saved === undefined) delete process.env.REDIS_URL
    else process.env.REDIS_URL = saved
  })
  t.equal(main().host, 'localhost')
})

t.test('REDIS_URL', async (t) => {
  t.test('host, port and db path', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://redis.internal:6380/3' } })
    t.equal(c.host, 'redis.internal')
    t.equal(c.port, 6380)
    t.equal(c.db, 3)
    t.equal(c.password, undefined)
    t.equal(c.tls, undefined)
    t.equal(c.locatedBy, 'REDIS_URL')
    t.equal(c.display, 'redis://redis.internal:6380/3')
  })

  t.test('without port or db takes the defaults', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://redis.internal' } })
    t.equal(c.port, 6379)
    t.equal(c.db, 0)
  })

  t.test('with a password', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://:s3cret@h:6379/0' } })
    t.equal(c.password, 's3cret')
    t.equal(c.username, undefined)
    t.equal(c.passwordFrom, 'REDIS_URL')
    t.equal(c.display, 'redis://:***@h:6379/0')
    t.notMatch(c.display, /s3cret/)
  })

  t.test('with a username and password (ACL)', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://alice:s3cret@h:6379/0' } })
    t.equal(c.username, 'alice')
    t.equal(c.password, 's3cret')
    t.equal(c.display, 'redis://alice:***@h:6379/0')
  })

  t.test('with a username only takes REDIS_PASSWORD', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://alice@h', REDIS_PASSWORD: 'pw' } })
    t.equal(c.username, 'alice')
    t.equal(c.password, 'pw')
    t.equal(c.passwordFrom, 'REDIS_PASSWORD')
  })

  t.test('IPv6 host', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://[::1]:6380/1' } })
    t.equal(c.host, '::1')
    t.equal(c.port, 6380)
    t.equal(c.display, 'redis://[::1]:6380/1')
  })

  t.test('percent-encoded password is decoded', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://:p%40ss@h' } })
    t.equal(c.password, 'p@ss')
  })

  t.test('percent-encoded password equal to REDIS_PASSWORD is no conflict', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://:p%40ss@h', REDIS_PASSWORD: 'p@ss' } })
    t.equal(c.password, 'p@ss')
    t.equal(c.passwordFrom, 'REDIS_URL')
  })

  t.test('invalid percent-encoding is kept as written', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://:p%zz@h' } })
    t.equal(c.password, 'p%zz')
  })

  t.test('rediss:// means TLS', async (t) => {
    const c = main({ env: { REDIS_URL: 'rediss://h:6380' } })
    t.same(c.tls, {})
    t.equal(c.display, 'rediss://h:6380/0')
  })

  t.test('rediss:// with REDIS_TLS=true agrees', async (t) => {
    t.same(main({ env: { REDIS_URL: 'rediss://h', REDIS_TLS: 'true' } }).tls, {})
  })

  t.test('rediss:// with REDIS_TLS=false is a conflict', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'rediss://h', REDIS_TLS: 'false' } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_URL/)
    t.match(err.message, /REDIS_TLS/)
  })

  t.test('redis:// with REDIS_TLS=true uses TLS (the URL does not say "no TLS")', async (t) => {
    t.same(main({ env: { REDIS_URL: 'redis://h', REDIS_TLS: 'true' } }).tls, {})
  })

  t.test('same password in REDIS_PASSWORD is fine', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://:same@h', REDIS_PASSWORD: 'same' } })
    t.equal(c.password, 'same')
  })

  t.test('different password in REDIS_PASSWORD is an error that never shows either', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'redis://:urlSecret@h', REDIS_PASSWORD: 'envSecret' } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_URL/)
    t.match(err.message, /REDIS_PASSWORD/)
    t.notMatch(err.message, /urlSecret/)
    t.notMatch(err.message, /envSecret/)
  })

  t.test('URL without password takes REDIS_PASSWORD', async (t) => {
    const c = main({ env: { REDIS_URL: 'redis://h', REDIS_PASSWORD: 'pw' } })
    t.equal(c.password, 'pw')
    t.equal(c.passwordFrom, 'REDIS_PASSWORD')
    t.equal(c.display, 'redis://:***@h:6379/0')
  })

  t.test('URL without port takes REDIS_PORT; URL port and REDIS_PORT must agree', async (t) => {
    t.equal(main({ env: { REDIS_URL: 'redis://h', REDIS_PORT: '6390' } }).port, 6390)
    t.equal(main({ env: { REDIS_URL: 'redis://h:6390', REDIS_PORT: '6390' } }).port, 6390)
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'redis://h:6390', REDIS_PORT: '6391' } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_URL and REDIS_PORT/)
  })

  t.test('URL host and REDIS_HOST disagree', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'redis://a', REDIS_HOST: 'b' } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_URL and REDIS_HOST disagree/)
  })

  t.test('URL db and REDIS_DB disagree', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'redis://a/1', REDIS_DB: '2' } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_URL and REDIS_DB disagree/)
  })

  t.test('URL username and REDIS_USERNAME disagree', async (t) => {
    t.equal(main({ env: { REDIS_URL: 'redis://alice@a', REDIS_USERNAME: 'alice' } }).username, 'alice')
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'redis://alice@a', REDIS_USERNAME: 'bob' } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_URL and REDIS_USERNAME disagree/)
  })

  t.test('an unparsable REDIS_URL names the variable and hides the password', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'redis://:hunter2@/0' } }), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^REDIS_URL is not a valid URL/)
    t.notMatch(err.message, /hunter2/)
  })

  t.test('a REDIS_URL with the wrong scheme', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'http://h:6379' } }), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /REDIS_URL must start with redis:\/\/ or rediss:\/\//)
  })

  t.test('an empty REDIS_URL counts as unset', async (t) => {
    const c = main({ env: { REDIS_URL: '', REDIS_HOST: 'h' } })
    t.equal(c.host, 'h')
    t.equal(c.locatedBy, 'REDIS_HOST')
  })
})

t.test('REDIS_PASSWORD', async (t) => {
  t.test('sets the password', async (t) => {
    const c = main({ env: { REDIS_PASSWORD: 'pw' } })
    t.equal(c.password, 'pw')
    t.equal(c.passwordFrom, 'REDIS_PASSWORD')
  })

  t.test('empty means no password', async (t) => {
    const c = main({ env: { REDIS_PASSWORD: '' } })
    t.equal(c.password, undefined)
    t.equal(c.passwordFrom, undefined)
  })

  t.test('empty with a URL password keeps the URL password', async (t) => {
    t.equal(main({ env: { REDIS_URL: 'redis://:u@h', REDIS_PASSWORD: '' } }).password, 'u')
  })

  t.test('REDIS_USERNAME sets the ACL user, empty counts as unset', async (t) => {
    const c = main({ env: { REDIS_USERNAME: 'alice', REDIS_PASSWORD: 'pw' } })
    t.equal(c.username, 'alice')
    t.equal(c.display, 'redis://alice:***@localhost:6379/0')
    t.equal(main({ env: { REDIS_USERNAME: '' } }).username, undefined)
  })
})

t.test('REDIS_HOST / REDIS_PORT / REDIS_DB', async (t) => {
  t.test('all three', async (t) => {
    const c = main({ env: { REDIS_HOST: 'cache.local', REDIS_PORT: '6380', REDIS_DB: '5' } })
    t.equal(c.host, 'cache.local')
    t.equal(c.port, 6380)
    t.equal(c.db, 5)
    t.equal(c.locatedBy, 'REDIS_HOST')
    t.equal(c.display, 'redis://cache.local:6380/5')
  })

  t.test('a port alone locates the server', async (t) => {
    const c = main({ env: { REDIS_PORT: '6380' } })
    t.equal(c.host, 'localhost')
    t.equal(c.locatedBy, 'REDIS_PORT')
  })

  t.test('REDIS_PORT with surrounding spaces is trimmed', async (t) => {
    t.equal(main({ env: { REDIS_PORT: ' 6380 ' } }).port, 6380)
  })

  for (const bad of ['abc', '0', '70000', '65536', '-1', '63.5', '6379x', ' ']) {
    t.test(`REDIS_PORT ${JSON.stringify(bad)} is an error`, async (t) => {
      const err = throwsCode(t, () => resolveConfig({ env: { REDIS_PORT: bad } }), 'FRR_ERR_INVALID_SETTING')
      t.match(err.message, /^REDIS_PORT must be a whole number from 1 to 65535/)
      t.match(err.message, /6379/, 'says what to do')
    })
  }

  t.test('REDIS_PORT 1 and 65535 are the bounds', async (t) => {
    t.equal(main({ env: { REDIS_PORT: '1' } }).port, 1)
    t.equal(main({ env: { REDIS_PORT: '65535' } }).port, 65535)
  })

  for (const bad of ['-1', 'x', '1.5', '99999999999999999999']) {
    t.test(`REDIS_DB ${JSON.stringify(bad)} is an error`, async (t) => {
      const err = throwsCode(t, () => resolveConfig({ env: { REDIS_DB: bad } }), 'FRR_ERR_INVALID_SETTING')
      t.match(err.message, /^REDIS_DB must be a whole number from 0/)
    })
  }

  t.test('REDIS_DB 0 and 15', async (t) => {
    t.equal(main({ env: { REDIS_DB: '0' } }).db, 0)
    t.equal(main({ env: { REDIS_DB: '15' } }).db, 15)
  })

  t.test('empty values count as unset', async (t) => {
    const c = main({ env: { REDIS_HOST: '', REDIS_PORT: '', REDIS_DB: '' } })
    t.equal(c.host, 'localhost')
    t.equal(c.port, 6379)
    t.equal(c.db, 0)
    t.equal(c.locatedBy, 'defaults')
  })
})

t.test('REDIS_TLS', async (t) => {
  for (const on of ['true', '1', 'yes', 'on', 'TRUE', ' Yes ']) {
    t.test(`${JSON.stringify(on)} turns TLS on`, async (t) => {
      const c = main({ env: { REDIS_TLS: on } })
      t.same(c.tls, {})
      t.match(c.display, /^rediss:\/\//)
    })
  }
  for (const off of ['false', '0', 'no', 'off', 'OFF']) {
    t.test(`${JSON.stringify(off)} leaves TLS off`, async (t) => {
      const c = main({ env: { REDIS_TLS: off } })
      t.equal(c.tls, undefined)
      t.match(c.display, /^redis:\/\//)
    })
  }
  t.test('garbage is an error', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_TLS: 'maybe' } }), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^REDIS_TLS must be true or false \(got "maybe"\)/)
  })
  t.test('empty counts as unset', async (t) => {
    t.equal(main({ env: { REDIS_TLS: '' } }).tls, undefined)
  })
})

t.test('REDIS_PASSWORD_FILE', async (t) => {
  t.test('trailing \\n is trimmed', async (t) => {
    const path = passwordFile('from-file\n')
    const c = main({ env: { REDIS_PASSWORD_FILE: path } })
    t.equal(c.password, 'from-file')
    t.equal(c.passwordFrom, 'REDIS_PASSWORD_FILE')
  })

  t.test('trailing \\r\\n is trimmed', async (t) => {
    t.equal(main({ env: { REDIS_PASSWORD_FILE: passwordFile('from-file\r\n') } }).password, 'from-file')
  })

  t.test('no trailing newline, and inner spaces kept', async (t) => {
    t.equal(main({ env: { REDIS_PASSWORD_FILE: passwordFile(' a b ') } }).password, ' a b ')
  })

  t.test('an empty file is an error', async (t) => {
    const path = passwordFile('')
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_PASSWORD_FILE: path } }), 'FRR_ERR_PASSWORD_FILE')
    t.match(err.message, /REDIS_PASSWORD_FILE/)
    t.match(err.message, /is empty/)
    t.ok(err.message.includes(path), 'names the path')
  })

  t.test('a file holding only a newline is empty', async (t) => {
    throwsCode(t, () => resolveConfig({ env: { REDIS_PASSWORD_FILE: passwordFile('\n') } }), 'FRR_ERR_PASSWORD_FILE')
  })

  t.test('a missing file is an error with the fs error as cause', async (t) => {
    const path = join(dir, 'does-not-exist')
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_PASSWORD_FILE: path } }), 'FRR_ERR_PASSWORD_FILE')
    t.match(err.message, /REDIS_PASSWORD_FILE/)
    t.match(err.message, /cannot be read \(ENOENT\)/)
    t.match(err.message, /point it at a readable file/)
    t.match(err.cause, { code: 'ENOENT', message: /^ENOENT: no such file or directory, open '\*\*\*'$/ })
    t.notOk('path' in (err.cause as object), "a copy of the fs error, without the path property")
  })

  t.test('a read error without an errno code says "unknown error"', async (t) => {
    const failure = new Error('disk on fire')
    // The file is read in password-sources.js: the function resolveConfig calls for it, with fs mocked.
    const mocked = await t.mockImport<typeof import('../src/config/password-sources.js')>('../src/config/password-sources.js', {
      'node:fs': { readFileSync: () => { throw failure } },
    })
    const err = throwsCode(t, () => mocked.envPassword({ REDIS_PASSWORD_FILE: '/run/secrets/redis' }, 'REDIS_').read(), 'FRR_ERR_PASSWORD_FILE')
    t.match(err.message, /cannot be read \(unknown error\)/)
    t.match(err.cause, { name: 'Error', message: 'disk on fire' })
    t.not(err.cause, failure, 'a copy')
  })

  t.test('with REDIS_PASSWORD as well is a conflict', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_PASSWORD: 'a', REDIS_PASSWORD_FILE: passwordFile('a\n') } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_PASSWORD and REDIS_PASSWORD_FILE/)
    t.match(err.message, /set only one of REDIS_PASSWORD and REDIS_PASSWORD_FILE/)
  })

  t.test('with an empty REDIS_PASSWORD is no conflict', async (t) => {
    t.equal(main({ env: { REDIS_PASSWORD: '', REDIS_PASSWORD_FILE: passwordFile('f\n') } }).password, 'f')
  })

  t.test('the file is not read when the password option overrides it', async (t) => {
    const c = main({ password: 'opt', env: { REDIS_PASSWORD_FILE: join(dir, 'missing') } })
    t.equal(c.password, 'opt')
    t.equal(c.passwordFrom, 'password option')
  })

  t.test('the file is not read when the url option has a password', async (t) => {
    t.equal(main({ url: 'redis://:opt@h', env: { REDIS_PASSWORD_FILE: join(dir, 'missing') } }).password, 'opt')
  })

  t.test('a file password differing from the REDIS_URL password is a conflict', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { REDIS_URL: 'redis://:u@h', REDIS_PASSWORD_FILE: passwordFile('f\n') } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_URL and REDIS_PASSWORD_FILE/)
  })
})

t.test('explicit options override the environment', async (t) => {
  t.test('url option beats REDIS_URL', async (t) => {
    const c = main({ url: 'redis://opt-host:7000/2', env: { REDIS_URL: 'redis://env-host:6000/1' } })
    t.equal(c.host, 'opt-host')
    t.equal(c.port, 7000)
    t.equal(c.db, 2)
    t.equal(c.locatedBy, 'url option')
  })

  t.test('an empty url option counts as unset', async (t) => {
    t.equal(main({ url: '', env: { REDIS_URL: 'redis://env-host' } }).host, 'env-host')
  })

  t.test('host and port options beat REDIS_URL', async (t) => {
    const c = main({ host: 'opt-host', port: 7000, env: { REDIS_URL: 'redis://env-host:6000/1' } })
    t.equal(c.host, 'opt-host')
    t.equal(c.port, 7000)
    t.equal(c.db, 1, 'fields the options leave out still come from the URL')
  })

  t.test('host and port options beat REDIS_HOST/REDIS_PORT', async (t) => {
    const c = main({ host: 'opt-host', port: 7000, env: { REDIS_HOST: 'env-host', REDIS_PORT: '6000' } })
    t.equal(c.host, 'opt-host')
    t.equal(c.port, 7000)
    t.equal(c.locatedBy, 'host option')
  })

  t.test('port option alone locates the server', async (t) => {
    t.equal(main({ port: 7000 }).locatedBy, 'port option')
  })

  t.test('an empty host option counts as unset', async (t) => {
    t.equal(main({ host: '', env: { REDIS_HOST: 'env-host' } }).host, 'env-host')
  })

  t.test('password option beats REDIS_PASSWORD and the REDIS_URL password', async (t) => {
    const c = main({ password: 'opt', env: { REDIS_URL: 'redis://:url@h', REDIS_PASSWORD: 'env' } })
    t.equal(c.password, 'opt')
    t.equal(c.passwordFrom, 'password option')
  })

  t.test('an empty password option counts as unset', async (t) => {
    t.equal(main({ password: '', env: { REDIS_PASSWORD: 'env' } }).password, 'env')
  })

  t.test('username option beats REDIS_USERNAME, empty counts as unset', async (t) => {
    t.equal(main({ username: 'opt', env: { REDIS_USERNAME: 'env' } }).username, 'opt')
    t.equal(main({ username: '', env: { REDIS_USERNAME: 'env' } }).username, 'env')
  })

  t.test('url option with a password and a differing password option is a conflict', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ url: 'redis://:firstSecret@h', password: 'secondSecret' }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /url option and password option disagree/)
    t.notMatch(err.message, /firstSecret|secondSecret/)
  })

  t.test('url option with the same password is fine', async (t) => {
    const c = main({ url: 'redis://:one@h', password: 'one' })
    t.equal(c.password, 'one')
    t.equal(c.passwordFrom, 'url option')
  })

  t.test('url option host and host option disagree', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ url: 'redis://a', host: 'b' }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /url option and host option/)
  })

  t.test('url option without a port takes the port option', async (t) => {
    t.equal(main({ url: 'redis://a', port: 7001 }).port, 7001)
  })

  t.test('url option db and db option disagree', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ url: 'redis://a/1', db: 2 }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /url option and db option/)
  })

  t.test('db option beats REDIS_DB and the REDIS_URL db', async (t) => {
    t.equal(main({ db: 7, env: { REDIS_DB: '3' } }).db, 7)
    t.equal(main({ db: 7, env: { REDIS_URL: 'redis://h/3' } }).db, 7)
    t.equal(main({ db: 0, env: { REDIS_DB: '3' } }).db, 0, 'db 0 is a value, not "unset"')
  })

  t.test('port option given as a numeric string is accepted', async (t) => {
    t.equal(main({ port: '7002' as unknown as number }).port, 7002)
  })

  t.test('bad port option', async (t) => {
    for (const port of [0, 70000, 1.5, Number.NaN]) {
      const err = throwsCode(t, () => resolveConfig({ port }), 'FRR_ERR_INVALID_SETTING')
      t.match(err.message, /^port option must be a whole number from 1 to 65535/)
    }
  })

  t.test('tls option true', async (t) => {
    t.same(main({ tls: true }).tls, {})
  })

  t.test('tls option object passes through', async (t) => {
    const tls = { servername: 'x' }
    const c = main({ tls })
    t.equal(c.tls, tls)
    t.match(c.display, /^rediss:/)
  })

  t.test('tls option object passes through with a rediss:// REDIS_URL', async (t) => {
    const tls = { servername: 'x' }
    t.equal(main({ tls, env: { REDIS_URL: 'rediss://h' } }).tls, tls)
  })

  t.test('tls option false beats REDIS_TLS and rediss:// in REDIS_URL', async (t) => {
    t.equal(main({ tls: false, env: { REDIS_TLS: 'true' } }).tls, undefined)
    t.equal(main({ tls: false, env: { REDIS_URL: 'rediss://h' } }).tls, undefined)
  })

  t.test('tls option false with a rediss:// url option is a conflict', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ url: 'rediss://h', tls: false }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /url option/)
    t.match(err.message, /tls option/)
  })

  t.test('rediss:// url option alone means TLS', async (t) => {
    t.same(main({ url: 'rediss://h' }).tls, {})
  })

  t.test('redis:// url option leaves TLS to REDIS_TLS', async (t) => {
    t.same(main({ url: 'redis://h', env: { REDIS_TLS: 'on' } }).tls, {})
    t.equal(main({ url: 'redis://h' }).tls, undefined)
  })

  t.test('an unparsable url option names the option', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ url: 'not a url' }), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^url option is not a valid URL/)
  })
})

t.test('invalid option types name the option', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['url', { url: 5 }, /^url option must be a string \(got number\)/],
    ['host', { host: 1 }, /^host option must be a string \(got number\)/],
    ['username', { username: true }, /^username option must be a string \(got boolean\)/],
    ['password', { password: {} }, /^password option must be a string \(got object\)/],
    ['requirePassword', { requirePassword: 'yes' }, /^requirePassword option must be a boolean \(got string\)/],
    ['db -1', { db: -1 }, /^db option must be a whole number from 0/],
    ['db 1.5', { db: 1.5 }, /^db option must be a whole number from 0/],
    ['db "x"', { db: 'x' }, /^db option must be a whole number from 0/],
    ['tls string', { tls: 'x' }, /^tls option must be true, false or TLS options \(got string\)/],
    ['tls number', { tls: 1 }, /^tls option must be true, false or TLS options \(got number\)/],
    ['tls null', { tls: null }, /^tls option must be true, false or TLS options \(got object\)/],
    ['clients array', { clients: [] }, /^clients option must be an object/],
    ['clients null', { clients: null }, /^clients option must be an object/],
    ['clients string', { clients: 'cache' }, /^clients option must be an object/],
  ]
  for (const [label, input, message] of cases) {
    const err = throwsCode(t, () => resolveConfig(input as ConfigInput), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, message, label)
  }
})

t.test('named clients', async (t) => {
  t.test('own URL from REDIS_<NAME>_URL', async (t) => {
    const config = resolveConfig({ clients: { cache: {} }, env: { REDIS_URL: 'redis://main:6379/0', REDIS_CACHE_URL: 'redis://cache-host:6380/2', REDIS_PASSWORD: 'pw' } })
    t.same(config.connections.map((c) => c.name), ['default', 'cache'])
    const cache = config.connections[1]
    t.match(cache, { name: 'cache', host: 'cache-host', port: 6380, db: 2, password: 'pw', passwordFrom: 'REDIS_PASSWORD', locatedBy: 'REDIS_CACHE_URL', display: 'redis://:***@cache-host:6380/2' })
  })

  t.test('with its own URL, REDIS_HOST/PORT/DB and host/port/db options do not apply', async (t) => {
    const cache = named({ clients: { cache: {} }, host: 'opt', port: 7000, db: 9, env: { REDIS_HOST: 'main', REDIS_PORT: '6390', REDIS_DB: '4', REDIS_CACHE_URL: 'redis://cache-host' } }, 'cache')
    t.equal(cache.host, 'cache-host')
    t.equal(cache.port, 6379)
    t.equal(cache.db, 0)
  })

  t.test('with its own URL, the default URL does not apply', async (t) => {
    const cache = named({ clients: { cache: {} }, env: { REDIS_URL: 'rediss://u:pw@main:7000/3', REDIS_CACHE_URL: 'redis://cache-host' } }, 'cache')
    t.match(cache, { host: 'cache-host', port: 6379, db: 0, username: undefined, password: undefined, tls: undefined })
  })

  t.test('own URL password differing from REDIS_PASSWORD names REDIS_CACHE_URL', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ clients: { cache: {} }, env: { REDIS_PASSWORD: 'envpw', REDIS_CACHE_URL: 'redis://:cachepw@c' } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /REDIS_CACHE_URL and REDIS_PASSWORD disagree/)
    t.notMatch(err.message, /envpw|cachepw/)
  })

  t.test('own rediss:// URL means TLS for that client only', async (t) => {
    const config = resolveConfig({ clients: { cache: {} }, env: { REDIS_CACHE_URL: 'rediss://c' } })
    t.equal(config.connections[0]?.tls, undefined)
    t.same(config.connections[1]?.tls, {})
  })

  t.test('without a URL: the default server and database', async (t) => {
    const cache = named({ clients: { cache: {} }, env: { REDIS_URL: 'redis://:pw@main:6390/3' } }, 'cache')
    t.match(cache, { host: 'main', port: 6390, db: 3, password: 'pw', passwordFrom: 'REDIS_URL', locatedBy: 'REDIS_URL' })
  })

  t.test('without a URL: takes REDIS_DB like the default', async (t) => {
    const cache = named({ clients: { cache: {} }, env: { REDIS_HOST: 'main', REDIS_DB: '4' } }, 'cache')
    t.match(cache, { host: 'main', db: 4, locatedBy: 'REDIS_HOST' })
  })

  t.test('without a URL: its own db beats REDIS_DB, the db option and the URL db', async (t) => {
    t.equal(named({ clients: { cache: { db: 1 } }, env: { REDIS_DB: '4' } }, 'cache').db, 1)
    t.equal(named({ clients: { cache: { db: 1 } }, db: 5 }, 'cache').db, 1)
    t.equal(named({ clients: { cache: { db: 1 } }, url: 'redis://h/6' }, 'cache').db, 1)
    t.equal(named({ clients: { cache: { db: 1 } }, env: { REDIS_URL: 'redis://h/6' } }, 'cache').db, 1)
    t.equal(named({ clients: { cache: { db: 0 } }, env: { REDIS_DB: '4' } }, 'cache').db, 0)
  })

  t.test('without a URL: a default URL option applies', async (t) => {
    const cache = named({ url: 'redis://opt-host:7000/2', clients: { cache: {} } }, 'cache')
    t.match(cache, { host: 'opt-host', port: 7000, db: 2, locatedBy: 'url option' })
  })

  t.test('an empty REDIS_<NAME>_URL counts as unset', async (t) => {
    t.equal(named({ clients: { cache: {} }, env: { REDIS_HOST: 'main', REDIS_CACHE_URL: '' } }, 'cache').host, 'main')
  })

  t.test('a client given as undefined or null is a client with no settings', async (t) => {
    const clients = { a: undefined, b: null } as unknown as ConfigInput['clients']
    const config = resolveConfig({ clients, env: { REDIS_HOST: 'main', REDIS_DB: '2' } })
    t.match(config.connections.slice(1), [{ name: 'a', host: 'main', db: 2 }, { name: 'b', host: 'main', db: 2 }])
  })

  t.test('clients.<name>.url beats REDIS_<NAME>_URL', async (t) => {
    const cache = named({ clients: { cache: { url: 'redis://opt-cache:7000/1' } }, env: { REDIS_CACHE_URL: 'redis://env-cache' } }, 'cache')
    t.match(cache, { host: 'opt-cache', port: 7000, db: 1, locatedBy: 'clients.cache.url' })
  })

  t.test('an empty clients.<name>.url counts as unset', async (t) => {
    t.equal(named({ clients: { cache: { url: '' } }, env: { REDIS_CACHE_URL: 'redis://env-cache' } }, 'cache').host, 'env-cache')
  })

  t.test('clients.<name>.url password', async (t) => {
    const cache = named({ clients: { cache: { url: 'redis://:cpw@c' } } }, 'cache')
    t.equal(cache.password, 'cpw')
    t.equal(cache.passwordFrom, 'clients.cache.url')
  })

  t.test('clients.<name>.url with a rediss:// scheme', async (t) => {
    t.same(named({ clients: { cache: { url: 'rediss://c' } } }, 'cache').tls, {})
  })

  t.test('clients.<name>.url password differing from the password option is a conflict', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ password: 'a', url: 'redis://:a@main', clients: { cache: { url: 'redis://:b@c' } } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /clients\.cache\.url and password option disagree/)
  })

  t.test('client db and its URL db disagree', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ clients: { cache: { url: 'redis://c/1', db: 2 } } }), 'FRR_ERR_CONFLICTING_SETTINGS')
    t.match(err.message, /clients\.cache\.url and clients\.cache\.db disagree/)
  })

  t.test('client db and its URL db agree', async (t) => {
    t.equal(named({ clients: { cache: { url: 'redis://c/1', db: 1 } } }, 'cache').db, 1)
  })

  t.test('client db beats the db in REDIS_<NAME>_URL (option over env)', async (t) => {
    t.equal(named({ clients: { cache: { db: 2 } }, env: { REDIS_CACHE_URL: 'redis://c/1' } }, 'cache').db, 2)
  })

  t.test('a bad client db names it', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ clients: { cache: { db: -1 } } }), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^clients\.cache\.db must be a whole number from 0/)
  })

  t.test('a bad client URL names it', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ clients: { cache: {} }, env: { REDIS_CACHE_URL: 'http://c' } }), 'FRR_ERR_INVALID_SETTING')
    t.match(err.message, /^REDIS_CACHE_URL must start with redis:\/\//)
    const err2 = throwsCode(t, () => resolveConfig({ clients: { cache: { url: 'redis://c/x' } } }), 'FRR_ERR_INVALID_SETTING')
    t.match(err2.message, /^the database in clients\.cache\.url must be a whole number/)
  })

  t.test('sessionStore reads REDIS_SESSION_STORE_URL', async (t) => {
    t.equal(named({ clients: { sessionStore: {} }, env: { REDIS_SESSION_STORE_URL: 'redis://sessions' } }, 'sessionStore').host, 'sessions')
  })

  t.test('several clients keep their order after the default', async (t) => {
    const config = resolveConfig({ clients: { cache: {}, queue: { db: 3 } } })
    t.same(config.connections.map((c) => [c.name, c.db]), [['default', 0], ['cache', 0], ['queue', 3]])
  })

  for (const name of ['Cache', 'my-cache', 'my_cache', '1cache', '', 'default', 'get', 'set', 'quit', 'connect', 'on']) {
    t.test(`invalid name ${JSON.stringify(name)}`, async (t) => {
      const err = throwsCode(t, () => resolveConfig({ clients: { [name]: {} } }), 'FRR_ERR_INVALID_SETTING')
      t.ok(err.message.startsWith(`clients.${name} `), 'names the client')
    })
  }
})

t.test('requirePassword', async (t) => {
  t.test('defaults to on in production', async (t) => {
    const err = throwsCode(t, () => resolveConfig({ env: { NODE_ENV: 'production' } }), 'FRR_ERR_PASSWORD_REQUIRED')
    t.match(err.message, /Redis connection "default" has no password/)
    t.match(err.message, /REDIS_PASSWORD/)
    t.match(err.message, /REDIS_URL/)
  })

  t.test('is off outside production', async (t) => {
    t.equal(resolveConfig({ env: { NODE_ENV: 'development' } }).requirePassword, false)
    t.equal(resolveConfig({ env: {} }).requirePassword, false)
  })

  t.test('an empty REDIS_PASSWORD in production is no password', async (t) => {
    throwsCode(t, () => resolveConfig({ env: { NODE_ENV: 'production', REDIS_PASSWORD: '' } }), 'FRR_ERR_PASSWORD_REQUIRED')
  })

  t.test('explicit false overrides production', async (t) => {
    const config = resolveConfig({ requirePassword: false, env: { NODE_ENV: 'production' } })
    t.equal(config.requirePassword, false)
    t.equal(config.connections[0]?.password, undefined)
  })

  t.test('explicit true outside production', async (t) => {
    throwsCode(t, () => resolveConfig({ requirePassword: true }), 'FRR_ERR_PASSWORD_REQUIRED')
  })

  t.test('with a password it is fine', async (t) => {
    t.equal(resolveConfig({ env: { NODE_ENV: 'production', REDIS_PASSWORD: 'pw' } }).requirePassword, true)
    t.equal(resolveConfig({ env: { NODE_ENV: 'production', REDIS_URL: 'redis://:pw@h' } }).requirePassword, true)
    t.equal(resolveConfig({ requirePassword: true, password: 'pw' }).requirePassword, true)
  })

  t.test('a named client on the default server shares its password', async (t) => {
    const config = resolveConfig({ clients: { cache: { db: 1 } }, env: { NODE_ENV: 'production', REDIS_PASSWORD: 'pw' } })
    t.equal(config.connections[1]?.password, 'pw')
  })

  t.test('a named client with its own URL and no password names that URL variable', async (t) => {
    const err = throwsCode(t, () => resolveConfig({
      url: 'redis://:pw@main',
      clients: { cache: {} },
      env: { NODE_ENV: 'production', REDIS_CACHE_URL: 'redis://cache-host' },
    }), 'FRR_ERR_PASSWORD_REQUIRED')
    t.match(err.message, /Redis connection "cache" has no password/)
    t.match(err.message, /REDIS_PASSWORD \(or REDIS_PASSWORD_FILE\), or put the password in REDIS_CACHE_URL/)
  })

  t.test('a named client with its own url option and no password names that client', async (t) => {
    const err = throwsCode(t, () => resolveConfig({
      url: 'redis://:pw@main',
      requirePassword: true,
      clients: { cache: { url: 'redis://cache-host' } },
    }), 'FRR_ERR_PASSWORD_REQUIRED')
    t.match(err.message, /Redis connection "cache" has no password/)
  })
})

t.test('client-names', async (t) => {
  t.test('DEFAULT_CLIENT', async (t) => {
    t.equal(DEFAULT_CLIENT, 'default')
  })

  t.test('clientUrlVariable', async (t) => {
    t.equal(clientUrlVariable('cache'), 'REDIS_CACHE_URL')
    t.equal(clientUrlVariable('sessionStore'), 'REDIS_SESSION_STORE_URL')
    t.equal(clientUrlVariable('cache2'), 'REDIS_CACHE2_URL')
    t.equal(clientUrlVariable('v2Cache'), 'REDIS_V2_CACHE_URL')
  })

  t.test('assertClientName', async (t) => {
    t.doesNotThrow(() => assertClientName('cache'))
    t.doesNotThrow(() => assertClientName('sessionStore'))
    t.doesNotThrow(() => assertClientName('cache2'))
    const shape = throwsCode(t, () => assertClientName('my-cache'), 'FRR_ERR_INVALID_SETTING')
    t.match(shape.message, /clients\.my-cache is not a usable client name; use a camelCase name/)
    const reserved = throwsCode(t, () => assertClientName('get'), 'FRR_ERR_INVALID_SETTING')
    t.match(reserved.message, /clients\.get would hide app\.redis\.get of the Redis client/)
    const dflt = throwsCode(t, () => assertClientName('default'), 'FRR_ERR_INVALID_SETTING')
    t.match(dflt.message, /clients\.default would hide/)
  })

  t.test('clientNamesFromEnv', async (t) => {
    t.same(clientNamesFromEnv({
      REDIS_URL: 'redis://main',
      REDIS_SESSION_STORE_URL: 'redis://s',
      REDIS_CACHE_URL: 'redis://c',
      REDIS_QUEUE_URL: '',
      REDIS_BROKER_URL: undefined,
      REDIS_PASSWORD_FILE: '/x',
      REDIS_HOST: 'h',
      MY_REDIS_X_URL: 'redis://x',
      REDIS_lower_URL: 'redis://x',
      REDIS_A2_URL: 'redis://a',
    }), ['a2', 'cache', 'sessionStore'])
    t.same(clientNamesFromEnv({}), [])
  })

  t.test('names from the environment map back to the same variable', async (t) => {
    const env = { REDIS_CACHE_URL: 'redis://c', REDIS_SESSION_STORE_URL: 'redis://s', REDIS_JOB_QUEUE2_URL: 'redis://q' }
    for (const name of clientNamesFromEnv(env)) {
      t.ok(Object.hasOwn(env, clientUrlVariable(name)), `${name} → ${clientUrlVariable(name)}`)
    }
  })

  t.test('names from the environment resolve to their URLs', async (t) => {
    const env = { REDIS_CACHE_URL: 'redis://c', REDIS_SESSION_STORE_URL: 'redis://s' }
    const clients = Object.fromEntries(clientNamesFromEnv(env).map((name) => [name, {}]))
    const config = resolveConfig({ env, clients })
    t.same(config.connections.map((c) => [c.name, c.host]), [['default', 'localhost'], ['cache', 'c'], ['sessionStore', 's']])
  })
})
