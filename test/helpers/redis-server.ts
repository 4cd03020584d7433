// Disposable redis-server processes for fault-injection tests.
// Talks RESP over node:net by hand so the helpers never depend on the code under test.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface RedisServerOptions {
  password?: string
  port?: number
  extraArgs?: string[]
  /** A config file's text, written into the server's directory and passed first (a sentinel needs one it can rewrite). */
  configText?: string
}

/**
 * The server binary: redis-server, or valkey-server with FRR_TEST_SERVER=valkey
 * (same arguments, same protocol). Its CLI: redis-cli or valkey-cli.
 */
export const SERVER_FLAVOUR: 'redis' | 'valkey' = process.env.FRR_TEST_SERVER === 'valkey' ? 'valkey' : 'redis'
export const SERVER_BINARY = `${SERVER_FLAVOUR}-server`
export const CLI_BINARY = `${SERVER_FLAVOUR}-cli`

export interface RedisServer {
  readonly port: number
  readonly host: '127.0.0.1'
  readonly password: string | undefined
  readonly url: string
  readonly pid: number | undefined
  kill(): Promise<void>
  stop(): Promise<void>
  pause(): void
  resume(): void
  restart(opts?: { password?: string | null }): Promise<void>
  /**
   * Raw RESP reply without the final CRLF, e.g. '+PONG', ':0', '$-1', '$1\r\nv', '-NOAUTH ...'.
   * Error replies resolve; network errors and the 2 s timeout reject.
   */
  command(...args: string[]): Promise<string>
}

const HOST = '127.0.0.1'
const OUTPUT_LIMIT = 4096

interface Proc { child: ChildProcess; dir: string; output: string; exited: boolean; exitPromise: Promise<void> }

// Every process still running, so stopAllRedis() and the exit hook can reap leftovers.
const running = new Set<Proc>()
const servers = new Set<Server>()

process.once('exit', () => {
  for (const p of running) {
    try { p.child.kill('SIGKILL') } catch { /* already gone */ }
    rmSync(p.dir, { recursive: true, force: true })
  }
})

/** Thrown when redis-server exits before answering; most often "Address already in use". */
class EarlyExitError extends Error {}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, HOST, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('freePort: no port assigned'))))
    })
  })
}

function encode(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')
}

/** Index just past one complete RESP2 reply starting at `off`, or -1 while incomplete. */
function respEnd(buf: Buffer, off: number): number {
  const lineEnd = buf.indexOf('\r\n', off)
  if (lineEnd < 0) return -1
  const type = String.fromCharCode(buf[off] ?? 0)
  const n = Number(buf.toString('latin1', off + 1, lineEnd))
  let next = lineEnd + 2
  if (type === '$') return n < 0 ? next : buf.length >= next + n + 2 ? next + n + 2 : -1
  if (type === '*') {
    for (let i = 0; i < n && next >= 0; i++) next = respEnd(buf, next)
  }
  return next
}

/**
 * One command on a fresh socket. AUTH is pipelined first and its reply skipped: if it failed,
 * the command's own reply (-NOAUTH ...) says so. Error replies resolve as text; only
 * network failures and timeouts reject.
 */
function rawCommand(port: number, password: string | undefined, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    let settled = false
    const sock = net.connect({ host: HOST, port })
    const finish = (err: Error | null, value = ''): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      sock.destroy()
      if (err) reject(err)
      else resolve(value)
    }
    const timer = setTimeout(() => finish(new Error(`redis ${args.join(' ')} on :${port} timed out after ${timeoutMs} ms`)), timeoutMs)
    sock.on('connect', () => sock.write((password === undefined ? '' : encode(['AUTH', password])) + encode(args)))
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      const start = password === undefined ? 0 : respEnd(buf, 0)
      const end = start < 0 ? -1 : respEnd(buf, start)
      if (end >= 0) finish(null, buf.toString('utf8', start, end - 2))
    })
    sock.on('error', (err) => finish(err))
    sock.on('close', () => finish(new Error(`redis ${args.join(' ')} on :${port}: connection closed before reply`)))
  })
}

/** Resolves true once a connect attempt is refused (nothing listens), false if something accepted it. */
function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port })
    sock.setTimeout(500, () => { sock.destroy(); resolve(false) })
    sock.on('connect', () => { sock.destroy(); resolve(false) })
    sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'))
  })
}

/** Wait (bounded; the timer also keeps the event loop alive) for the child's exit. */
async function waitExit(p: Proc, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((r) => { timer = setTimeout(r, ms) })
  await Promise.race([p.exitPromise, timeout])
  clearTimeout(timer)
  return p.exited
}

