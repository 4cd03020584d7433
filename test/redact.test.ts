// Unit tests for src/redact.ts: keeping secrets out of messages and URLs.
import t from 'tap'
import { inspect } from 'node:util'
import { maskUrl, quoted, safeCause, scrubError, scrubText, urlPasswordForms } from '../src/redact.js'

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

t.test('maskUrl: the scheme, nothing after it', async (t) => {
  t.equal(maskUrl('redis://alice:s3cret@h:6379/0'), 'redis://***')
  t.equal(maskUrl('redis://:hunter2@/0'), 'redis://***')
  t.equal(maskUrl('rediss://u:pw@h:99999'), 'rediss://***')
  t.equal(maskUrl('redis+sentinel://:pw@h1:1,h2:2/m'), 'redis+sentinel://***')
  t.equal(maskUrl('redis:/:hunter2@h:6379'), 'redis://***', 'a URL that parses, with the password in its path')
  t.equal(maskUrl('hunter2 not a url'), '//***', 'without a scheme: nothing of it')
  t.equal(maskUrl(''), '//***')
})

t.test('urlPasswordForms: the password of a URL, parsable or not, as written and decoded', async (t) => {
  t.same(urlPasswordForms('redis://user:p%202@h:1/0'), ['p%202', 'p 2'])
  t.same(urlPasswordForms('redis://:pw@127.0.0.1:abc'), ['pw', 'pw'], 'a bad port')
  t.same(urlPasswordForms('redis+sentinel://:pw@h1:1,h2:2/m'), ['pw', 'pw'])
  t.same(urlPasswordForms('redis://:%E0%A4%A@h'), ['%E0%A4%A'], 'not valid percent-encoding')
  t.same(urlPasswordForms('redis://h:1'), [])
  t.same(urlPasswordForms('redis://user:@h'), [], 'an empty password')
  t.same(urlPasswordForms('not a url'), [])
})

t.test('quoted: the value, unless it holds a secret', async (t) => {
  t.equal(quoted('abc', ['s3cret']), '"abc"')
  t.equal(quoted('abc', []), '"abc"')
  t.equal(quoted('xs3cretx', ['s3cret']), 'a value that holds a configured password, not shown')
  t.equal(quoted('S3CRET', ['s3cret']), 'a value that holds a configured password, not shown', 'in any case')
  t.equal(quoted('p%40ss', ['p@ss']), 'a value that holds a configured password, not shown', 'percent-encoded')
  t.equal(quoted('', [undefined, '']), '""', 'unset secrets are ignored')
})

t.test('safeCause: name, code and scrubbed message; nothing else of the original', async (t) => {
  let urlError: unknown
  try { new URL('redis://:s3cret@h:abc') } catch (error) { urlError = error }
  t.match(urlError, { code: 'ERR_INVALID_URL', input: /s3cret/ }, "Node's URL error holds the input")
  const copy = safeCause(urlError, ['s3cret'])
  t.ok(copy instanceof Error)
  t.equal(copy.name, 'TypeError')
  t.equal(copy.message, 'Invalid URL')
  t.equal((copy as { code?: unknown }).code, 'ERR_INVALID_URL')
  t.equal(copy.stack, 'TypeError: Invalid URL', 'a stack of name and message only')
  t.same(Object.keys(copy), ['code'], 'no input, no other property')
  t.notMatch(inspect(copy, { showHidden: true, depth: Infinity }), /s3cret/)

  const reply = Object.assign(new Error('ERR for s3cret'), { name: 'ReplyError', command: { args: ['s3cret'] }, cause: new Error('s3cret') })
  const scrubbed = safeCause(reply, ['s3cret'])
  t.equal(scrubbed.message, 'ERR for ***')
  t.equal(scrubbed.stack, 'ReplyError: ERR for ***')
  t.equal(scrubbed.cause, undefined, 'no cause chain')
  t.same(Object.keys(scrubbed), [], 'no command, no code')

  t.equal(safeCause('s3cret failed', ['s3cret']).message, '*** failed', 'a thrown string')
  t.equal(safeCause(safeCause(reply, ['s3cret']), []).stack, 'ReplyError: ERR for ***', 'a copy of a copy is the same')
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
