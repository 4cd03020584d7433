// Loopback TCP proxy that can black-hole or reset traffic, to simulate network faults between
// the client and Redis without touching the Redis process itself.
import net from 'node:net'

export interface TcpProxy {
  readonly port: number
  readonly url: (password?: string) => string
  /** Stop forwarding in both directions; sockets stay open and new connections are accepted. */
  stall(): void
  /**
   * Resume forwarding. Bytes received while stalled were held (sockets paused, so they sit in
   * the stream/kernel buffers) and are delivered now, in order.
   */
  unstall(): void
  /** Reset (RST) every current client and upstream socket. */
  dropAll(): void
  /** Holds every reply (upstream to client) this long before passing it on, in order; 0 ends it. */
  delayReplies(ms: number): void
  /**
   * `true`: holds every reply from now on, in order, until released: a reply later than any
   * deadline, however slow the machine. `false`: stops holding and passes on what was held.
   */
  holdReplies(hold?: boolean): void
  /** Passes on, in order, every reply held so far; holding goes on. */
  releaseReplies(): void
  readonly connections: number
  close(): Promise<void>
}

const HOST = '127.0.0.1'

/** RST when possible so the peer sees ECONNRESET; a still-connecting socket can only be destroyed. */
function reset(sock: net.Socket): void {
  if (sock.destroyed) return
  if (sock.connecting) sock.destroy()
  else sock.resetAndDestroy()
}

export interface TcpProxyOptions {
  /** Sees every chunk a client sends; returning false swallows it (it never reaches Redis). */
  forward?: (chunk: Buffer) => boolean
}

export function startTcpProxy(target: { host: string; port: number }, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  let stalled = false
  let replyDelayMs = 0
  let holding = false
  // Delayed replies, in arrival order: one timer releases whatever is due, so order holds
  // even when the delay changes.
  const held: Array<{ at: number; to: net.Socket; chunk: Buffer }> = []
  let release: NodeJS.Timeout | undefined
  const releaseDue = (): void => {
    release = undefined
    const now = performance.now()
    while (held.length > 0 && (held[0] as { at: number }).at <= now) {
      const { to, chunk } = held.shift() as { to: net.Socket; chunk: Buffer }
      if (!to.destroyed) to.write(chunk)
    }
    const next = held[0]?.at
    if (next !== undefined && Number.isFinite(next)) release = setTimeout(releaseDue, next - now)
  }
  const reply = (to: net.Socket, chunk: Buffer): boolean => {
    if (!holding && replyDelayMs === 0 && held.length === 0) return true
    const last = held.length > 0 ? (held[held.length - 1] as { at: number }).at : 0
    // A held reply is due never (Infinity), until released; replies behind it wait for it.
    held.push({ at: holding ? Infinity : Math.max(performance.now() + replyDelayMs, last), to, chunk })
    if (!holding && release === undefined) release = setTimeout(releaseDue, replyDelayMs)
    return false
  }
  const releaseHeld = (): void => {
    clearTimeout(release)
    release = undefined
    for (const item of held) item.at = 0
    releaseDue()
  }
  const clients = new Set<net.Socket>()
  const sockets = new Set<net.Socket>() // clients and upstreams, for dropAll/close

  // Bytes are piped by hand (not .pipe()) so pausing both ends is all a stall takes.
  const link = (from: net.Socket, to: net.Socket, forward: (chunk: Buffer) => boolean = () => true): void => {
    from.on('data', (chunk: Buffer) => { if (forward(chunk)) to.write(chunk) })
    // Errors (ECONNRESET, ECONNREFUSED upstream, ...) are expected here; 'close' follows them.
    from.on('error', () => {})
    from.on('close', (hadError) => {
      sockets.delete(from)
      // A clean close is forwarded as FIN after pending bytes; a failure as an immediate teardown.
      if (hadError) to.destroy()
      else to.end()
    })
  }

  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.host, port: target.port })
    clients.add(client)
    sockets.add(client)
    sockets.add(upstream)
    client.on('close', () => clients.delete(client))
    link(client, upstream, options.forward)
    link(upstream, client, (chunk) => reply(client, chunk))
    if (stalled) {
      client.pause()
      upstream.pause()
    }
  })
  server.on('error', () => {}) // only listen() can fail, and that rejects below

  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const addr = server.address()
      if (typeof addr !== 'object' || addr === null) {
        reject(new Error('tcp-proxy: no address'))
        return
      }
      const port = addr.port
      resolve({
        port,
        url: (password?: string) =>
          `redis://${password === undefined ? '' : `:${encodeURIComponent(password)}@`}${HOST}:${port}`,
        stall() {
          stalled = true
          for (const s of sockets) s.pause()
        },
        unstall() {
          stalled = false
          for (const s of sockets) s.resume()
        },
        dropAll() {
          for (const s of sockets) reset(s)
        },
        delayReplies(ms: number) {
          replyDelayMs = ms
        },
        holdReplies(hold = true) {
          holding = hold
          if (!hold) releaseHeld()
        },
        releaseReplies() {
          releaseHeld()
        },
        get connections() {
          return clients.size
        },
        close() {
          clearTimeout(release)
          return new Promise<void>((res) => {
            server.close(() => res())
            for (const s of sockets) s.destroy()
          })
        },
      })
    })
  })
}
