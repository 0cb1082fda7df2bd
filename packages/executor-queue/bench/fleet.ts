/**
 * Programs/s through the queue with 1, 2 and 4 worker processes against the in-process executor
 * (same pool sizes, same programs, same run), and the latency the queue adds to one job at low
 * load. Needs redis-server on PATH; starts its own on a free loopback port.
 *
 *     flock /tmp/bench.lock pnpm --filter @stepcoder/executor-queue bench
 *
 * BENCH_LANE=js measures JavaScript (executor-js) instead of Python; BENCH_PROGRAMS and
 * BENCH_LATENCY_RUNS size the two parts.
 */
import { availableParallelism } from 'node:os';
import type { ExecutionRequest, Executor } from '@stepcoder/core';
import { createJsExecutor } from '@stepcoder/executor-js/base';
import { createPythonExecutor } from '@stepcoder/executor-python/base';
import { createQueueExecutor, type Lane } from '../src/base.js';
import { type RedisServer, startRedisServer } from '../test/support/redis-server.js';
import { spawnWorker } from '../test/support/workers.js';

const LANE = (process.env.BENCH_LANE ?? 'python') as Lane;
const PROGRAMS = Number(process.env.BENCH_PROGRAMS ?? 240);
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 200);
const FLEETS = [1, 2, 4];

/** A small CPU-bound program with 3 stdio tests (a sum over a range whose size varies). */
function program(i: number): ExecutionRequest {
  const n = 2000 + (i % 7) * 1500;
  const cases = [1, 2, 3].map((k) => ({ input: `${k}\n`, output: `${k * ((n * (n - 1)) / 2)}\n` }));
  return LANE === 'python'
    ? {
        language: 'python',
        program: `k = int(input())\ns = 0\nfor x in range(${n}):\n    s += x * k\nprint(s)`,
        tests: { kind: 'stdio', cases },
      }
    : {
        language: 'javascript',
        program: `const k = Number(require('fs').readFileSync(0, 'utf8'));\nlet s = 0;\nfor (let x = 0; x < ${n}; x++) s += x * k;\nconsole.log(s)`,
        tests: { kind: 'stdio', cases },
      };
}

/** The cheapest job there is: what the latency part measures is the path, not the program. */
const TRIVIAL: ExecutionRequest =
  LANE === 'python'
    ? {
        language: 'python',
        program: 'print(1)',
        tests: { kind: 'stdio', cases: [{ input: '', output: '1\n' }] },
      }
    : {
        language: 'javascript',
        program: 'console.log(1)',
        tests: { kind: 'stdio', cases: [{ input: '', output: '1\n' }] },
      };

function local(poolSize: number): Executor {
  return LANE === 'python' ? createPythonExecutor({ poolSize }) : createJsExecutor({ poolSize });
}

async function throughput(executor: Executor, inFlight: number): Promise<{ rate: number; failed: number }> {
  const requests = Array.from({ length: PROGRAMS }, (_, i) => program(i));
  // Warm every pooled worker first.
  await Promise.all(requests.slice(0, inFlight * 2).map((r) => executor.run(r)));
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < requests.length) {
        const r = await executor.run(requests[next++]!);
        if (r.outcome !== 'pass') failed++;
      }
    }),
  );
  return { rate: PROGRAMS / ((performance.now() - t0) / 1000), failed };
}

