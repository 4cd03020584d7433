import type { Redis } from 'ioredis'

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
 * import type { Redis } from 'ioredis'
 * declare module 'fastify-resilient-redis' {
 *   interface RedisClients { cache: Redis; broker: Redis }
 * }
 * ```
 *
 * Only the names count: each of them is typed as an ioredis `Redis`. Mark a
 * name optional (`broker?: Redis`) when it is not always registered.
 */
// Empty here: filled in by module augmentation.
export interface RedisClients {}

/** Named clients by any name, as @fastify/redis declares them (`FastifyRedisNamespacedInstance`). */
export interface RedisNamespacedClients {
  [name: string]: Redis
}

/** The named clients declared in {@link RedisClients}, each an ioredis client. */
export type DeclaredRedisClients = { [Name in keyof RedisClients]: Redis }

/**
 * `app.redis`: the default ioredis client, with each named client as a
 * property. Without declared {@link RedisClients}, the same type as
 * @fastify/redis's `FastifyRedis`, so code written for it keeps compiling.
 */
export type FastifyRedis = Redis & ([keyof RedisClients] extends [never] ? RedisNamespacedClients : DeclaredRedisClients)
