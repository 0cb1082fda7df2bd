import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // createRequire(import.meta.url) finds the addon next to dist/; the shim makes it work in CJS.
  shims: true,
  target: 'node20',
  external: [/^@stepcoder\//],
});
