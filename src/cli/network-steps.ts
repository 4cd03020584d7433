import { lookup } from 'node:dns/promises'
import net from 'node:net'
import tls from 'node:tls'
import type { ResolvedConnection } from '../config/index.js'

/*
 * The steps below Redis: name resolution, TCP, TLS. Each opens what it needs
 * and closes it again (destroy, never a graceful end that could wait on a
 * server that stopped answering). Time bounds are the caller's: every socket
 * is handed to `track` first, so the caller can destroy one that is still
 * connecting when its time is up.
 */

export type Track = (socket: net.Socket) => void

export interface StepOutcome {
  status: 'ok' | 'warn' | 'skipped'
  detail: string
}

export async function dnsStep (host: string): Promise<StepOutcome> {
  if (net.isIP(host) !== 0) return { status: 'skipped', detail: `${host} is an IP address: nothing to resolve` }
  const addresses = await lookup(host, { all: true })
  return { status: 'ok', detail: `${host} → ${addresses.map((a) => a.address).join(', ')}` }
}

/** Resolves once `socket` emits `readyEvent`, rejects on its first error; destroys it in every case. */
async function opened<S extends net.Socket> (socket: S, readyEvent: 'connect' | 'secureConnect', describe: (socket: S) => string): Promise<string> {
  // Errors after the first (or after destroy) must not become uncaught exceptions.
  socket.on('error', () => {})
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once(readyEvent, resolve)
      socket.once('error', reject)
    })
    return describe(socket)
  } finally {
    socket.destroy()
  }
}

export async function tcpStep (host: string, port: number, track: Track): Promise<StepOutcome> {
  const socket = net.connect({ host, port })
  track(socket)
  const detail = await opened(socket, 'connect',
    (s) => `connected to ${s.remoteAddress}:${s.remotePort}`)
  return { status: 'ok', detail }
}

export async function tlsStep (connection: ResolvedConnection, track: Track): Promise<StepOutcome> {
  if (connection.tls === undefined) return { status: 'skipped', detail: 'not configured (redis://, REDIS_TLS unset)' }
  const servername = net.isIP(connection.host) === 0 ? connection.host : undefined
  const socket = tls.connect({ ...connection.tls, host: connection.host, port: connection.port, servername })
  track(socket)
  const detail = await opened(socket, 'secureConnect', (s) => `${s.getProtocol()} handshake, certificate verified`)
  return { status: 'ok', detail }
}
