// The plugin as the bench apps import it: by its public name (the package's
// self-reference to this repo's dist/), or from BENCH_PLUGIN_DIR (a package
// root, to compare another build in the same run).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export async function loadPlugin () {
  const dir = process.env.BENCH_PLUGIN_DIR
  if (dir === undefined || dir === '') return import('fastify-resilient-redis')
  const { exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  return import(pathToFileURL(join(dir, exports['.'].import.default)).href)
}
