// What a result file records about the run: package versions and the machine.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

function version (root, pkg) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version
  } catch {
    return undefined
  }
}

/** Versions of everything measured; the plugin's with the directory its dist/ came from. */
export function versions (root, pluginRoot) {
  const plugin = JSON.parse(readFileSync(join(pluginRoot, 'package.json'), 'utf8')).version
  return {
    'fastify-resilient-redis': `${plugin} (${pluginRoot}/dist)`,
    ...Object.fromEntries(['fastify', '@fastify/redis', '@fastify/rate-limit', 'rate-limiter-flexible', 'ioredis', 'autocannon'].map((pkg) => [pkg, version(root, pkg)])),
  }
}

/** nproc, free -h, CPU model, node, kernel, redis-server. */
export function machine () {
  const sh = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim() } catch { return undefined } }
  const cpuModel = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1]
  return { nproc: sh('nproc', []), free: sh('free', ['-h']), cpuModel, node: process.version, platform: `${os.platform()} ${os.release()}`, redisServer: sh('redis-server', ['--version']) }
}
