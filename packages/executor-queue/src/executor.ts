import { randomUUID } from 'node:crypto';
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  infraErrorResult,
  type Language,
  type LogEvent,
  StepcoderError,
  validate,
} from '@stepcoder/core';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { cancelChannel, LANE_LANGUAGES, laneOf, laneQueueName } from './lanes.js';
import {
  type Lane,
  type QueueExecutorOptions,
  queueExecutorOptionsSchema,
  type ResolvedQueueExecutorOptions,
} from './options.js';
import { PendingJobs } from './pending.js';
import { blockingConnection, connectRedis, redactUrl } from './redis.js';
import { decodeResult, encodeJob, type JobData, plannedTests } from './wire.js';

/** A request that may carry its own job id, so that a caller's retry never enqueues it twice. */
export interface QueueExecutionRequest extends ExecutionRequest {
  /** Idempotency key: letters, digits, `_`, `.`, `-`. Default: `<clientId>.<sequence>`. */
  jobId?: string;
}

export interface QueueExecutorStats {
  enqueued: number;
  settled: number;
  /** Results that arrived for a job already settled (a retried job, a late event): dropped. */
  duplicates: number;
  infraErrors: number;
  pending: number;
  redisUp: boolean;
}

export interface QueueExecutor extends Executor {
  readonly options: Omit<ResolvedQueueExecutorOptions, 'events'>;
  readonly clientId: string;
  run(request: QueueExecutionRequest): Promise<ExecutionResult>;
  stats(): QueueExecutorStats;
}

const JOB_ID = /^[A-Za-z0-9_.-]{1,200}$/;

interface Lanes {
  queue: Queue<JobData, unknown, string>;
  events: QueueEvents;
  eventsConnection: Redis;
}

/**
 * An Executor that runs nothing itself: each request becomes a BullMQ job on `<queue>.<lane>`
 * and `stepcoder worker` processes anywhere run it with their local, sandboxed executors.
 */
