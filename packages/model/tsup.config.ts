import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/base.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // createRequire(import.meta.url) locates the wasm binaries; the shim makes it work in the CJS build.
  shims: true,
  target: 'node20',
  external: [/^@stepcoder\//],
});
