import { defineConfig, type Options } from 'tsup'

// `npm run build` empties dist/ before tsup runs: the two builds below run
// concurrently, so neither may clean the folder the other writes to.
const shared: Options = {
  clean: false,
  sourcemap: true,
  target: 'node20',
  // Keep runtime dependencies (ioredis, fastify-plugin, …) external: the app
  // installs them once and shares them with its own code.
  skipNodeModulesBundle: true,
}

export default defineConfig([
  {
    ...shared,
    // The library: ESM and CommonJS, each with its declarations.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    // tsup's declaration build sets baseUrl, which TypeScript 6 deprecates.
    dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
    // import.meta.url, should the library ever use it, in the CommonJS build too.
    shims: true,
  },
  {
    ...shared,
    // The `fastify-resilient-redis` command (bin): run by Node, never imported,
    // so ESM only and no declarations.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
  },
])