async function launch(port: number, password: string | undefined, extraArgs: string[], configText?: string): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'))
  const args = configText === undefined ? [] : [join(dir, 'server.conf')]
  if (configText !== undefined) writeFileSync(args[0] as string, configText)
  args.push('--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir,
    '--daemonize', 'no', '--loglevel', 'warning')
  if (password !== undefined) args.push('--requirepass', password)
  args.push(...extraArgs)
  const child = spawn(SERVER_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let markExited = (): void => {}
  const p: Proc = { child, dir, output: '', exited: false, exitPromise: new Promise((r) => { markExited = r }) }
  const onExit = (): void => {
    if (p.exited) return
    p.exited = true
    running.delete(p)
    rmSync(dir, { recursive: true, force: true })
    markExited()
  }
  const collect = (chunk: Buffer): void => { p.output = (p.output + chunk.toString()).slice(-OUTPUT_LIMIT) }
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', collect)
    stream?.on('error', () => {})
    // A forgotten server must not keep the test process alive; the exit hook reaps it.
    ;(stream as net.Socket | null)?.unref()
  }
  child.on('exit', onExit)
  child.on('error', (err) => {
    p.output += `\n${err.message}`
    if (child.pid === undefined) onExit() // spawn failed: 'exit' may never come
  })
  child.unref()
  if (child.pid !== undefined) running.add(p)

  // Generous: a redis-server starting on a busy machine; only one that never answers fails it.
  const deadline = Date.now() + 20_000
  for (;;) {
    if (p.exited) throw new EarlyExitError(`redis-server on :${port} exited early:\n${p.output}`)
    // INFO instead of PING also proves the answer comes from *our* process, not a port squatter.
    const info = await rawCommand(port, password, ['INFO', 'server'], 500).catch(() => '')
    if (!p.exited && info.includes(`process_id:${child.pid}\r\n`)) return p
    if (Date.now() > deadline) {
      await killProc(p)
      throw new Error(`redis-server on :${port} did not answer within 20 s:\n${p.output}`)
    }
    await sleep(20)
  }
}

async function killProc(p: Proc): Promise<void> {
  p.child.kill('SIGKILL') // works on SIGSTOPped processes too
  if (!(await waitExit(p, 5000))) throw new Error(`redis-server pid ${p.child.pid} did not exit after SIGKILL`)
}

class Server implements RedisServer {
  readonly host = HOST
  readonly port: number
  password: string | undefined
  readonly #extraArgs: string[]
  readonly #configText: string | undefined
  #proc: Proc | undefined

  constructor(port: number, password: string | undefined, extraArgs: string[], proc: Proc, configText?: string) {
    this.port = port
    this.password = password
    this.#extraArgs = extraArgs
    this.#configText = configText
    this.#proc = proc
    servers.add(this)
  }

  get url(): string {
    const auth = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`
    return `redis://${auth}${HOST}:${this.port}`
  }

  get pid(): number | undefined {
    return this.#proc !== undefined && !this.#proc.exited ? this.#proc.child.pid : undefined
  }

  #live(what: string): Proc {
    const p = this.#proc
    if (p === undefined || p.exited) throw new Error(`redis-server :${this.port} is not running (${what})`)
    return p
  }

  async #reaped(): Promise<void> {
    this.#proc = undefined
    servers.delete(this)
    for (let i = 0; i < 100; i++) {
      if (await refuses(this.port)) return
      await sleep(20)
    }
    throw new Error(`port ${this.port} still accepts connections after redis-server exited`)
  }

  async kill(): Promise<void> {
    const p = this.#proc
    if (p === undefined) return
    if (!p.exited) await killProc(p)
    await this.#reaped()
  }

  async stop(): Promise<void> {
    const p = this.#proc
    if (p === undefined) return
    if (!p.exited) {
      p.child.kill('SIGTERM')
      p.child.kill('SIGCONT') // a paused server would otherwise never handle SIGTERM
      if (!(await waitExit(p, 3000))) await killProc(p)
    }
    await this.#reaped()
  }

  pause(): void {
    this.#live('pause').child.kill('SIGSTOP')
  }

  resume(): void {
    this.#live('resume').child.kill('SIGCONT')
  }

  async restart(opts: { password?: string | null } = {}): Promise<void> {
    await this.kill()
    if (opts.password !== undefined) this.password = opts.password ?? undefined
    // The old socket may linger briefly (or a stranger grabbed the port): retry for up to 3 s.
    const deadline = Date.now() + 3000
    for (;;) {
      try {
        this.#proc = await launch(this.port, this.password, this.#extraArgs, this.#configText)
        servers.add(this)
        return
      } catch (err) {
        if (!(err instanceof EarlyExitError) || Date.now() > deadline) throw err
        await sleep(50)
      }
    }
  }

  command(...args: string[]): Promise<string> {
    return rawCommand(this.port, this.password, args, 2000)
  }
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const extraArgs = opts.extraArgs ?? []
  // freePort() closes its listener before redis binds, so another process may win the race.
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort())
    try {
      return new Server(port, opts.password, extraArgs, await launch(port, opts.password, extraArgs, opts.configText), opts.configText)
    } catch (err) {
      if (!(err instanceof EarlyExitError) || opts.port !== undefined || attempt >= 3) throw err
    }
  }
}

export async function stopAllRedis(): Promise<void> {
  const results = await Promise.allSettled([...servers].map((s) => s.kill()))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}
