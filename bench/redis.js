// Disposable redis-server processes for the benchmarks: loopback only, free
// ports only (never 6379), killed by pid. Talks RESP over node:net by hand so
// the harness never depends on the code it measures.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export const HOST = '127.0.0.1'
const running = new Set()

/** Kills every redis-server this process started (also on exit). */
export function killAllRedis () {
  for (const proc of running) {
    try { process.kill(proc.pid, 'SIGKILL') } catch {}
    rmSync(proc.dir, { recursive: true, force: true })
  }
  running.clear()
}
process.once('exit', killAllRedis)

/** A free loopback port (never 6379). */
export async function freePort () {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer()
      srv.once('error', reject)
      srv.listen(0, HOST, () => {
        const { port } = srv.address()
        srv.close(() => resolve(port))
      })
    })
    if (port !== 6379) return port
  }
}

function encode (args) {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')
}

/** Index just past one complete RESP reply at `off`, or -1 while incomplete. */
function respEnd (buf, off) {
  const lineEnd = buf.indexOf('\r\n', off)
  if (lineEnd < 0) return -1
  const type = String.fromCharCode(buf[off])
  const n = Number(buf.toString('latin1', off + 1, lineEnd))
  let next = lineEnd + 2
  if (type === '$') return n < 0 ? next : buf.length >= next + n + 2 ? next + n + 2 : -1
  if (type === '*') for (let i = 0; i < n && next >= 0; i++) next = respEnd(buf, next)
  return next
}

/**
 * One command on a fresh socket (AUTH pipelined first when a password is
 * given, its reply skipped). Resolves the raw reply without the final CRLF,
 * e.g. '+PONG', ':3', '$-1', '$2\r\n42', '-NOAUTH …'; rejects on network
 * errors and after `timeoutMs`.
 */
export function rawCommand (port, password, args, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    let settled = false
    const sock = net.connect({ host: HOST, port })
    const finish = (err, value) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      sock.destroy()
      if (err) reject(err)
      else resolve(value)
    }
    const timer = setTimeout(() => finish(new Error(`redis ${args[0]} on :${port} timed out`)), timeoutMs)
    sock.on('connect', () => sock.write((password === undefined ? '' : encode(['AUTH', password])) + encode(args)))
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      const start = password === undefined ? 0 : respEnd(buf, 0)
      const end = start < 0 ? -1 : respEnd(buf, start)
      if (end >= 0) finish(null, buf.toString('utf8', start, end - 2))
    })
    sock.on('error', (err) => finish(err))
    sock.on('close', () => finish(new Error(`redis ${args[0]} on :${port}: closed before reply`)))
  })
}

function refuses (port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port })
    sock.setTimeout(300, () => { sock.destroy(); resolve(false) })
    sock.on('connect', () => { sock.destroy(); resolve(false) })
    sock.on('error', (err) => resolve(err.code === 'ECONNREFUSED'))
  })
}

async function launch (port, password, extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'frr-bench-redis-'))
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir,
    '--daemonize', 'no', '--loglevel', 'warning']
  if (password !== undefined) args.push('--requirepass', password)
  args.push(...extraArgs)
  // BENCH_REDIS_CPU (set by run.js --pin): redis-server runs on that CPU only.
  const cpu = process.env.BENCH_REDIS_CPU
  const child = cpu === undefined ? spawn('redis-server', args, { stdio: 'ignore' }) : spawn('taskset', ['-c', cpu, 'redis-server', ...args], { stdio: 'ignore' })
  const proc = { pid: child.pid, dir, exited: false }
  proc.exit = new Promise((resolve) => child.once('exit', () => {
    proc.exited = true
    running.delete(proc)
    rmSync(dir, { recursive: true, force: true })
    resolve()
  }))
  child.on('error', () => {})
  running.add(proc)
  const deadline = Date.now() + 5000
  for (;;) {
    if (proc.exited) throw Object.assign(new Error(`redis-server :${port} exited early`), { early: true })
    // INFO proves the answer comes from our process, not a port squatter.
    const info = await rawCommand(port, password, ['INFO', 'server'], 300).catch(() => '')
    if (info.includes(`process_id:${child.pid}\r\n`)) return proc
    if (Date.now() > deadline) {
      process.kill(child.pid, 'SIGKILL')
      await proc.exit
      throw new Error(`redis-server :${port} did not answer within 5 s`)
    }
    await sleep(5)
  }
}

/** Starts redis-server on a free loopback port; `password` sets requirepass; `extraArgs` more flags. */
export async function startRedis ({ password, extraArgs = [] } = {}) {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    try {
      return new RedisServer(port, password, await launch(port, password, extraArgs), extraArgs)
    } catch (err) {
      if (!err.early || attempt >= 3) throw err
    }
  }
}

class RedisServer {
  #proc
  #extraArgs
  constructor (port, password, proc, extraArgs) {
    this.port = port
    this.password = password
    this.#proc = proc
    this.#extraArgs = extraArgs
  }

  get pid () { return this.#proc?.pid }

  /** SIGKILL (works while SIGSTOPped), then wait until the port refuses. */
  async kill () {
    const proc = this.#proc
    if (proc === undefined) return
    this.#proc = undefined
    if (!proc.exited) {
      process.kill(proc.pid, 'SIGKILL')
      await Promise.race([proc.exit, sleep(5000)])
    }
    for (let i = 0; i < 100 && !(await refuses(this.port)); i++) await sleep(10)
  }

  /** SIGSTOP: the kernel still accepts connections, nothing is ever answered. */
  pause () { process.kill(this.#proc.pid, 'SIGSTOP') }
  resume () { process.kill(this.#proc.pid, 'SIGCONT') }

  /** A fresh, empty server on the same port; resolves once it answers. */
  async restart () {
    await this.kill()
    const deadline = Date.now() + 3000
    for (;;) {
      try {
        this.#proc = await launch(this.port, this.password, this.#extraArgs)
        return
      } catch (err) {
        if (!err.early || Date.now() > deadline) throw err
        await sleep(20)
      }
    }
  }

  command (...args) { return rawCommand(this.port, this.password, args, 2000) }

  /**
   * Redis's own CPU time so far (used_cpu_sys + used_cpu_user of INFO cpu, in
   * ms, microsecond resolution); null when it cannot answer (killed, stopped).
   */
  async cpuMs () {
    const info = await rawCommand(this.port, this.password, ['INFO', 'cpu'], 500).catch(() => '')
    const field = (name) => Number(info.match(new RegExp(`${name}:([0-9.]+)`))?.[1])
    const seconds = field('used_cpu_sys') + field('used_cpu_user')
    return Number.isFinite(seconds) ? seconds * 1000 : null
  }

  /** Sum of the integer values of every key starting with one of `prefixes`, except those ending with one of `excludeEndings`. */
  async sumKeys (prefixes, excludeEndings = []) {
    const keys = []
    for (const prefix of prefixes) {
      const reply = await this.command('KEYS', `${prefix}*`)
      keys.push(...reply.split('\r\n').filter((line, i) => i > 0 && !line.startsWith('$')).filter((k) => !excludeEndings.some((end) => k.endsWith(end))))
    }
    let sum = 0
    for (const key of keys) {
      const value = await this.command('GET', key)
      sum += Number(value.split('\r\n')[1] ?? 0)
    }
    return { keys, sum }
  }
}
