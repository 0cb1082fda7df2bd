import { limitsSchema, type Registry } from '@stepcoder/core';
import { z } from 'zod';
import { pluginRefSchema } from './schemas.js';

/** `/run_code`'s default output cap: SandboxFusion's 1 MiB per stream (see `runCodeMaxOutputBytes`). */
export const DEFAULT_RUN_CODE_MAX_OUTPUT_BYTES = 1024 * 1024;

/** Options of `createServer` (and of `stepcoder serve`, which fills them from flags and env). */
export const serverOptionsSchema = z.strictObject({
  /** Interface to bind. Anything but loopback requires `apiKeys`. */
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (see `address()` after `listen()`). */
  port: z.number().int().min(0).max(65535).default(8080),
  /** Accepted bearer tokens. Empty is allowed only on a loopback bind. */
  apiKeys: z.array(z.string().min(16, 'API keys must be at least 16 characters')).default([]),
  /** Largest request body, bytes; larger is refused with 413 before it is parsed. */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  /** Requests doing work at once (all keys). Default: 2 × the executor pool a machine can feed. */
  maxConcurrency: z.number().int().positive().default(16),
  /** Requests doing work at once for one key. */
  perKeyConcurrency: z.number().int().positive().default(16),
  /** Requests waiting for a slot; when full, 429 with Retry-After. */
  maxQueue: z.number().int().min(0).default(64),
  /** Whole-request deadline (queueing + execution), ms; past it the request gets 503. */
  requestTimeoutMs: z.number().int().positive().default(120_000),
  /** Items in one `/v1/score` batch. */
  maxBatchItems: z.number().int().positive().default(1024),
  /** `/v1/score` items of one batch executing at once. */
  batchConcurrency: z.number().int().positive().default(16),
  /** Upper bounds on what a client may ask for; requests above are clamped down to these. */
  maxLimits: limitsSchema.default({}),
  /**
   * Bytes of stdout and of stderr that `/run_code` keeps per run (SandboxFusion's request has no
   * field for it, so the operator sets it). Default 1 MiB, SandboxFusion's own figure: its runner
   * reads at most `1024 * 1024` bytes of each stream (`get_output_non_blocking`,
   * sandbox/utils/execution.py, bytedance/SandboxFusion@469de08) and drops the rest silently.
   * Unlike SandboxFusion, a run whose output passed it is never answered `Success`: see
   * `toRunCodeResponse`. Not bounded by `maxLimits.maxOutputBytes` (that caps what clients ask for).
   */
  runCodeMaxOutputBytes: z.number().int().positive().default(DEFAULT_RUN_CODE_MAX_OUTPUT_BYTES),
  /** Executor per language, created through the registry: a name or `{ name, options }`. */
  executors: z
    .strictObject({ python: pluginRefSchema.optional(), javascript: pluginRefSchema.optional() })
    .default({}),
  /** Defaults of `/v1/score` when neither batch nor item names them. */
  reward: pluginRefSchema.default('stepcoder'),
  mask: pluginRefSchema.default('line'),
  /** Named tokenizers (`name → tokenizer.json path`); `byte` (the built-in byte tokenizer) always exists. */
  tokenizers: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** Grace for in-flight requests at shutdown before they are cut, ms. */
  shutdownGraceMs: z.number().int().positive().default(30_000),
  /** pino log level; `silent` for none. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where logs go (a writable stream); default stdout. */
  logStream: z.custom<NodeJS.WritableStream>((v) => typeof v === 'object' && v !== null).optional(),
  /**
   * Registry to create plugins from; default the global one, with loaders for this package's deps.
   * Plugin packages register on the global registry when imported, so a separate registry must
   * have every executor, reward, mask and curriculum it will be asked for registered on it.
   */
  registry: z.custom<Registry>((v) => typeof v === 'object' && v !== null).optional(),
  /** Skip the warm-up run of each executor at start (then /readyz is true at once). */
  skipWarmup: z.boolean().default(false),
});

export type ServerOptions = z.input<typeof serverOptionsSchema>;
export type ResolvedServerOptions = z.output<typeof serverOptionsSchema>;

/** Hard ceilings when the operator sets none: the executors' own defaults, and no more. */
export const DEFAULT_MAX_LIMITS = {
  timeoutMs: 30_000,
  totalTimeoutMs: 120_000,
  memoryMb: 2048,
  maxOutputBytes: 1024 * 1024,
} as const;
