import { defineConfig } from 'tsup'

export default defineConfig({
  // The library, and the `fastify-resilient-redis` command (bin).
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  // tsup's declaration build sets baseUrl, which TypeScript 6 deprecates.
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  clean: true,
  // import.meta.url (the CLI reads its package.json) in the CommonJS build too.
  shims: true,
  sourcemap: true,
  target: 'node20',
  // Keep runtime dependencies (ioredis, fastify-plugin, …) external: the app
  // installs them once and shares them with its own code.
  skipNodeModulesBundle: true,
})
