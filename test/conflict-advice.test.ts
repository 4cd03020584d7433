// Two settings that disagree: the error's message and `check --fix-auth` say
// the same thing. The message's advice (after "disagree; ") is, word for word,
// the first fix, followed by where to make the change.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { configErrorFixes } from '../src/cli/fixes.js'
import { resolveConfig, type ConfigInput } from '../src/config/index.js'
import { conflictAdvice } from '../src/config/conflict-advice.js'

const scratch = mkdtempSync(join(tmpdir(), 'frr-conflict-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))
const passwordFile = join(scratch, 'pw')
writeFileSync(passwordFile, 'file-password\n')
const CTX = { where: 'in .env.production', stepMs: 1500, nameSpace: 'frr-rate-limit:' }

interface ConflictCase { name: string; input: ConfigInput; message: string; details?: string[] }

const CASES: ConflictCase[] = [
  {
    name: 'a password in REDIS_URL against REDIS_PASSWORD',
    input: { env: { REDIS_URL: 'redis://:url-password@h', REDIS_PASSWORD: 'env-password' } },
    message: 'REDIS_URL and REDIS_PASSWORD disagree; keep the password only in REDIS_PASSWORD and remove it from REDIS_URL (redis://host:port/db, or redis://user@host:port/db for an ACL user)',
    details: ['if the URL held the right password, put that value in REDIS_PASSWORD first'],
  },
  {
    name: 'a password in REDIS_CACHE_URL against REDIS_PASSWORD_FILE',
    input: { env: { REDIS_CACHE_URL: 'redis://:url-password@h', REDIS_PASSWORD_FILE: passwordFile }, clients: { cache: {} } },
    message: 'REDIS_CACHE_URL and REDIS_PASSWORD_FILE disagree; keep the password only in REDIS_PASSWORD_FILE and remove it from REDIS_CACHE_URL (redis://host:port/db, or redis://user@host:port/db for an ACL user)',
    details: ['if the URL held the right password, put that value in the file REDIS_PASSWORD_FILE names first'],
  },
  {
    name: 'a password in the url option against the password option',
    input: { url: 'redis://:url-password@h', password: 'option-password' },
    message: 'url option and password option disagree; keep the password only in the password option and remove it from the url option (redis://host:port/db, or redis://user@host:port/db for an ACL user)',
    details: ['if the URL held the right password, put that value in the password option first'],
  },
  {
    name: 'REDIS_PASSWORD and REDIS_PASSWORD_FILE',
    input: { env: { REDIS_PASSWORD: 'env-password', REDIS_PASSWORD_FILE: passwordFile } },
    message: 'REDIS_PASSWORD and REDIS_PASSWORD_FILE disagree; set only one of REDIS_PASSWORD and REDIS_PASSWORD_FILE: REDIS_PASSWORD_FILE when the password is mounted as a file (Docker or Kubernetes secret), REDIS_PASSWORD otherwise',
  },
  {
    name: 'the host of REDIS_URL against REDIS_HOST',
    input: { env: { REDIS_URL: 'redis://a:6379', REDIS_HOST: 'b' } },
    message: 'REDIS_URL and REDIS_HOST disagree; REDIS_URL already sets the host: remove REDIS_HOST, or make it match the host in REDIS_URL',
  },
  {
    name: 'the port of REDIS_URL against REDIS_PORT',
    input: { env: { REDIS_URL: 'redis://a:6379', REDIS_PORT: '6380' } },
    message: 'REDIS_URL and REDIS_PORT disagree; REDIS_URL already sets the port: remove REDIS_PORT, or make it match the port in REDIS_URL',
  },
  {
    name: 'the db of REDIS_URL against REDIS_DB',
    input: { env: { REDIS_URL: 'redis://a/1', REDIS_DB: '2' } },
    message: 'REDIS_URL and REDIS_DB disagree; REDIS_URL already sets the database: remove REDIS_DB, or make it match the database in REDIS_URL',
  },
  {
    name: 'the user of REDIS_URL against REDIS_USERNAME',
    input: { env: { REDIS_URL: 'redis://alice@a', REDIS_USERNAME: 'bob' } },
    message: 'REDIS_URL and REDIS_USERNAME disagree; REDIS_URL already sets the ACL user: remove REDIS_USERNAME, or make it match the ACL user in REDIS_URL',
  },
  {
    name: 'rediss:// against REDIS_TLS=false',
    input: { env: { REDIS_URL: 'rediss://a', REDIS_TLS: 'false' } },
    message: 'REDIS_URL and REDIS_TLS disagree; REDIS_URL starts with rediss://, which turns TLS on, while REDIS_TLS turns it off: use redis:// in REDIS_URL for a plain connection, or remove REDIS_TLS',
  },
  {
    name: 'rediss:// in the url option against the tls option',
    input: { url: 'rediss://a', tls: false },
    message: 'tls option and url option disagree; the url option starts with rediss://, which turns TLS on, while the tls option turns it off: use redis:// in the url option for a plain connection, or remove the tls option',
  },
  {
    name: "a client's URL db against its db",
    input: { clients: { cache: { url: 'redis://a/1', db: 2 } } },
    message: 'clients.cache.url and clients.cache.db disagree; clients.cache.url already sets the database: remove clients.cache.db, or make it match the database in clients.cache.url',
  },
  {
    name: 'the url option host against the host option',
    input: { url: 'redis://a', host: 'b' },
    message: 'url option and host option disagree; the url option already sets the host: remove the host option, or make it match the host in the url option',
  },
]

for (const { name, input, message, details = [] } of CASES) {
  t.test(name, async (t) => {
    const error = t.throws(() => resolveConfig(input), { code: 'FRR_ERR_CONFLICTING_SETTINGS' }) as Error
    t.equal(error.message, message, 'the message')
    const advice = message.slice(message.indexOf('disagree; ') + 'disagree; '.length)
    t.same(configErrorFixes('FRR_ERR_CONFLICTING_SETTINGS', error.message, CTX), [`${advice} ${CTX.where}`, ...details], 'the fixes: the same advice, then where')
    t.notMatch(message, /one place only/, 'no generic advice that names the setting to empty')
  })
}

t.test('a conflict of a kind resolveConfig does not raise still gets advice', async (t) => {
  t.same(conflictAdvice('REDIS_URL', 'REDIS_SOMETHING'), {
    advice: 'REDIS_URL already sets the value: remove REDIS_SOMETHING, or make it match the value in REDIS_URL',
    details: [],
  })
})
