import type { Cluster, Redis } from 'ioredis'

/*
 * The type of `app.redis`, built from ioredis alone so the published types
 * need nothing beyond this package's dependencies and its fastify peer.
 */

/**
 * The names of your named clients. Empty by default: then `app.redis.<name>`
 * is any name, as with @fastify/redis. Declare the names you register to make
 * a misspelt name a type error:
 *
 * ```ts
 * import type { Cluster, Redis } from 'ioredis'
 * declare module 'fastify-resilient-redis' {
 *   interface RedisClients { cache: Redis; broker: Redis }
 * }
 * ```
 *
 * Each is typed as an ioredis `Redis`, or as a `Cluster` when declared as one
 * (a client on a redis+cluster:// URL). Mark a name optional
 * (`broker?: Redis`) when it is not always registered.
 */
// Empty here: filled in by module augmentation.
export interface RedisClients {}

/** Named clients by any name, as @fastify/redis declares them (`FastifyRedisNamespacedInstance`). */
export interface RedisNamespacedClients {
  [name: string]: Redis
}

/** A declared client's type: `Cluster` (or `Redis | Cluster`) when declared so, else `Redis`. */
type ClientOf<Declared> = [Exclude<Declared, undefined>] extends [Redis | Cluster] ? Exclude<Declared, undefined> : Redis

/** The named clients declared in {@link RedisClients}, each an ioredis client (a `Cluster` where declared as one). */
export type DeclaredRedisClients = { [Name in keyof RedisClients]: ClientOf<RedisClients[Name]> }

/**
 * What `app.redis` itself is. Empty by default: an ioredis `Redis` (one
 * server, or Sentinel). On a Redis Cluster the plugin hands out an ioredis
 * `Cluster`: declare it, so the type says what runs, and code that would
 * only work on one server (`app.redis.options.host`, `select`) fails to
 * compile. Code that must work on both declares `Redis | Cluster`:
 *
 * ```ts
 * import type { Cluster } from 'ioredis'
 * declare module 'fastify-resilient-redis' {
 *   interface RedisTopology { client: Cluster }
 * }
 * ```
 */
// Empty here: filled in by module augmentation.
export interface RedisTopology {}

/** The type of `app.redis` itself, as declared in {@link RedisTopology}: `Redis` unless declared otherwise. */
export type DefaultRedisClient = RedisTopology extends { client: infer Client extends Redis | Cluster } ? Client : Redis

/**
 * `app.redis`: the default ioredis client, with each named client as a
 * property. Without declared {@link RedisClients} or {@link RedisTopology},
 * the same type as @fastify/redis's `FastifyRedis`, so code written for it
 * keeps compiling.
 */
export type FastifyRedis = DefaultRedisClient & ([keyof RedisClients] extends [never] ? RedisNamespacedClients : DeclaredRedisClients)
