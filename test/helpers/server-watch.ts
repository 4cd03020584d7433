// What the servers themselves see during a failover, timestamped in the test
// process: each sentinel's +switch-master announcement, and each write a data
// server executes (keyspace notifications for INCRBY, which the rate limiter's
// script runs once per counter). Uses plain ioredis subscribers of its own,
// never the plugin's clients; every subscriber is closed by stop().
import { Redis } from 'ioredis'

export interface Announcement {
  /** Date.now() when the test heard it. */
  at: number
  sentinelPort: number
  /** `<name> <old ip> <old port> <new ip> <new port>` */
  message: string
}

export interface SwitchWatch {
  readonly announcements: Announcement[]
  /** Date.now() of the first +switch-master any sentinel published, or undefined. */
  first: () => number | undefined
  stop: () => void
}

function subscriber (port: number, password: string | undefined): Redis {
  // No reconnect: a subscription lost is a fact the test reads (closedAt), not something to hide.
  const client = new Redis({ host: '127.0.0.1', port, ...(password === undefined ? {} : { password }), retryStrategy: () => null, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  return client
}

/** Subscribes to +switch-master on every sentinel (each one announces it, at its own time). */
export async function watchSwitchMaster (sentinelPorts: number[], password?: string): Promise<SwitchWatch> {
  const announcements: Announcement[] = []
  const clients = sentinelPorts.map((port) => {
    const client = subscriber(port, password)
    client.on('message', (_channel: string, message: string) => { announcements.push({ at: Date.now(), sentinelPort: port, message }) })
    return client
  })
  await Promise.all(clients.map(async (client) => { await client.connect(); await client.subscribe('+switch-master') }))
  return {
    announcements,
    first: () => announcements.length === 0 ? undefined : Math.min(...announcements.map((a) => a.at)),
    stop: () => { for (const client of clients) client.disconnect() },
  }
}

export interface WriteWatch {
  /** Key and Date.now() of each INCRBY the server executed, in the order heard. */
  readonly writes: Array<{ key: string; at: number }>
  /**
   * Date.now() of each time the server closed the subscription: a sentinel
   * that promotes or demotes a server kills its clients. The watch
   * subscribes again at once (what it misses meanwhile is a few ms).
   */
  readonly closes: number[]
  stop: () => void
}

/** Hears every INCRBY the server on `port` executes (its own clients' and, as a replica, its master's). */
export async function watchWrites (port: number, password: string): Promise<WriteWatch> {
  const admin = subscriber(port, password)
  await admin.connect()
  await admin.config('SET', 'notify-keyspace-events', 'E$')
  admin.disconnect()
  const writes: Array<{ key: string; at: number }> = []
  const closes: number[] = []
  let stopped = false
  const client = new Redis({ host: '127.0.0.1', port, password, retryStrategy: () => stopped ? null : 10, enableReadyCheck: false, lazyConnect: true })
  client.on('error', () => {})
  client.on('message', (channel: string, key: string) => { if (channel.endsWith(':incrby')) writes.push({ key, at: Date.now() }) })
  client.on('close', () => { if (!stopped) closes.push(Date.now()) })
  await client.connect()
  await client.subscribe('__keyevent@0__:incrby')
  return { writes, closes, stop: () => { stopped = true; client.disconnect() } }
}