export async function createQueueExecutor(options: QueueExecutorOptions): Promise<QueueExecutor> {
  const resolved = validate(queueExecutorOptionsSchema, options, "executor 'queue' options");
  const { events: bus, ...settings } = resolved;
  const log = (level: LogEvent['level'], message: string, details?: Record<string, unknown>) =>
    bus?.emit('log', { level, message, source: 'executor-queue', details });

  // Enqueueing connection: no offline buffer and one try, so that while Redis is down a new
  // request fails at once (infra_error) instead of piling up in memory.
  const client = await connectRedis(settings.redis, {
    who: "executor 'queue'",
    connectTimeoutMs: settings.connectTimeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  const clientId = settings.clientId ?? randomUUID();
  const pending = new PendingJobs();
  const counters = { enqueued: 0, settled: 0, duplicates: 0, infraErrors: 0 };
  let sequence = 0;
  let disposed = false;
  let redisUp = true;
  let downTimer: NodeJS.Timeout | undefined;

  const settle = (id: string, result: ExecutionResult | ((total: number) => ExecutionResult)): void => {
    if (pending.resolve(id, (total) => (typeof result === 'function' ? result(total) : result))) {
      counters.settled++;
    }
  };
  const settleInfra = (id: string, message: string): void => {
    if (!pending.has(id)) return;
    counters.infraErrors++;
    settle(id, (total) => infraErrorResult(message, total));
  };

  const lanes = new Map<Lane, Lanes>();
  for (const lane of settings.lanes) {
    const name = laneQueueName(settings.queue, lane);
    const queue = new Queue<JobData, unknown, string>(name, { connection: client, prefix: settings.prefix });
    const eventsConnection = blockingConnection(client);
    const events = new QueueEvents(name, { connection: eventsConnection, prefix: settings.prefix });
    queue.on('error', () => {});
    events.on('error', () => {});
    events.on('completed', ({ jobId, returnvalue }) => {
      if (pending.has(jobId)) settle(jobId, (total) => decodeResult(returnvalue, total));
      else if (pending.wasSettled(jobId)) counters.duplicates++;
      // Otherwise it is another caller's job on the same queue.
    });
    events.on('failed', ({ jobId, failedReason }) => {
      settleInfra(jobId, `queue job ${jobId} failed on the fleet: ${failedReason}`);
    });
    events.on('stalled', ({ jobId }) => {
      if (pending.has(jobId))
        log('warn', `queue job ${jobId} stalled (its worker died or hung); it is retried`, { jobId });
    });
    lanes.set(lane, { queue, events, eventsConnection });
  }
  await Promise.all([...lanes.values()].map((l) => l.events.waitUntilReady()));

  /** Look jobs up directly: catches results whose event was missed and jobs Redis lost. */
  const reconcile = async (ids: Array<{ id: string; lane: Lane }>): Promise<void> => {
    for (const { id, lane } of ids) {
      const l = lanes.get(lane);
      if (!l || !pending.has(id)) continue;
      let job: Job | undefined;
      try {
        job = await Job.fromId(l.queue, id);
      } catch {
        return; // Redis went away again; the down timer or the next pass handles it.
      }
      if (!job) {
        log('warn', `queue job ${id} vanished from Redis (restarted without persistence?)`, { jobId: id });
        settleInfra(id, `queue job ${id} was lost: Redis no longer has it (restarted without persistence?)`);
      } else if (job.finishedOn && job.failedReason) {
        settleInfra(id, `queue job ${id} failed on the fleet: ${job.failedReason}`);
      } else if (job.finishedOn) {
        settle(id, (total) => decodeResult(job.returnvalue, total));
      }
    }
  };

  client.on('close', () => {
    if (!redisUp || disposed) return;
    redisUp = false;
    log('warn', `lost the connection to Redis at ${redactUrl(settings.redis)}`, {
      inFlight: pending.size,
    });
    downTimer = setTimeout(() => {
      const ids = pending.ids();
      if (ids.length > 0)
        log('error', `Redis unreachable for ${settings.redisDownTimeoutMs} ms: ${ids.length} jobs skipped`);
      for (const id of ids)
        settleInfra(id, `Redis unreachable for more than ${settings.redisDownTimeoutMs} ms`);
    }, settings.redisDownTimeoutMs);
  });
  client.on('ready', () => {
    if (redisUp) return;
    redisUp = true;
    clearTimeout(downTimer);
    log('info', `reconnected to Redis at ${redactUrl(settings.redis)}`, { inFlight: pending.size });
    void reconcile(pending.olderThan(Date.now()));
  });

  const reconcileTimer = setInterval(() => {
    const now = Date.now();
    for (const { id, createdAt } of pending.olderThan(now - settings.jobTimeoutMs)) {
      log('warn', `queue job ${id} had no result after ${now - createdAt} ms`, { jobId: id });
      settleInfra(id, `no result within jobTimeoutMs (${settings.jobTimeoutMs} ms)`);
    }
    if (redisUp) void reconcile(pending.olderThan(now - settings.reconcileIntervalMs));
  }, settings.reconcileIntervalMs);
  reconcileTimer.unref();

  const cancel = async (id: string, lane: Lane): Promise<void> => {
    // Redis down: the job runs to its end and its result is dropped (already settled).
    // An active job is locked: its worker stops it on this message. A waiting one is removed.
    await client.publish(cancelChannel(settings.prefix, settings.queue), id).catch(() => {});
    await lanes
      .get(lane)
      ?.queue.remove(id)
      .catch(() => {});
  };

  const languages = settings.lanes.flatMap((lane) => LANE_LANGUAGES[lane]);

  return {
    specificationVersion: 'v1',
    name: 'queue',
    languages,
    options: settings,
    clientId,

    run(request: QueueExecutionRequest): Promise<ExecutionResult> {
      if (disposed) {
        return Promise.reject(new StepcoderError('EXECUTOR_DISPOSED', "executor 'queue' was disposed"));
      }
      const language: Language = request.language ?? LANE_LANGUAGES[settings.lanes[0]!][0]!;
      const lane = laneOf(language);
      const target = lanes.get(lane);
      if (!target) {
        return Promise.reject(
          new StepcoderError(
            'INVALID_OPTIONS',
            `executor 'queue' sends to lanes ${settings.lanes.join(', ')}; a ${language} request needs lane '${lane}' in executor.options.lanes`,
          ),
        );
      }
      if (request.signal?.aborted) {
        return Promise.reject(
          new StepcoderError('ABORTED', 'queue execution was aborted', { cause: request.signal.reason }),
        );
      }
      const { jobId: explicitId, ...plain } = request;
      if (explicitId !== undefined && !JOB_ID.test(explicitId)) {
        return Promise.reject(
          new StepcoderError('INVALID_OPTIONS', `jobId '${explicitId}' must match ${JOB_ID}`),
        );
      }
      let data: JobData;
      try {
        data = encodeJob({ ...plain, language }, settings.limits, settings.maxPayloadBytes);
      } catch (err) {
        return Promise.reject(err);
      }
      const id = explicitId ?? `${clientId}.${++sequence}`;
      if (pending.has(id)) {
        return Promise.reject(
          new StepcoderError('DUPLICATE_JOB', `queue job ${id} is already in flight from this executor`),
        );
      }
      const signal = request.signal;
      return new Promise<ExecutionResult>((resolve, reject) => {
        const onAbort = () => {
          pending.reject(
            id,
            new StepcoderError('ABORTED', 'queue execution was aborted', { cause: signal?.reason }),
          );
          void cancel(id, lane);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        pending.add(id, {
          lane,
          total: plannedTests(plain),
          createdAt: Date.now(),
          resolve,
          reject,
          cleanup: () => signal?.removeEventListener('abort', onAbort),
        });
        if (!redisUp) {
          settleInfra(id, `Redis at ${redactUrl(settings.redis)} is unreachable; job not enqueued`);
          return;
        }
        target.queue
          .add('run', data, {
            jobId: id,
            attempts: settings.maxAttempts,
            removeOnComplete: { age: settings.resultTtlSeconds },
            removeOnFail: { age: settings.resultTtlSeconds },
            ...(settings.priority === undefined ? {} : { priority: settings.priority }),
          })
          .then(() => {
            counters.enqueued++;
            // A caller-chosen id may name a job that already finished: its result is in Redis.
            if (explicitId !== undefined) void reconcile([{ id, lane }]);
          })
          .catch((err: unknown) => {
            settleInfra(
              id,
              `could not enqueue on Redis: ${err instanceof Error ? err.message : String(err)}`,
            );
          });
      });
    },

    stats: () => ({ ...counters, pending: pending.size, redisUp }),

    async dispose() {
      if (disposed) return;
      disposed = true;
      clearInterval(reconcileTimer);
      clearTimeout(downTimer);
      for (const id of pending.ids()) settleInfra(id, "executor 'queue' was disposed before the result came");
      await Promise.allSettled([...lanes.values()].flatMap((l) => [l.events.close(), l.queue.close()]));
      for (const l of lanes.values()) l.eventsConnection.disconnect();
      client.disconnect();
    },
  };
}
