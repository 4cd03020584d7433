// The one ACL rule the log lines, the health report, check and README give.
import t from 'tap'
import { aclRule, keyPattern, REQUIRED_COMMANDS } from '../src/acl-rule.js'

t.test('the rule: the user, the key prefix, every command the plugin sends', async (t) => {
  t.equal(aclRule('limiter'), 'ACL SETUSER limiter ~frr-rate-limit:* +eval +evalsha +incrby +pexpire +pttl +ping')
  t.equal(aclRule(undefined, 'api:rl:'), 'ACL SETUSER default ~api:rl:* +eval +evalsha +incrby +pexpire +pttl +ping', 'the default user, an app nameSpace')
  t.same(REQUIRED_COMMANDS, ['eval', 'evalsha', 'incrby', 'pexpire', 'pttl', 'ping'])
})

t.test('a prefix with glob characters matches only itself', async (t) => {
  t.equal(keyPattern('rl[1]*?:\\'), '~rl\\[1\\]\\*\\?:\\\\*')
})
