// Unit tests for src/redact.ts: keeping secrets out of messages and URLs.
import t from 'tap'
import { redactUrl, scrubError, scrubText } from '../src/redact.js'

t.test('scrubText', async (t) => {
  t.test('masks every occurrence', async (t) => {
    t.equal(scrubText('pw and pw again', ['pw']), '*** and *** again')
  })

  t.test('masks the percent-encoded form too', async (t) => {
    t.equal(scrubText('url redis://:p%40ss@h, raw p@ss', ['p@ss']), 'url redis://:***@h, raw ***')
  })

  t.test('a secret containing another is masked whole', async (t) => {
    t.equal(scrubText('xabcdefy', ['abc', 'abcdef']), 'x***y')
    t.equal(scrubText('xabcdefy', ['abcdef', 'abc']), 'x***y', 'order of secrets does not matter')
  })

  t.test('several secrets', async (t) => {
    t.equal(scrubText('user alice pass hunter2', ['hunter2', 'alice']), 'user *** pass ***')
  })

  t.test('undefined and empty secrets are ignored', async (t) => {
    t.equal(scrubText('nothing to hide', [undefined, '']), 'nothing to hide')
    t.equal(scrubText('abc', []), 'abc')
  })

  t.test('text without the secret is unchanged', async (t) => {
    t.equal(scrubText('Connection is closed.', ['s3cret']), 'Connection is closed.')
  })

  t.test('accepts any iterable', async (t) => {
    t.equal(scrubText('a s1 s2', new Set(['s1', 's2'])), 'a *** ***')
  })
})

t.test('redactUrl', async (t) => {
  t.test('password replaced, username kept', async (t) => {
    t.equal(redactUrl('redis://alice:s3cret@h:6379/0'), 'redis://alice:***@h:6379/0')
    t.equal(redactUrl('redis://:s3cret@h:6379/0'), 'redis://:***@h:6379/0')
  })

  t.test('percent-encoded password replaced', async (t) => {
    const out = redactUrl('rediss://:p%40ss@h:6380')
    t.equal(out, 'rediss://:***@h:6380')
    t.notMatch(out, /p%40ss|p@ss/)
  })

  t.test('without a password: unchanged, as written', async (t) => {
    t.equal(redactUrl('redis://h:6379/0'), 'redis://h:6379/0')
    t.equal(redactUrl('redis://alice@h'), 'redis://alice@h')
  })

  t.test('unparsable: only the scheme', async (t) => {
    t.equal(redactUrl('redis://:hunter2@/0'), 'redis://***')
    t.equal(redactUrl('rediss://u:pw@h:99999'), 'rediss://***')
  })

  t.test('unparsable without a scheme: nothing of it', async (t) => {
    t.equal(redactUrl('hunter2 not a url'), '//***')
    t.equal(redactUrl(''), '//***')
  })
})

t.test('scrubError', async (t) => {
  t.test('an Error with a code', async (t) => {
    const error = Object.assign(new Error('WRONGPASS for s3cret'), { code: 'ERR_X' })
    t.strictSame(scrubError(error, ['s3cret']), { name: 'Error', message: 'WRONGPASS for ***', code: 'ERR_X' })
  })

  t.test('an Error without a code', async (t) => {
    const result = scrubError(new TypeError('bad s3cret'), ['s3cret'])
    t.strictSame(result, { name: 'TypeError', message: 'bad ***' })
    t.notOk('code' in result)
  })

  t.test('a non-string code is left out', async (t) => {
    const result = scrubError(Object.assign(new Error('x'), { code: 42 }), [])
    t.strictSame(result, { name: 'Error', message: 'x' })
  })

  t.test('the command (which holds AUTH arguments) never comes along', async (t) => {
    const error = Object.assign(new Error('ERR AUTH failed with hunter2'), {
      name: 'ReplyError',
      command: { name: 'auth', args: ['default', 'hunter2'] },
    })
    const result = scrubError(error, ['hunter2'])
    t.strictSame(result, { name: 'ReplyError', message: 'ERR AUTH failed with ***' })
    t.notOk('command' in result)
    t.notOk('stack' in result)
    t.notMatch(JSON.stringify(result), /hunter2/)
  })

  t.test('non-Error values', async (t) => {
    t.strictSame(scrubError('failed: s3cret', ['s3cret']), { name: 'Error', message: 'failed: ***' })
    t.strictSame(scrubError(undefined, []), { name: 'Error', message: 'undefined' })
    t.strictSame(scrubError(null, []), { name: 'Error', message: 'null' })
    t.strictSame(scrubError(42, ['4']), { name: 'Error', message: '***2' })
    t.strictSame(scrubError({ code: 'ECONNREFUSED', message: 'nope' }, []), { name: 'Error', message: '[object Object]' }, 'an error-like object keeps no code')
  })

  t.test('secrets may be a generator', async (t) => {
    function * secrets (): Generator<string> { yield 'a1'; yield 'b2' }
    t.strictSame(scrubError(new Error('a1 b2'), secrets()), { name: 'Error', message: '*** ***' })
  })
})
