import { defineConfig } from 'tsup';

export default defineConfig({
  // host-process is forked by isolation: 'process' and is found next to the built files.
  entry: ['src/index.ts', 'src/base.ts', 'src/host-process.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // import.meta.url (used to locate host-process) in the CommonJS build
  shims: true,
  target: 'node20',
  external: [/^@stepcoder\//],
});
