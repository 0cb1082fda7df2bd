import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ExecutionResult,
  type Executor,
  infraErrorResult,
  StepcoderError,
  validate,
} from '@stepcoder/core';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { cancelChannel, laneQueueName } from './lanes.js';
import { serveMetrics, WorkerCounters } from './metrics.js';
import { type Lane, type QueueWorkerSettings, queueWorkerOptionsSchema } from './options.js';
import { blockingConnection, connectRedis, redactUrl } from './redis.js';
import { byteLength, type JobData, plannedTests, WIRE_VERSION } from './wire.js';

export interface QueueWorkerOptions extends QueueWorkerSettings {
  /** The local executors that run jobs, by lane; the worker serves exactly these lanes. */
  executors: Partial<Record<Lane, Executor>>;
  /** One JSON object per line: start, stats, stop, warnings. Default: stdout. */
  log?: (entry: Record<string, unknown>) => void;
}

export interface QueueWorker {
  readonly lanes: readonly Lane[];
  readonly counters: WorkerCounters;
  /** Port of the metrics server, when one was asked for. */
  readonly metricsPort: number | undefined;
  /** Stop taking jobs, let running ones finish (or not, with `force`), close connections. */
  close(force?: boolean): Promise<void>;
}

/**
 * Pull jobs from `<queue>.<lane>` for every lane that has a local executor, run them and publish
 * the results. Crash-safe by BullMQ's locks: a job whose worker dies is taken again by another
 * worker once its lock expires, and one that keeps killing workers fails after `maxAttempts`.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const { executors, log: logOption, ...rest } = options;
  const settings = validate(queueWorkerOptionsSchema, rest, 'stepcoder worker options');
  const lanes = (Object.keys(executors) as Lane[]).filter((lane) => executors[lane] !== undefined);
  if (lanes.length === 0) {
    throw new StepcoderError('INVALID_OPTIONS', 'stepcoder worker: no local executor to run jobs with');
  }
  const log =
    logOption ?? ((entry: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(entry)}\n`));
  const emit = (event: string, fields: Record<string, unknown> = {}) =>
    log({ time: new Date().toISOString(), pid: process.pid, event, ...fields });

  const client = await connectRedis(settings.redis, {
    who: 'stepcoder worker',
    connectTimeoutMs: settings.connectTimeoutMs,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
  });
  let redisUp = true;
  let stopping = false;
  client.on('close', () => {
    if (!redisUp || stopping) return;
    redisUp = false;
    emit('redis-down', { redis: redactUrl(settings.redis) });
  });
  client.on('ready', () => {
    if (redisUp) return;
    redisUp = true;
    emit('redis-up', { redis: redactUrl(settings.redis) });
  });

  const counters = new WorkerCounters();
  const connections: Redis[] = [client];

  const process_ =
    (executor: Executor) => async (job: Job<JobData>, _token?: string, signal?: AbortSignal) => {
      const data = job.data;
      if (data?.v !== WIRE_VERSION) {
        throw new UnrecoverableError(
          `job wire version ${String(data?.v)}; this worker speaks ${WIRE_VERSION}`,
        );
      }
      counters.active++;
      const started = performance.now();
      if (settings.logJobs) emit('job-start', { jobId: job.id, attempt: job.attemptsStarted });
      let outcome = 'error';
      try {
        let result: ExecutionResult | undefined;
        try {
          result = await executor.run(signal ? { ...data.request, signal } : data.request);
        } catch (err) {
          if (!signal?.aborted) {
            counters.errors++;
            throw err;
          }
        }
        // Executors that stop between tests return instead of throwing: either way, no result.
        if (signal?.aborted || !result) {
          counters.cancelled++;
          outcome = 'cancelled';
          throw new UnrecoverableError('cancelled by the caller');
        }
        const size = byteLength(result);
        if (size > settings.maxResultBytes) {
          result = infraErrorResult(
            `result of ${size} bytes exceeds the worker's maxResultBytes (${settings.maxResultBytes})`,
            plannedTests(data.request),
            result.durationMs,
          );
        }
        counters.record(result.outcome, performance.now() - started);
        outcome = result.outcome;
        return result;
      } finally {
        counters.active--;
        if (settings.logJobs)
          emit('job-end', {
            jobId: job.id,
            outcome,
            ms: Math.round((performance.now() - started) * 10) / 10,
          });
      }
    };

  const workers: Worker[] = [];
  for (const lane of lanes) {
    const connection = blockingConnection(client);
    connections.push(connection);
    const worker = new Worker<JobData>(laneQueueName(settings.queue, lane), process_(executors[lane]!), {
      connection,
      prefix: settings.prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxAttempts - 1,
      // Results live as long as the caller's removeOnComplete says; nothing else is kept.
      autorun: true,
    });
    worker.on('error', (err) => emit('worker-error', { lane, message: err.message }));
    workers.push(worker);
  }

  // Callers publish the id of a job they gave up on; the worker running it aborts it.
  const subscriber = blockingConnection(client);
  connections.push(subscriber);
  const channel = cancelChannel(settings.prefix, settings.queue);
  subscriber.on('message', (_channel: string, jobId: string) => {
    for (const w of workers) w.cancelJob(jobId, 'cancelled by the caller');
  });
  await subscriber.subscribe(channel);
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  let server: Server | undefined;
  if (settings.metricsPort !== undefined) {
    server = await serveMetrics(counters, () => redisUp, settings.metricsPort, settings.metricsHost);
  }
  const metricsPort = server ? (server.address() as AddressInfo).port : undefined;
  const statsTimer =
    settings.statsIntervalMs > 0
      ? setInterval(
          () => emit('stats', { redis: redisUp ? 'up' : 'down', ...counters.snapshot() }),
          settings.statsIntervalMs,
        )
      : undefined;
  statsTimer?.unref();

  emit('ready', {
    redis: redactUrl(settings.redis),
    queue: settings.queue,
    lanes,
    concurrency: settings.concurrency,
    metricsPort,
  });

  let closing: Promise<void> | undefined;
  return {
    lanes,
    counters,
    metricsPort,
    close(force = false) {
      closing ??= (async () => {
        stopping = true;
        clearInterval(statsTimer);
        await Promise.allSettled(workers.map((w) => w.close(force)));
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
        for (const c of connections) c.disconnect();
        emit('stopped', counters.snapshot());
      })();
      return closing;
    },
  };
}
