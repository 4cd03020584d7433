import { createRequire } from 'node:module'

const PACKAGE_NAME = 'fastify-resilient-redis'

/**
 * The version in the package.json of this package, read at run time. The
 * built bin (`dist/cli.js`) sits one level below the package root, this
 * source file two, so both places are tried; `from` is the module URL to
 * start at (this module's, unless a test says otherwise).
 */
export function packageVersion (from: string = import.meta.url): string {
  const require = createRequire(from)
  for (const candidate of ['../package.json', '../../package.json']) {
    let pkg: { name?: unknown; version?: unknown }
    try {
      pkg = require(candidate) as typeof pkg
    } catch {
      continue
    }
    if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version
  }
  return 'unknown'
}
