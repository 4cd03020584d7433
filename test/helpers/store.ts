// The fail-open store on its own, as an app that registers @fastify/rate-limit
// itself would use it: a plain ioredis client against a disposable redis-server
// (optionally through the stalling/delaying TCP proxy), and promise wrappers
// around the store's callback API.
import type { Test } from 'tap'
import { Redis, type RedisOptions } from 'ioredis'
import { startRedis, type RedisServer } from './redis-server.js'
import { startTcpProxy, type TcpProxy, type TcpProxyOptions } from './tcp-proxy.js'
import { createFailOpenStore, type FailOpenStore, type FailOpenStoreClass, type FailOpenStoreOptions } from '../../src/index.js'

export interface Count { current: number; ttl: number }

export function incr (store: FailOpenStore, key: string, timeWindow = 10_000, max = 3): Promise<Count> {
  return new Promise((resolve, reject) => {
    store.incr(key, (error, result) => { error === null ? resolve(result as Count) : reject(error) }, timeWindow, max)
  })
}

export function read (store: FailOpenStore, key: string): Promise<Count> {
  return new Promise((resolve, reject) => {
    store.read(key, (error, result) => { error === null ? resolve(result as Count) : reject(error) }, 10_000, 3)
  })
}

export interface StoreSetup {
  server: RedisServer
  redis: Redis
  Store: FailOpenStoreClass
  /** Between the client and the server when `proxy` is set. */
  proxy: TcpProxy | undefined
}

export interface StoreSetupOptions {
  password?: string
  /** Store options; decisionTimeout defaults to PATIENT's. */
  store?: Partial<FailOpenStoreOptions>
  /** Overrides of the client's options; commandTimeout defaults to PATIENT's. */
  client?: RedisOptions
  /** A TCP proxy between the client and the server: `true`, or its options. */
  proxy?: boolean | TcpProxyOptions
}

/**
 * The deadlines startStore uses unless told otherwise, for tests about what is counted rather
 * than about deadlines: on a busy machine a healthy Redis can answer a script call after the
 * store's 100 ms default (the first call on a server takes two round trips, EVALSHA then EVAL),
 * and the store then rightly decides in memory. Only a real hang reaches these.
 */
export const PATIENT = { store: { decisionTimeout: 2000 }, client: { commandTimeout: 5000 } } as const
/** The store's default deadline, and a client command timeout just above it: for tests that wait out a hang. */
export const QUICK = { store: { decisionTimeout: 100 }, client: { commandTimeout: 200 } } as const

/** Server, client (ready) and store class; all stopped at the end of `t`. */
export async function startStore (t: Test, options: StoreSetupOptions = {}): Promise<StoreSetup> {
  const { password } = options
  const server = await startRedis(password === undefined ? {} : { password })
  const proxy = options.proxy === undefined || options.proxy === false ? undefined
    : await startTcpProxy({ host: '127.0.0.1', port: server.port }, options.proxy === true ? {} : options.proxy)
  const redis = new Redis({
    port: proxy?.port ?? server.port,
    host: '127.0.0.1',
    ...(password === undefined ? {} : { password }),
    commandTimeout: PATIENT.client.commandTimeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 100,
    ...options.client,
  })
  redis.on('error', () => {})
  await new Promise((resolve) => redis.once('ready', resolve))
  const Store = createFailOpenStore({ redis, decisionTimeout: PATIENT.store.decisionTimeout, ...options.store })
  t.teardown(async () => {
    Store.close()
    redis.disconnect()
    await proxy?.close()
    await server.kill()
  })
  return { server, redis, Store, proxy }
}
