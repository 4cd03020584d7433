// What a process prints when a bad configuration crashes its boot: a child
// process runs an app on the built package (by its public name, as an app
// would), with the case's environment, and leaves the registration error
// unhandled, so Node prints it (util.inspect, cause chain included) and
// exits. Nothing on stdout or stderr may hold the password.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { holdsSecret, SECRET_CASES } from './helpers/secret-cases.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

const APP = `
import Fastify from 'fastify'
import resilientRedis from 'fastify-resilient-redis'
const app = Fastify({ logger: true })
app.register(resilientRedis, JSON.parse(process.env.PLUGIN_OPTIONS))
// No catch: a failed boot is an unhandled rejection that Node prints.
app.ready().then(() => { console.log('BOOTED'); return app.close() })
`

interface Run { code: number | null; output: string }

function runApp (env: Record<string, string>, options: Record<string, unknown>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', APP], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env, PLUGIN_OPTIONS: JSON.stringify(options) },
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const killer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the app did not exit: ${output}`)) }, 20_000)
    child.on('exit', (code) => { clearTimeout(killer); resolve({ code, output }) })
  })
}

// Two at a time: the machine has two cores.
const queue = [...SECRET_CASES]
const runs = new Map<string, Run>()
await Promise.all([0, 1].map(async () => {
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const { env, ...options } = next.options
    runs.set(next.name, await runApp(env, options))
  }
}))

for (const { name } of SECRET_CASES) {
  t.test(name, async (t) => {
    const run = runs.get(name) as Run
    t.not(run.code, 0, 'the boot crashes the process')
    t.notMatch(run.output, /BOOTED/)
    t.match(run.output, /FRR_ERR_/, 'Node prints the coded error')
    t.notOk(holdsSecret(run.output), 'no password on stdout or stderr')
  })
}
