import { type EventBus, limitsSchema, type StepcoderEvents } from '@stepcoder/core';
import { z } from 'zod';

/** BullMQ keys are `<prefix>:<queue>:…`; a `:` inside a name would make keys ambiguous. */
const nameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, `_`, `.` and `-` only');

const redisUrlSchema = z
  .string()
  .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0');

const eventBusSchema = z.custom<EventBus<StepcoderEvents>>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { emit?: unknown }).emit === 'function',
  'expected an EventBus from @stepcoder/core',
);

/** The local executors a worker can serve: `python` (executor-python) and `js` (executor-js). */
export const laneSchema = z.enum(['python', 'js']);
export type Lane = z.infer<typeof laneSchema>;

export const queueExecutorOptionsSchema = z
  .object({
    /** Redis holding the queue, e.g. `redis://10.0.0.5:6379/0`. Checked with PING at creation. */
    redis: redisUrlSchema,
    /** Queue family name; each lane is its own BullMQ queue `<queue>.<lane>`. */
    queue: nameSchema.default('stepcoder'),
    /** Key prefix in Redis (BullMQ's `prefix`). Workers must use the same. */
    prefix: nameSchema.default('stepcoder'),
    /** Lanes this executor sends to; the first one serves requests without a language. */
    lanes: z.array(laneSchema).min(1).default(['python', 'js']),
    /** Defaults for every request (`request.limits` overrides field by field). */
    limits: limitsSchema.optional(),
    /** Runs of a job whose worker threw (not a verdict: a verdict is a result). */
    maxAttempts: z.number().int().min(1).max(20).default(3),
    /** Seconds a finished job (result or failure) stays in Redis; later it is deleted. */
    resultTtlSeconds: z.number().int().positive().default(3600),
    /** Largest JSON-encoded request accepted, bytes. */
    maxPayloadBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** A job with no result after this long is given up as `infra_error`, ms. */
    jobTimeoutMs: z.number().int().positive().default(600_000),
    /** In-flight jobs wait this long for a lost Redis connection to come back, ms. */
    redisDownTimeoutMs: z.number().int().positive().default(10_000),
    /** Connecting at creation gives up after this long, ms. */
    connectTimeoutMs: z.number().int().positive().default(3000),
    /** How often jobs without an event are looked up in Redis (missed events, lost jobs), ms. */
    reconcileIntervalMs: z.number().int().positive().default(2000),
    /** BullMQ priority of every job (1 = highest; absent = FIFO, the fastest path). */
    priority: z.number().int().min(1).max(2_097_152).optional(),
    /** Prefix of generated job ids; default a random UUID per executor. */
    clientId: nameSchema.optional(),
    /** Warnings (Redis lost, job lost, job retried) are emitted here as `log` events. */
    events: eventBusSchema.optional(),
  })
  .strict();

export type QueueExecutorOptions = z.input<typeof queueExecutorOptionsSchema>;
export type ResolvedQueueExecutorOptions = z.output<typeof queueExecutorOptionsSchema>;

export const queueWorkerOptionsSchema = z
  .object({
    redis: redisUrlSchema,
    queue: nameSchema.default('stepcoder'),
    prefix: nameSchema.default('stepcoder'),
    /** Jobs run at once per lane (match it to the local executor's pool size). */
    concurrency: z.number().int().positive().max(1024).default(1),
    /**
     * A worker holds a job's lock for this long and renews it every half of it; a worker that
     * dies (SIGKILL, machine lost) releases its jobs once the lock expires, ms.
     */
    lockDurationMs: z.number().int().min(100).default(15_000),
    /** How often each worker looks for jobs whose lock expired, ms. */
    stalledIntervalMs: z.number().int().min(100).default(5000),
    /**
     * Runs of a job that keeps killing its worker; after that it fails and the caller gets
     * `infra_error`, never a reward.
     */
    maxAttempts: z.number().int().min(1).max(20).default(2),
    /** Largest JSON-encoded result published, bytes; a larger one becomes `infra_error`. */
    maxResultBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /** A health/counters line is logged this often, ms (0: only at start and stop). */
    statsIntervalMs: z.number().int().min(0).default(30_000),
    /** Serve Prometheus metrics on `/metrics` and health on `/healthz` at this port. */
    metricsPort: z.number().int().min(0).max(65535).optional(),
    metricsHost: z.string().min(1).default('0.0.0.0'),
    connectTimeoutMs: z.number().int().positive().default(3000),
    /** Log a line when each job starts and ends (job id, lane, outcome, ms): verbose, for debugging. */
    logJobs: z.boolean().default(false),
  })
  .strict();

export type QueueWorkerSettings = z.input<typeof queueWorkerOptionsSchema>;
export type ResolvedQueueWorkerSettings = z.output<typeof queueWorkerOptionsSchema>;
