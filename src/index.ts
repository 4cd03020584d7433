/*
 * The public surface, listed by name. Internals (the connection monitor,
 * ioredis option building, URL parsing) are not exported: they may change in
 * any release.
 */
import { resilientRedis } from './plugin.js'

export default resilientRedis
export { resilientRedis }
export type { ResilientRedisOptions } from './plugin.js'
export type { DefaultRedisClient, FastifyRedis, RedisClients, RedisTopology } from './redis-decorator.js'

export { resolveConfig } from './config/index.js'
export type { Address, AddressSetting, ConfigInput, ConnectionSettings, NamedClientSettings, ResolvedConfig, ResolvedConnection, ResolvedTopology, Env } from './config/index.js'
export type { ConnectionRole } from './client-role.js'

export type { RedisHealthReport, ClientHealth } from './health.js'

export { createFailOpenStore } from './rate-limit/fail-open-store.js'
export type { FailOpenStore, FailOpenStoreClass, FailOpenStoreOptions, RateLimitReport } from './rate-limit/fail-open-store.js'
export type { FailMode, LimiterMode } from './rate-limit/failover.js'
export type { RateLimitSettings } from './rate-limit/settings.js'
export { CONNECTION_CHANNEL, RATE_LIMIT_CHANNEL } from './diagnostics.js'
export type { FailureClass } from './failure-class.js'
export type { Timeouts } from './connection/client-options.js'

export {
  AlreadyRegisteredError,
  ConflictingSettingsError,
  InvalidSettingError,
  PasswordFileError,
  PasswordRequiredError,
  RedisUnavailableError,
  isResilientRedisError,
} from './errors.js'
export type { ResilientRedisError, ResilientRedisErrorCode } from './errors.js'
export { isRedisUnavailableError } from './unavailable-error.js'
