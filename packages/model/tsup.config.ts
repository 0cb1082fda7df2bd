import { defineConfig } from 'tsup';

export default defineConfig({
  // The generator worker's thread code is its own file, which createGeneratorWorker starts by path.
  entry: ['src/index.ts', 'src/base.ts', 'src/generator-worker-entry.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/base.ts'] },
  clean: true,
  sourcemap: true,
  // createRequire(import.meta.url) locates the wasm binaries; the shim makes it work in the CJS build.
  shims: true,
  target: 'node20',
  external: [/^@stepcoder\//],
});
