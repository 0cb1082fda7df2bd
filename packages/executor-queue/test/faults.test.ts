import { createEventBus, type LogEvent, registry, StepcoderError } from '@stepcoder/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../src/index.js';
import { createQueueExecutor, type QueueExecutor, startQueueWorker } from '../src/base.js';
import { busy, echo } from './support/programs.js';
import { freePort, type RedisServer, startRedisServer } from './support/redis-server.js';
import { spawnWorker, startsOf, type WorkerProcess, waitForAny } from './support/workers.js';

// Short locks so that a dead worker's job is taken again within about a second.
const FAST = {
  lanes: ['js' as const],
  statsIntervalMs: 0,
  logJobs: true,
  lockDurationMs: 1000,
  stalledIntervalMs: 500,
};

let redis: RedisServer;
let workers: WorkerProcess[] = [];
let executor: QueueExecutor | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  await executor?.dispose();
  executor = undefined;
  await Promise.all(workers.map((w) => w.stop()));
  workers = [];
});

afterAll(async () => {
  await redis?.close();
});

describe('creation', () => {
  it('fails at creation, naming the URL, when Redis cannot be reached', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const err = await registry.create('executor', 'queue', { redis: url }).catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'REDIS_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(url);
    const workerErr = await startQueueWorker({ redis: url, executors: { js: undefined } }).catch(
      (e: unknown) => e,
    );
    expect(StepcoderError.is(workerErr)).toBe(true);
  });

  it('rejects bad options with their path', async () => {
    const err = await registry
      .create('executor', 'queue', { redis: redis.url, queue: 'a:b' })
      .catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'INVALID_OPTIONS')).toBe(true);
    expect((err as Error).message).toMatch(/queue/);
  });
});

describe('faults with real worker processes', () => {
  it('a worker killed mid-job (SIGKILL): the job is retried on another worker, one result', async () => {
    workers = await Promise.all([0, 1].map(() => spawnWorker({ redis: redis.url, queue: 'kill', ...FAST })));
    executor = await createQueueExecutor({ redis: redis.url, queue: 'kill', lanes: ['js'] });
    const pending = executor.run({ ...busy(1500), jobId: 'kill-1' });
    const started = await waitForAny(workers, (l) => l.event === 'job-start' && l.jobId === 'kill-1');
    const victim = workers.find((w) => w.pid === started.pid)!;
    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const result = await pending;
    expect(result.outcome).toBe('pass');
    // Taken again only after the dead worker's lock expired.
    expect(performance.now() - killedAt).toBeGreaterThan(1000);
    const survivor = workers.find((w) => w !== victim)!;
    expect(startsOf([survivor], 'kill-1')).toEqual([1]);
    expect(executor.stats()).toMatchObject({ settled: 1, duplicates: 0, infraErrors: 0 });
  });

  it('a job that keeps killing workers ends as infra_error after maxAttempts, never a reward', async () => {
    const marker = '@@kill-the-worker@@';
    workers = await Promise.all(
      [0, 1, 2].map(() =>
        spawnWorker({ redis: redis.url, queue: 'poison', maxAttempts: 2, poisonMarker: marker, ...FAST }),
      ),
    );
    executor = await createQueueExecutor({ redis: redis.url, queue: 'poison', lanes: ['js'] });
    const result = await executor.run({ ...echo(1), program: `// ${marker}\nconsole.log(1)` });
    expect(result.outcome).toBe('infra_error');
    expect(result.message).toMatch(/stalled more than allowable limit/);
    const exits = await Promise.all(
      workers.map((w) => Promise.race([w.exited, new Promise((r) => setTimeout(() => r('alive'), 200))])),
    );
    expect(exits.filter((e) => e === 'SIGKILL')).toHaveLength(2);
    // The survivor still serves ordinary jobs.
    expect((await executor.run(echo(2))).outcome).toBe('pass');
  });

  it('Redis restarted mid-run: in-flight samples become infra_error once each, with events; work goes on', async () => {
    workers = await Promise.all(
      [0, 1].map(() => spawnWorker({ redis: redis.url, queue: 'restart', ...FAST })),
    );
    const events = createEventBus();
    const logs: LogEvent[] = [];
    events.on('log', (e) => logs.push(e));
    executor = await createQueueExecutor({
      redis: redis.url,
      queue: 'restart',
      lanes: ['js'],
      events,
      reconcileIntervalMs: 300,
    });
    const inFlight = [0, 1].map((i) => executor!.run({ ...busy(1500), jobId: `restart-${i}` }));
    await waitForAny(workers, (l) => l.event === 'job-start');
    await redis.stop();
    // While Redis is down a new sample fails at once instead of hanging.
    const during = await executor.run(echo(5));
    expect(during.outcome).toBe('infra_error');
    await redis.start();
    const lost = await Promise.all(inFlight);
    expect(lost.map((r) => r.outcome)).toEqual(['infra_error', 'infra_error']);
    expect(lost[0]!.message).toMatch(/lost|unreachable/);
    expect(logs.some((l) => l.level === 'warn' && /lost the connection/.test(l.message))).toBe(true);
    expect(logs.some((l) => /reconnected/.test(l.message))).toBe(true);
    // The workers reconnect by themselves and the next samples get real verdicts.
    const after = await Promise.all([1, 2, 3, 4].map((n) => executor!.run(echo(n))));
    expect(after.map((r) => r.outcome)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(executor.stats()).toMatchObject({ duplicates: 0, pending: 0 });
  });
});
