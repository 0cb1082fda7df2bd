import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One file at a time: each starts its own redis-server and worker processes, and the fault
  // tests time lock expiries, which a second file competing for 2 cores would blur.
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    hookTimeout: 90000,
    fileParallelism: false,
  },
});
