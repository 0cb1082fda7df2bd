import { availableParallelism } from 'node:os';
import { type Executor, registry, StepcoderError } from '@stepcoder/core';
import type { Command } from 'commander';
import { registerPluginLoaders } from './plugins.js';

interface WorkerFlags {
  redis: string;
  queue: string;
  prefix: string;
  concurrency: string;
  languages: string;
  metricsPort?: string;
  metricsHost: string;
  lockDuration: string;
  stalledInterval: string;
  maxAttempts: string;
  statsInterval: string;
  executorOptions?: string;
  logJobs?: boolean;
}

const LANES = ['python', 'js'] as const;
type Lane = (typeof LANES)[number];

function parseLanes(text: string): Lane[] {
  const lanes = text.split(',').map((s) => s.trim());
  const bad = lanes.filter((l) => !(LANES as readonly string[]).includes(l));
  if (bad.length > 0 || lanes.length === 0) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `--languages takes a comma-separated list of ${LANES.join(', ')}; got '${text}'`,
    );
  }
  return [...new Set(lanes)] as Lane[];
}

function parseExecutorOptions(text: string | undefined): Partial<Record<Lane, Record<string, unknown>>> {
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as Partial<Record<Lane, Record<string, unknown>>>;
  } catch (err) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `--executor-options must be JSON like {"python":{"poolSize":4}}: ${(err as Error).message}`,
    );
  }
}

/**
 * One member of an execution fleet: pull jobs that `executor: { name: queue }` enqueued, run them
 * with this machine's sandboxed executors, publish the results. Runs until SIGINT/SIGTERM, then
 * finishes the jobs it holds.
 */
async function runWorker(flags: WorkerFlags): Promise<void> {
  const lanes = parseLanes(flags.languages);
  const extra = parseExecutorOptions(flags.executorOptions);
  const concurrency = Number(flags.concurrency);
  registerPluginLoaders();
  const { startQueueWorker } = await import('@stepcoder/executor-queue/base');
  const executors: Partial<Record<Lane, Executor>> = {};
  try {
    for (const lane of lanes) {
      executors[lane] = await registry.create('executor', lane, { poolSize: concurrency, ...extra[lane] });
    }
    const worker = await startQueueWorker({
      executors,
      redis: flags.redis,
      queue: flags.queue,
      prefix: flags.prefix,
      concurrency,
      lockDurationMs: Number(flags.lockDuration),
      stalledIntervalMs: Number(flags.stalledInterval),
      maxAttempts: Number(flags.maxAttempts),
      statsIntervalMs: Number(flags.statsInterval),
      metricsPort: flags.metricsPort === undefined ? undefined : Number(flags.metricsPort),
      metricsHost: flags.metricsHost,
      logJobs: flags.logJobs ?? false,
    });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await worker.close();
  } finally {
    await Promise.allSettled(Object.values(executors).map((e) => e?.dispose()));
  }
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'run executions from a BullMQ/Redis queue with the local sandboxed executors (a fleet member)',
    )
    .requiredOption('--redis <url>', 'Redis holding the queue, e.g. redis://10.0.0.5:6379/0')
    .option('--queue <name>', "queue family: the queue executor's `queue` option", 'stepcoder')
    .option('--prefix <prefix>', 'Redis key prefix, as in the executor options', 'stepcoder')
    .option(
      '--concurrency <n>',
      'jobs at once per language, and the local pool size',
      String(availableParallelism()),
    )
    .option('--languages <list>', `lanes to serve, comma-separated: ${LANES.join(', ')}`, LANES.join(','))
    .option('--metrics-port <port>', 'serve Prometheus /metrics and /healthz on this port')
    .option('--metrics-host <host>', 'address the metrics server binds', '0.0.0.0')
    .option('--lock-duration <ms>', 'a dead worker releases its jobs after this long', '15000')
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers', '5000')
    .option('--max-attempts <n>', 'runs of a job that keeps killing workers before it fails', '2')
    .option('--stats-interval <ms>', 'log a counters line this often (0: only at start and stop)', '30000')
    .option(
      '--executor-options <json>',
      'options of the local executors by lane, e.g. {"python":{"wrapper":["bwrap","…"]}}',
    )
    .option('--log-jobs', 'log a line as each job starts and ends')
    .action(runWorker);
}