async function latencies(
  executor: Executor,
  run = (r: ExecutionRequest) => executor.run(r),
): Promise<number[]> {
  for (let i = 0; i < 20; i++) await run(TRIVIAL);
  const out: number[] = [];
  for (let i = 0; i < LATENCY_RUNS; i++) {
    const t0 = performance.now();
    await run(TRIVIAL);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

/** Redis' own CPU seconds and memory, from INFO: what each job costs the one Redis core. */
async function redisUsage(redis: RedisServer): Promise<{ cpuS: number; memory: number }> {
  const info = await redis.command((c) => c.info());
  const field = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return { cpuS: field('used_cpu_sys') + field('used_cpu_user'), memory: field('used_memory') };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function main(): Promise<void> {
  const redis = await startRedisServer();
  const rows: string[] = [];
  try {
    // --- throughput -----------------------------------------------------------------------
    const inProcess = new Map<number, number>();
    const redisCost: Array<{ cpuUs: number; bytes: number }> = [];
    for (const size of FLEETS) {
      const executor = local(size);
      try {
        const { rate, failed } = await throughput(executor, size * 2);
        inProcess.set(size, rate);
        rows.push(`| in-process executor, pool ${size} | ${rate.toFixed(1)} | 1.00 | ${failed} |`);
      } finally {
        await executor.dispose();
      }
    }
    for (const count of FLEETS) {
      const queue = `bench${count}`;
      const workers = await Promise.all(
        Array.from({ length: count }, () =>
          spawnWorker({ redis: redis.url, queue, lanes: [LANE], concurrency: 1, statsIntervalMs: 0 }),
        ),
      );
      const executor = await createQueueExecutor({ redis: redis.url, queue, lanes: [LANE] });
      try {
        const before = await redisUsage(redis);
        const { rate, failed } = await throughput(executor, count * 2);
        const after = await redisUsage(redis);
        const jobs = PROGRAMS + count * 4;
        redisCost.push({
          cpuUs: ((after.cpuS - before.cpuS) * 1e6) / jobs,
          bytes: (after.memory - before.memory) / jobs,
        });
        const base = inProcess.get(count)!;
        rows.push(
          `| queue, ${count} worker process${count > 1 ? 'es' : ''} × concurrency 1 | ${rate.toFixed(1)} | ${(rate / base).toFixed(2)} (vs pool ${count}) | ${failed} |`,
        );
      } finally {
        await executor.dispose();
        await Promise.all(workers.map((w) => w.stop()));
      }
    }

    // --- latency at low load (one job at a time) ------------------------------------------------
    const direct = local(1);
    const directMs = await latencies(direct);
    await direct.dispose();
    const worker = await spawnWorker({
      redis: redis.url,
      queue: 'latency',
      lanes: [LANE],
      statsIntervalMs: 0,
      logJobs: true,
    });
    const executor = await createQueueExecutor({ redis: redis.url, queue: 'latency', lanes: [LANE] });
    // Queue overhead of each job: the caller's wait minus the time the worker spent running it
    // (from the worker's own job-end line), so a slow or noisy executor does not blur it.
    const overheadMs: number[] = [];
    let id = 0;
    const queuedMs = await latencies(executor, async (r) => {
      const jobId = `lat-${++id}`;
      const t0 = performance.now();
      const result = await executor.run({ ...r, jobId } as ExecutionRequest);
      const total = performance.now() - t0;
      const end = await worker.waitFor((l) => l.event === 'job-end' && l.jobId === jobId);
      if (id > 20) overheadMs.push(total - Number(end.ms));
      return result;
    });
    overheadMs.sort((a, b) => a - b);
    await executor.dispose();
    await worker.stop();

    const cores = availableParallelism();
    process.stdout.write(
      `\nexecutor-queue bench — lane ${LANE}, ${PROGRAMS} programs (3 stdio tests each) per row, ${cores} cores (shared machine)\n\n`,
    );
    process.stdout.write('| setup | programs/s | ratio | not pass |\n|---|---:|---:|---:|\n');
    process.stdout.write(`${rows.join('\n')}\n\n`);
    const cpuUs = redisCost.reduce((a, c) => a + c.cpuUs, 0) / redisCost.length;
    const bytes = redisCost.reduce((a, c) => a + c.bytes, 0) / redisCost.length;
    process.stdout.write(
      `Redis cost per job (mean of the queue rows): ${cpuUs.toFixed(0)} µs of Redis CPU; ${(bytes / 1024).toFixed(1)} KiB of Redis memory while the finished job is kept (resultTtlSeconds).\n\n`,
    );
    const row = (name: string, v: number[]) =>
      `| ${name} | ${pct(v, 0.5).toFixed(2)} | ${pct(v, 0.9).toFixed(2)} | ${pct(v, 0.99).toFixed(2)} |\n`;
    process.stdout.write(
      `Latency of one trivial job at a time (${LATENCY_RUNS} runs, after 20 warm-up runs), ms:\n\n`,
    );
    process.stdout.write('| path | p50 | p90 | p99 |\n|---|---:|---:|---:|\n');
    process.stdout.write(row('in-process executor', directMs));
    process.stdout.write(row('queue, 1 worker process', queuedMs));
    process.stdout.write(row('**queue overhead per job** (caller wait − worker run time)', overheadMs));
  } finally {
    await redis.close();
  }
}

await main();
