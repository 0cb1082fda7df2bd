import { limitsSchema } from '@stepcoder/core';
import { z } from 'zod';

/** Stdlib modules imported once by each worker so that forked children get them for free. */
export const DEFAULT_PRELOAD: readonly string[] = [
  'typing',
  'collections',
  'math',
  're',
  'itertools',
  'functools',
  'heapq',
  'bisect',
  'string',
  'random',
  'fractions',
];

export const pythonExecutorOptionsSchema = z
  .object({
    /** Interpreter to run (a name on PATH or a path); resolved once to `sys.executable`. */
    pythonPath: z.string().min(1).default('python3'),
    /** Warm workers; each runs one program at a time. Default: available cores. */
    poolSize: z.number().int().positive().max(512).optional(),
    /** Defaults for every request (`request.limits` overrides field by field). */
    limits: limitsSchema.optional(),
    /**
     * How workers are isolated. `namespaces` (default): Linux namespaces through bubblewrap (no
     * network, private PID/mount/IPC/UTS namespaces, read-only view of only the system and
     * interpreter folders, private /tmp), required: creating the executor fails, with the fix,
     * when they do not start. `rlimits`: explicitly no namespaces (resource limits and a dropped
     * uid only; candidates can read the worker's files and use the network). `auto`: namespaces
     * where they work, else rlimits with one process warning. Every result reports the level that
     * produced it in `result.sandbox`.
     */
    sandbox: z.enum(['namespaces', 'auto', 'rlimits']).default('namespaces'),
    /** The bubblewrap binary (a name on PATH or a path). */
    bwrapPath: z.string().min(1).default('bwrap'),
    /**
     * Command prefix for each worker, used instead of the built-in sandbox (level `wrapper`), e.g. `['bwrap', '--ro-bind', '/', '/', '--dev', '/dev',
     * '--proc', '/proc', '--tmpfs', '/tmp', '--unshare-all', '--die-with-parent', '--']`.
     */
    wrapper: z.array(z.string().min(1)).optional(),
    /** RLIMIT_FSIZE of each child, MiB: the largest file (stdout included) it may write. */
    fileSizeMb: z.number().int().positive().default(16),
    /** Processes/threads a child may create on top of what its user already runs (RLIMIT_NPROC). */
    maxProcesses: z.number().int().min(0).default(8),
    /**
     * When the worker runs as root, children switch to this user/group before running the
     * candidate (root ignores RLIMIT_NPROC and reads every file). `false` keeps root.
     */
    runAs: z
      .union([
        z.object({ uid: z.number().int().min(0), gid: z.number().int().min(0) }).strict(),
        z.literal(false),
      ])
      .default({ uid: 65534, gid: 65534 }),
    /** Test budget used when a request has none: run at most the first N tests. */
    maxTestsDefault: z.number().int().positive().optional(),
    /** Modules imported by each worker before forking (must be importable; failures are ignored). */
    preload: z.array(z.string().regex(/^[A-Za-z_][\w.]*$/)).default([...DEFAULT_PRELOAD]),
    /** Extra environment variables for candidates (the environment is otherwise scrubbed). */
    env: z.record(z.string(), z.string()).default({}),
    /** Parent folder of the per-program temp dirs. Default: the OS temp dir (the sandbox's own
     * private /tmp with namespaces, where this option is ignored). */
    tmpDir: z.string().min(1).optional(),
    /** PYTHONHASHSEED of the workers, so set iteration order (and printed output) is reproducible. */
    hashSeed: z.number().int().min(0).max(4294967295).default(0),
    /** Float tolerance for stdout and return-value comparison (numpy.allclose defaults). */
    tolerance: z
      .object({ rtol: z.number().min(0), atol: z.number().min(0) })
      .strict()
      .optional(),
    /**
     * How line coverage is collected. `counters`: increments compiled into the candidate's AST,
     * no trace function (1.25-1.4x the time of coverage off on HumanEval; the same executed lines
     * as `sys.settrace` except inside a statement that raised or short-circuited half-way, and the
     * lines of comprehensions/lambdas count once per statement run). `trace`: the interpreter's
     * own line events, `sys.monitoring` on 3.12+ (fast) or `sys.settrace` (2-7x on hot loops),
     * identical to the stdlib `trace` module. `auto`: `sys.monitoring` where it exists, `counters`
     * below 3.12.
     */
    coverageBackend: z.enum(['auto', 'counters', 'trace']).default('auto'),
    /**
     * `trace` backend only: line counts are exact up to this many hits per line; a function whose
     * every line reached it is no longer traced (later counts are lower bounds, the executed-line
     * set stays exact). 0 = always exact (slower on hot loops).
     */
    coverageHitCap: z.number().int().min(0).default(1000),
    /** Wall and CPU limits are multiplied by this on coverage runs (tracing slows hot loops). */
    coverageTimeoutFactor: z.number().min(1).max(100).default(3),
    /**
     * Where assertion tests run. `process` (default): in a judge process that never runs candidate
     * code, calling the program's functions over a pipe; only plain data crosses, so nothing the
     * candidate does in its own process (patched frames, globals, builtins, forged records,
     * objects with a rigged `__eq__`) can make a failing test pass. `in-process`: the cases run in
     * the candidate's namespace, as HumanEval's own harness does; needed only by tests that pass
     * objects other than plain data to or from the program, and open to the tampering above.
     */
    assertJudge: z.enum(['process', 'in-process']).default('process'),
    /** How long a worker may take to start and report ready, ms. */
    startTimeoutMs: z.number().int().positive().default(20000),
  })
  .strict();

/** Options as written by users (defaults optional). */
export type PythonExecutorOptions = z.input<typeof pythonExecutorOptionsSchema>;
/** Options after validation, defaults filled in. */
export type ResolvedPythonExecutorOptions = z.output<typeof pythonExecutorOptionsSchema>;

declare module '@stepcoder/core' {
  interface PluginOptions {
    'executor:python': PythonExecutorOptions;
  }
}
