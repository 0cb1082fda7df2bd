import type { ExecutionRequest } from '@stepcoder/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueExecutor, type QueueExecutor } from '../src/base.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';
import { spawnWorker, type WorkerProcess } from './support/workers.js';

// Short locks so that a killed worker's job is taken again within about a second.
const FAST = { lockDurationMs: 1000, stalledIntervalMs: 500, statsIntervalMs: 0, logJobs: true };

/** Prints `n` when it runs; `wrong` makes it print something else. */
function echo(n: number, wrong = false): ExecutionRequest {
  return {
    language: 'javascript',
    program: `console.log(${wrong ? n + 1000 : n})`,
    tests: { kind: 'stdio', cases: [{ input: '', output: `${n}\n` }] },
  };
}

let redis: RedisServer;
let workers: WorkerProcess[] = [];
let executor: QueueExecutor;

beforeAll(async () => {
  redis = await startRedisServer();
  workers = await Promise.all(
    [0, 1, 2].map(() => spawnWorker({ redis: redis.url, queue: 'fleet', lanes: ['js'], ...FAST })),
  );
  executor = await createQueueExecutor({ redis: redis.url, queue: 'fleet', lanes: ['js'] });
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
      expect(r.tests[0]?.actual ?? r.stdout).toContain(String(i % 3 === 0 ? i + 1000 : i));
    });
    expect(executor.stats()).toMatchObject({ settled: 30, duplicates: 0, pending: 0 });
    const started = workers.map((w) => w.lines.filter((l) => l.event === 'job-start').length);
    expect(started.reduce((a, b) => a + b, 0)).toBe(30);
  });
});
