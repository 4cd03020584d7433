// One app variant in its own child process (`node bench/apps/<variant>.js`):
// spawn, wait for "listening <port>" (or a failed boot), stop by pid.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const APPS = join(dirname(fileURLToPath(import.meta.url)), 'apps')
const OUTPUT_LIMIT = 64 * 1024
const running = new Set()

export const VARIANTS = ['none', 'status-quo', 'rate-limit-memory', 'plugin', 'rate-limiter-flexible']

process.once('exit', () => { for (const child of running) try { process.kill(child.pid, 'SIGKILL') } catch {} })

/**
 * Starts `variant` (an app in bench/apps) and resolves once it listens or gave up:
 * `{ ok: true, port, bootMs, app }` or `{ ok: false, bootMs, message }`.
 * `bootMs` runs from spawn to the line that says so (spawn overhead is the
 * same for every case and cancels out in differences). A boot still pending
 * after `limitMs` is killed and reported as failed.
 */
export function startApp (variant, { redisUrl, pluginDir, trustProxy = false, env: extraEnv = {}, limitMs = 20_000 } = {}) {
  // `plugin@/some/package/root`: the plugin app loading that build (to compare tuning candidates in one run);
  // `plugin~cluster`: the same app, on another topology (the harness gives it the addresses).
  const [base, dir] = variant.split('@')
  const file = base.split('~')[0]
  if (dir !== undefined) pluginDir = dir
  const env = { ...process.env, PORT: '0', NODE_ENV: 'development' }
  for (const name of Object.keys(env)) if (name.startsWith('REDIS_') || name === 'DISABLE_THROTTLING') delete env[name]
  if (redisUrl !== undefined) env.REDIS_URL = redisUrl
  if (pluginDir !== undefined) env.BENCH_PLUGIN_DIR = pluginDir
  if (trustProxy) env.BENCH_TRUST_PROXY = '1'
  // BENCH_MAX, BENCH_WINDOW_MS (the limits), BENCH_CLUSTER_NODES: see apps/serve.js and apps/status-quo.js.
  Object.assign(env, extraEnv)
  const started = performance.now()
  // BENCH_NODE_ARGS: extra node flags for the app processes only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const command = [process.execPath, ...nodeArgs, join(APPS, `${file}.js`)]
  // BENCH_APP_CPU (set by run.js --pin): the app runs on that CPU only.
  if (process.env.BENCH_APP_CPU !== undefined) command.unshift('taskset', '-c', process.env.BENCH_APP_CPU)
  const child = spawn(command[0], command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const app = new AppProcess(child)
  return new Promise((resolve) => {
    let stdout = ''
    const timer = setTimeout(() => done({ ok: false, message: `no "listening" within ${limitMs} ms` }), limitMs)
    let settled = false
    const done = (result) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.off('exit', onExit)
      if (!result.ok) app.stop()
      resolve({ ...result, bootMs: performance.now() - started, app })
    }
    const onData = (chunk) => {
      stdout += chunk
      const match = /listening (\d+)/.exec(stdout)
      if (match) done({ ok: true, port: Number(match[1]) })
    }
    const onExit = (code) => done({ ok: false, message: (app.stderr.match(/boot-failed (.*)/)?.[1] ?? `exited with ${code}`).trim() })
    child.stdout.on('data', onData)
    child.once('exit', onExit)
  })
}

class AppProcess {
  constructor (child) {
    this.child = child
    this.stderr = ''
    this.ioredisLines = 0
    this.exited = false
    this.exit = new Promise((resolve) => child.once('exit', () => {
      this.exited = true
      running.delete(child)
      resolve()
    }))
    let partial = ''
    child.stderr.on('data', (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-OUTPUT_LIMIT)
      const lines = (partial + chunk).split('\n')
      partial = lines.pop()
      for (const line of lines) if (line.includes('[ioredis]')) this.ioredisLines++
    })
    child.stdout.resume()
  }

  get pid () { return this.child.pid }

  /** SIGTERM (the app exits at once), SIGKILL if it is still there after 2 s. */
  async stop () {
    if (this.exited) return
    try { process.kill(this.child.pid, 'SIGTERM') } catch {}
    let timer
    await Promise.race([this.exit, new Promise((resolve) => { timer = setTimeout(resolve, 2000) })])
    clearTimeout(timer)
    if (!this.exited) {
      try { process.kill(this.child.pid, 'SIGKILL') } catch {}
      await this.exit
    }
  }
}
