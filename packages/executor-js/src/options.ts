import { availableParallelism } from 'node:os';
import { limitsSchema } from '@stepcoder/core';
import { z } from 'zod';

/**
 * Options of `createJsExecutor`. Limits given here are the defaults of every request; a request's
 * own `limits` win field by field.
 */
export const jsExecutorOptionsSchema = z
  .object({
    /** Heap limit of each isolate, MiB (isolated-vm `memoryLimit`). Overrides `limits.memoryMb`. */
    memoryMb: z.number().int().min(8).optional(),
    limits: limitsSchema.optional(),
    /**
     * `in-process`: isolates live in this process (fastest). `process`: each pool slot is a child
     * host process that owns one isolate, so a fatal V8 error (a single allocation over the heap
     * limit can abort the process, isolated-vm #527) kills only the host: the run is reported and
     * the host restarted. Costs an IPC round trip per run.
     */
    isolation: z.enum(['in-process', 'process']).default('in-process'),
    /** Isolates kept warm, which is also how many programs run at once. Default: CPU count. */
    poolSize: z.number().int().min(1).max(256).optional(),
    /** Programs run in one isolate before it is disposed and replaced. */
    maxRunsPerIsolate: z.number().int().min(1).default(200),
    /** An isolate whose used heap exceeds this fraction of its limit after a run is replaced. */
    maxHeapFraction: z.number().gt(0).max(1).default(0.5),
    /**
     * Call-based tests of one program share one context (the program's top level runs once, as
     * APPS's harness imports it once). A test that times out, exits or dies gets the next test a
     * fresh context. `false`: a fresh context for every test.
     */
    shareCallContext: z.boolean().default(true),
    /**
     * Expose `WebAssembly` to programs. Off by default: wasm memories live outside the V8 heap, so
     * `memoryMb` does not bound them (1 GiB of `WebAssembly.Memory` fits under `memoryMb: 64`);
     * turned on, a program's wasm memory is bounded only by the trainer process.
     */
    wasm: z.boolean().default(false),
    /** Accept `language: 'typescript'` (types stripped with sucrase, line numbers preserved). */
    typescript: z.boolean().default(true),
    /** Instrumented programs kept for coverage runs (LRU, keyed by program text). 0 disables. */
    coverageCacheSize: z.number().int().min(0).default(256),
    /**
     * Grants. Nothing of the host ever reaches the isolate; these only add data inside it.
     * `env`: what `process.env` holds (default empty). `files`: read-only virtual files that
     * `require('fs').readFileSync(path)` returns.
     */
    allow: z
      .object({
        env: z.record(z.string(), z.string()).default({}),
        files: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .default({ env: {}, files: {} }),
  })
  .strict();

export type JsExecutorOptions = z.input<typeof jsExecutorOptionsSchema>;
export type ResolvedJsExecutorOptions = z.output<typeof jsExecutorOptionsSchema> & { poolSize: number };

export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism());
}
