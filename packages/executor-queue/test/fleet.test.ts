import { type ExecutionRequest, StepcoderError } from '@stepcoder/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueExecutor, type QueueExecutor, type QueueExecutorOptions } from '../src/base.js';
import { busy, echo } from './support/programs.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';
import { spawnWorker, startsOf, type WorkerProcess, waitForAny } from './support/workers.js';

const WORKER = { queue: 'fleet', statsIntervalMs: 0, logJobs: true };

let redis: RedisServer;
let workers: WorkerProcess[] = [];
let executor: QueueExecutor;

beforeAll(async () => {
  redis = await startRedisServer();
  // One worker also serves Python; all three serve JavaScript.
  workers = await Promise.all(
    ([['python', 'js'], ['js'], ['js']] as const).map((lanes) =>
      spawnWorker({ redis: redis.url, lanes: [...lanes], ...WORKER }),
    ),
  );
  executor = await createQueueExecutor({ redis: redis.url, queue: 'fleet', lanes: ['js', 'python'] });
});

afterAll(async () => {
  await executor?.dispose();
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.close();
});

describe('a fleet of three worker processes', () => {
  it('returns exactly one result per sample, in the caller order', async () => {
    const requests = Array.from({ length: 30 }, (_, i) => echo(i, i % 3 === 0));
    const results = await Promise.all(requests.map((r) => executor.run(r)));
    expect(results.map((r) => r.outcome)).toEqual(
      requests.map((_, i) => (i % 3 === 0 ? 'wrong_answer' : 'pass')),
    );
    results.forEach((r, i) => {
      expect(r.stdout.trim()).toBe(String(i % 3 === 0 ? i + 1000 : i));
    });
    expect(executor.stats()).toMatchObject({ duplicates: 0, pending: 0 });
    const started = workers.map((w) => w.lines.filter((l) => l.event === 'job-start').length);
    expect(started.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30);
  });

  it('hostile programs get their verdict on the worker and never a pass; the workers keep serving', async () => {
    const limits = { timeoutMs: 500, totalTimeoutMs: 2000 };
    const hostile: Array<[string, string]> = [
      ['process.exit(0)', 'process.exit(0);\nconsole.log(1)'],
      ['infinite loop', 'while (true) {}'],
      ['memory bomb', 'const a = []; while (true) a.push(new Array(1e6).fill(1))'],
      ['patched console', 'console.log = () => {}; globalThis.console = { log() {} }'],
      ['throws a string', 'throw "1\\n"'],
    ];
    const js = hostile.map(([, program]) => ({
      language: 'javascript' as const,
      program,
      limits: { ...limits, memoryMb: 64 },
    }));
    const python: Array<[string, string]> = [
      ['os._exit(0)', 'import os\nos._exit(0)'],
      ['sys.exit(0)', 'import sys\nsys.exit(0)'],
      ['busy loop', 'while True: pass'],
    ];
    hostile.push(...python);
    const requests = [
      ...js,
      ...python.map(([, program]) => ({ language: 'python' as const, program, limits })),
    ];
    const results = await Promise.all(
      requests.map((r) =>
        executor.run({ ...r, tests: { kind: 'stdio', cases: [{ input: '', output: '1\n' }] } }),
      ),
    );
    for (const [i, r] of results.entries()) {
      expect(r.outcome, hostile[i]![0]).not.toBe('pass');
      expect(r.outcome, hostile[i]![0]).not.toBe('infra_error');
    }
    expect(results[1]!.outcome).toBe('timeout');
    expect(results.at(-1)!.outcome).toBe('timeout');
    const after = await Promise.all([1, 2, 3].map((n) => executor.run(echo(n))));
    expect(after.map((r) => r.outcome)).toEqual(['pass', 'pass', 'pass']);
    for (const w of workers) expect(w.child.exitCode).toBeNull();
  });

  it('a caller-chosen job id runs once: a retried request gets the stored result', async () => {
    const request = { ...echo(7), jobId: 'sample-7' };
    const first = await executor.run(request);
    const again = await executor.run(request);
    expect(first.outcome).toBe('pass');
    expect(again).toEqual(first);
    expect(startsOf(workers, 'sample-7').reduce((a, b) => a + b, 0)).toBe(1);

    const slow = { ...busy(300), jobId: 'sample-8' };
    const inFlight = executor.run(slow);
    await expect(executor.run(slow)).rejects.toMatchObject({ code: 'DUPLICATE_JOB' });
    expect((await inFlight).outcome).toBe('pass');
  });

  it('an aborted request stops its job on the worker and is not retried', async () => {
    const controller = new AbortController();
    const request: ExecutionRequest = {
      language: 'python',
      program: 'import time\ntime.sleep(5)\nprint(1)',
      tests: { kind: 'stdio', cases: [{ input: '', output: '1\n' }] },
      limits: { timeoutMs: 8000, totalTimeoutMs: 8000 },
      signal: controller.signal,
    };
    const running = executor.run({ ...request, jobId: 'cancel-1' } as ExecutionRequest);
    const started = await waitForAny(workers, (l) => l.event === 'job-start' && l.jobId === 'cancel-1');
    const abortedAt = performance.now();
    controller.abort();
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    const worker = workers.find((w) => w.pid === started.pid)!;
    const end = await worker.waitFor((l) => l.event === 'job-end' && l.jobId === 'cancel-1', 10_000);
    expect(end.outcome).toBe('cancelled');
    // The 5 s program was stopped, not run to its end.
    expect(performance.now() - abortedAt).toBeLessThan(4000);
    await new Promise((r) => setTimeout(r, 300));
    expect(startsOf(workers, 'cancel-1').reduce((a, b) => a + b, 0)).toBe(1);
  });

  /** A second executor on the fleet's queue with other options, disposed afterwards. */
  async function withExecutor(
    options: Partial<QueueExecutorOptions>,
    body: (e: QueueExecutor) => Promise<void>,
  ) {
    const other = await createQueueExecutor({ redis: redis.url, queue: 'fleet', lanes: ['js'], ...options });
    try {
      await body(other);
    } finally {
      await other.dispose();
    }
  }

  it('refuses a request larger than maxPayloadBytes before enqueueing it', async () => {
    await withExecutor({ maxPayloadBytes: 1000 }, async (small) => {
      const big = { ...echo(1), program: `// ${'x'.repeat(2000)}\nconsole.log(1)` };
      const err = await small.run(big).catch((e: unknown) => e);
      expect(StepcoderError.is(err, 'PAYLOAD_TOO_LARGE')).toBe(true);
      expect((err as Error).message).toMatch(/exceeds maxPayloadBytes \(1000\)/);
      expect(small.stats().enqueued).toBe(0);
    });
  });

  it('finished jobs expire from Redis after resultTtlSeconds', async () => {
    await withExecutor({ resultTtlSeconds: 1 }, async (short) => {
      const key = 'stepcoder:fleet.js:ttl-a';
      await short.run({ ...echo(1), jobId: 'ttl-a' });
      expect(await redis.command((c) => c.exists(key))).toBe(1);
      await new Promise((r) => setTimeout(r, 1500));
      // BullMQ trims by age whenever a later job of the queue finishes.
      await short.run({ ...echo(2), jobId: 'ttl-b' });
      expect(await redis.command((c) => c.exists(key))).toBe(0);
    });
  });
});
