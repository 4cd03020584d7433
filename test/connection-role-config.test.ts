// Roles as configured: the clients option and REDIS_<NAME>_ROLE, each role's
// settings, what a command's bound is, and the errors for what is not a role.
import t from 'tap'
import { Command } from 'ioredis'
import { CONNECTION_ROLES } from '../src/client-role.js'
import { resolveConfig } from '../src/config/index.js'
import { commandBound } from '../src/connection/command-guard.js'
import { roleSettings } from '../src/connection/roles.js'

const roleOf = (input: Parameters<typeof resolveConfig>[0], name: string): string | undefined =>
  resolveConfig(input).connections.find((c) => c.name === name)?.role

t.test('a role from the option or REDIS_<NAME>_ROLE; the option wins; command by default', async (t) => {
  t.equal(roleOf({ clients: { jobs: { role: 'blocking' } } }, 'jobs'), 'blocking')
  t.equal(roleOf({ clients: { jobs: {} }, env: { REDIS_JOBS_ROLE: 'queue' } }, 'jobs'), 'queue')
  t.equal(roleOf({ clients: { sessionStore: {} }, env: { REDIS_SESSION_STORE_ROLE: 'subscriber' } }, 'sessionStore'), 'subscriber')
  t.equal(roleOf({ clients: { jobs: { role: 'blocking' } }, env: { REDIS_JOBS_ROLE: 'queue' } }, 'jobs'), 'blocking')
  t.equal(roleOf({ clients: { cache: {} } }, 'cache'), 'command')
  t.equal(roleOf({}, 'default'), 'command')
})

t.test('what is not a role is a coded error naming the setting', async (t) => {
  t.throws(() => resolveConfig({ clients: { jobs: { role: 'blockin' as never } } }), {
    code: 'FRR_ERR_INVALID_SETTING',
    message: /^clients\.jobs\.role option must be one of 'command', 'blocking', 'subscriber', 'queue' \(got "blockin"\)/,
  })
  t.throws(() => resolveConfig({ clients: { jobs: {} }, env: { REDIS_JOBS_ROLE: 'redis://:secret@h' } }), {
    code: 'FRR_ERR_INVALID_SETTING',
    message: /^REDIS_JOBS_ROLE must be one of .* \(got a string\)/,
  }, 'a value that may hold a secret is not shown')
  t.throws(() => resolveConfig({ clients: { jobs: { role: 3 as never } } }), { message: /\(got a number\)/ })
  t.throws(() => resolveConfig({ clients: { jobs: { maxRetriesPerRequest: null } as never } }), {
    code: 'FRR_ERR_INVALID_SETTING',
    message: /^clients\.jobs\.maxRetriesPerRequest option is not a setting of a named client/,
  }, 'an unknown key of a named client is an error, not ignored')
})

t.test('each role\'s settings', async (t) => {
  t.same(CONNECTION_ROLES, ['command', 'blocking', 'subscriber', 'queue'])
  t.match(roleSettings('command', 500), { options: { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500, socketTimeout: 500 }, guard: { deadlines: false, resubscribe: false, queueUntilReady: false } })
  t.match(roleSettings('blocking', 500), { options: { maxRetriesPerRequest: 0, commandTimeout: undefined, socketTimeout: undefined }, guard: { deadlines: true } })
  t.match(roleSettings('subscriber', 500), { options: { autoResubscribe: false, commandTimeout: 500 }, guard: { resubscribe: true, queueUntilReady: true } })
  t.match(roleSettings('queue', 500), { options: { maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined }, guard: { deadlines: false } })
})

t.test('a command\'s bound: its own block time plus the grace; none when it blocks forever', async (t) => {
  const bound = (name: string, ...args: Array<string | number>): number | undefined => commandBound(new Command(name, args), 500)
  t.equal(bound('get', 'k'), 500)
  t.equal(bound('blpop', 'k', 2), 2500)
  t.equal(bound('BRPOP', 'a', 'b', 0.5), 1000, 'fractions of a second, any case')
  t.equal(bound('blpop', 'k', 0), undefined, 'timeout 0 blocks forever')
  t.equal(bound('xread', 'BLOCK', 2000, 'STREAMS', 's', '$'), 2500)
  t.equal(bound('xread', 'STREAMS', 's', '0'), 500, 'XREAD without BLOCK answers at once')
  t.equal(bound('bzmpop', 1.5, 1, 'z', 'MIN'), 2000)
  t.equal(bound('wait', 1, 100), 600, 'WAIT: its last argument, in ms')
  t.equal(bound('wait', 1, 0), undefined)
  t.equal(bound('wait', 1, 'soon'), 500, 'a WAIT Redis will refuse anyway')
})
