/*
 * Configuration: environment and options in, resolved connections out.
 * Read in this order: types → topology (which way Redis is reached) →
 * resolve-one (one connection's fields) → named-clients → resolve.
 */
export { resolveConfig } from './resolve.js'
export type {
  Address, AddressSetting, ConfigInput, ConnectionSettings, Env, NamedClientSettings, ResolvedConfig, ResolvedConnection, ResolvedTopology,
} from './types.js'
