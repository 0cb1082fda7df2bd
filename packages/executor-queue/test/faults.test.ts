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

const MARKER = '@@kill-the-worker@@';

/** Workers still running (the kill and poison tests take some down, on purpose). */
const alive = () => workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);

beforeAll(async () => {
  redis = await startRedisServer();
  // One fleet for the whole file, started once (worker start-up dominates the time): 4 workers,
  // of which the kill test takes down 1 and the poison test 2.
  workers = await Promise.all(
    [0, 1, 2, 3].map(() =>
      spawnWorker({ redis: redis.url, queue: 'faults', maxAttempts: 2, poisonMarker: MARKER, ...FAST }),
    ),
  );
});

afterEach(async () => {
  await executor?.dispose();
  executor = undefined;
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
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
    executor = await createQueueExecutor({ redis: redis.url, queue: 'faults', lanes: ['js'] });
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
    expect(startsOf(alive(), 'kill-1').reduce((a, b) => a + b, 0)).toBe(1);
    expect(executor.stats()).toMatchObject({ settled: 1, duplicates: 0, infraErrors: 0 });
  });

  it('Redis restarted mid-run: in-flight samples become infra_error once each, with events; work goes on', async () => {
    const events = createEventBus();
    const logs: LogEvent[] = [];
    events.on('log', (e) => logs.push(e));
    executor = await createQueueExecutor({
      redis: redis.url,
      queue: 'faults',
      lanes: ['js'],
      events,
      reconcileIntervalMs: 300,
    });
    const inFlight = [0, 1].map((i) => executor!.run({ ...busy(1500), jobId: `restart-${i}` }));
    await waitForAny(workers, (l) => l.event === 'job-start' && l.jobId === 'restart-0');
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
  it('a job that keeps killing workers ends as infra_error after maxAttempts, never a reward', async () => {
    const before = alive();
    expect(before).toHaveLength(3);
    executor = await createQueueExecutor({ redis: redis.url, queue: 'faults', lanes: ['js'] });
    const result = await executor.run({ ...echo(1), program: `// ${MARKER}\nconsole.log(1)` });
    expect(result.outcome).toBe('infra_error');
    expect(result.message).toMatch(/stalled more than allowable limit/);
    const exits = await Promise.all(
      before.map((w) => Promise.race([w.exited, new Promise((r) => setTimeout(() => r('alive'), 200))])),
    );
    expect(exits.filter((e) => e === 'SIGKILL')).toHaveLength(2);
    expect(alive()).toHaveLength(1);
    // The survivor still serves ordinary jobs.
    expect((await executor.run(echo(2))).outcome).toBe('pass');
  });
});
