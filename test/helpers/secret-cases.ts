// Configurations that fail registration and hold a password somewhere: every
// way a URL can be malformed (env, named client, option), and a password
// pasted into the wrong setting. Shared by the in-process and the
// child-process leak tests. Every case's password contains MARKER, so one
// case-insensitive search finds it as written, percent-encoded or decoded.

export const MARKER = 'S3cr3t'

export interface SecretCase {
  name: string
  /** Plugin options, JSON-serialisable (a child process gets them as JSON); `env` is the whole environment. */
  options: { env: Record<string, string>; [option: string]: unknown }
}

/** A REDIS_URL case. */
const url = (name: string, value: string): SecretCase => ({ name, options: { env: { REDIS_URL: value } } })

export const SECRET_CASES: SecretCase[] = [
  url('a port that is not a number', `redis://:${MARKER}@127.0.0.1:abc`),
  url('a sentinel URL with a bad port', `redis+sentinel://:${MARKER}@h1:abc,h2:2/m`),
  url('a sentinel URL with a bad db', `redis+sentinel://:${MARKER}@h1:1,h2:2/m/abc`),
  url('a sentinel URL with a query', `redis+sentinel://:${MARKER}@h1:1/m?x=1`),
  url('a sentinel URL asking for TLS', `rediss+sentinel://:${MARKER}@h1:1/m`),
  url('a cluster URL with a db', `redis+cluster://:${MARKER}@h1:1,h2:2/3`),
  url('a cluster URL with an unencoded / in the password', `redis+cluster://:${MARKER}/x@h1:1`),
  url('a cluster URL with an empty host', `redis+cluster://:${MARKER}@h1:1,,h2:2`),
  { name: 'the password pasted into REDIS_SENTINELS', options: { env: { REDIS_PASSWORD: MARKER, REDIS_SENTINELS: `h1:${MARKER}` } } },
  { name: 'the password pasted into REDIS_CLUSTER_NODES', options: { env: { REDIS_PASSWORD: MARKER, REDIS_CLUSTER_NODES: `h1:1,${MARKER}:x` } } },
  { name: 'REDIS_SENTINEL_PASSWORD while nothing uses Sentinel', options: { env: { REDIS_SENTINEL_PASSWORD: MARKER, REDIS_HOST: 'h' } } },
  { name: 'REDIS_SENTINEL_PASSWORD beside REDIS_SENTINEL_PASSWORD_FILE', options: { env: { REDIS_SENTINELS: 'h1', REDIS_SENTINEL_PASSWORD: MARKER, REDIS_SENTINEL_PASSWORD_FILE: '/run/secrets/s' } } },
  { name: 'the sentinel password pasted into REDIS_SENTINEL_PASSWORD_FILE', options: { env: { REDIS_SENTINELS: 'h1', REDIS_SENTINEL_PASSWORD_FILE: MARKER } } },
  { name: 'a sentinel URL password that disagrees with REDIS_PASSWORD', options: { env: { REDIS_URL: `redis+sentinel://:${MARKER}@h1/m`, REDIS_PASSWORD: `${MARKER}-other` } } },
  { name: 'a cluster URL beside REDIS_HOST', options: { env: { REDIS_URL: `redis+cluster://:${MARKER}@h1:1`, REDIS_HOST: 'h' } } },
  { name: 'a misspelt sentinel variable beside a sentinel password', options: { env: { REDIS_SENTINEL_HOSTS: 'h1', REDIS_SENTINEL_PASSWORD: MARKER } } },
  { name: 'the sentinelPassword option, and REDIS_DB holding it', options: { env: { REDIS_DB: MARKER, REDIS_SENTINELS: 'h1' }, sentinelPassword: MARKER } },
  url('an IPv6 host without its closing bracket', `rediss://user:${MARKER}@[::1`),
  url('a space in the host', `redis://:${MARKER}@ho st:6379`),
  url('broken percent-encoding in the password and a bad port', `redis://:${MARKER}%ZZ@h:abc`),
  url('broken percent-encoding in the password and a bad db', `redis://:${MARKER}%ZZ@h/abc`),
  url('a percent-encoded password and a bad port', `redis://:${MARKER}%2F%40x@h:abc`),
  url('an unknown scheme', `http://:${MARKER}@h`),
  url('no host', `redis://:${MARKER}@/0`),
  url('one slash after the scheme', `redis:/:${MARKER}@h:6379`),
  url('no slash after the scheme', `redis:${MARKER}@h`),
  url('three slashes after the scheme', `redis:///:${MARKER}@h`),
  url('a db path that is not a number', `redis://:${MARKER}@h/abc`),
  url('a db path of two segments', `redis://:${MARKER}@h/0/1`),
  url('a port beyond 65535', `redis://:${MARKER}@h:70000`),
  url('port 0', `redis://:${MARKER}@h:0`),
  url('two ports', `redis://:${MARKER}@h:6379:6380`),
  url('an unencoded # in the password', `redis://:${MARKER}#1@h`),
  url('an unencoded / in the password', `redis://:${MARKER}/1@h`),
  url('an unencoded ? in the password', `redis://:${MARKER}?1@h`),
  url('an IPv6 zone id', `redis://:${MARKER}@[fe80::1%eth0]`),
  url('no scheme', `:${MARKER}@h:6379`),
  {
    name: 'a named client URL (REDIS_CACHE_URL) with a bad port',
    options: { env: { REDIS_CACHE_URL: `redis://:${MARKER}@h:abc` }, clients: { cache: {} } },
  },
  { name: 'the url option, with a bad port', options: { env: {}, url: `redis://:${MARKER}@h:abc` } },
  { name: 'a clients.<name>.url option with a bad db', options: { env: {}, clients: { cache: { url: `redis://:${MARKER}@h/abc` } } } },
  { name: 'a URL password that disagrees with REDIS_PASSWORD', options: { env: { REDIS_URL: `redis://:${MARKER}@h`, REDIS_PASSWORD: `${MARKER}-other` } } },
  { name: 'the password pasted into REDIS_DB', options: { env: { REDIS_PASSWORD: MARKER, REDIS_DB: MARKER } } },
  { name: 'the password pasted into REDIS_PORT', options: { env: { REDIS_URL: `redis://:${MARKER}@h`, REDIS_PORT: MARKER } } },
  { name: 'the password pasted into REDIS_TLS', options: { env: { REDIS_PASSWORD: MARKER, REDIS_TLS: MARKER } } },
  { name: 'the password pasted into REDIS_PASSWORD_FILE', options: { env: { REDIS_PASSWORD_FILE: MARKER } } },
  { name: 'the password option, and REDIS_DB holding it', options: { env: { REDIS_DB: MARKER }, password: MARKER } },
]

/** True when `text` holds the marker in any case (URL parsing lower-cases some parts). */
export function holdsSecret (text: string): boolean {
  return text.toLowerCase().includes(MARKER.toLowerCase())
}
