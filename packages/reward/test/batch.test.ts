import type { ExecutionRequest, ExecutionResult } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createStepcoderReward, runBatch, scoreBatch } from '../src/index.js';
import { NodeSubprocessExecutor, sleepyEcho } from './helpers/node-executor.js';

const executor = new NodeSubprocessExecutor();
afterAll(() => executor.dispose());

function request(program: string, cases = [{ input: 'ab\n', output: 'AB\n' }]): ExecutionRequest {
  return { program, tests: { kind: 'stdio', cases } };
}

describe('scoreBatch with a real subprocess executor', () => {
  it('keeps request order, bounds concurrency and reports results as they finish', async () => {
    executor.maxInFlight = 0;
    // Earlier requests sleep longer, so they finish after later ones.
    const delays = [600, 450, 300, 150, 0, 0];
    const requests = delays.map((ms) => request(sleepyEcho(ms)));
    requests[2] = request('process.stdout.write("wrong\\n")');
    requests[4] = request('throw new Error("boom")');
    const finished: number[] = [];
    const seen: Array<[number, number | null]> = [];
    const scored = await scoreBatch(executor, requests, createStepcoderReward(), {
      concurrency: 3,
      onResult: (index, result, reward) => {
        finished.push(index);
        seen.push([index, reward]);
        expect(result.outcome).toBeDefined();
      },
    });
    expect(scored.map((s) => s.result.outcome)).toEqual([
      'pass',
      'pass',
      'wrong_answer',
      'pass',
      'runtime_error',
      'pass',
    ]);
    expect(scored.map((s) => s.reward)).toEqual([1, 1, -0.3, 1, -0.6, 1]);
    expect(executor.maxInFlight).toBe(3);
    expect(finished.slice().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    // Every callback carried the same reward the batch returns for that index.
    for (const [index, reward] of seen) expect(reward).toBe(scored[index]!.reward);
  });

  it('turns an executor crash into an infra_error for that item only', async () => {
    const requests = [
      request(sleepyEcho(0)),
      request('// CRASH_EXECUTOR'),
      request('// GARBAGE_RESULT'),
      request(sleepyEcho(0), [
        { input: 'x', output: 'X' },
        { input: 'y', output: 'Y' },
      ]),
    ];
    const scored = await scoreBatch(executor, requests, createStepcoderReward(), { concurrency: 2 });
    expect(scored.map((s) => s.result.outcome)).toEqual(['pass', 'infra_error', 'infra_error', 'pass']);
    expect(scored[1]!.result.message).toMatch(/worker died/);
    expect(scored[1]!.result.total).toBe(1);
    expect(scored[2]!.result.message).toMatch(/invalid result/);
    expect(scored.map((s) => s.reward)).toEqual([1, null, null, 1]);
    expect(scored[3]!.result.passed).toBe(2);
  });

  it('survives a reward function that throws', async () => {
    const throwing = {
      specificationVersion: 'v1' as const,
      name: 'throws-on-wrong',
      score: (r: ExecutionResult) => {
        if (r.outcome !== 'pass') throw new Error('cannot score');
        return 1;
      },
    };
    const scored = await scoreBatch(executor, [request('1'), request(sleepyEcho(0))], throwing, {
      concurrency: 2,
    });
    expect(scored[0]).toMatchObject({ reward: null, rewardError: 'cannot score' });
    expect(scored[1]!.reward).toBe(1);
  });

  it('runBatch returns execution results in order and handles empty input', async () => {
    expect(await runBatch(executor, [])).toEqual([]);
    const results = await runBatch(executor, [request(sleepyEcho(200)), request('1')], { concurrency: 2 });
    expect(results.map((r) => r.outcome)).toEqual(['pass', 'wrong_answer']);
  });

  it('validates its options', async () => {
    await expect(runBatch(executor, [request('1')], { concurrency: 0 })).rejects.toThrow(/concurrency/);
    await expect(runBatch(executor, [request('1')], { concurrency: 1.5 })).rejects.toThrow(/concurrency/);
    await expect(runBatch(executor, [], { onResult: 5 as never })).rejects.toThrow(/onResult/);
  });

  it('stops starting programs on abort and rejects once running ones settle', async () => {
    const controller = new AbortController();
    const requests = Array.from({ length: 6 }, () => request(sleepyEcho(100)));
    let started = 0;
    const promise = runBatch(executor, requests, {
      concurrency: 1,
      signal: controller.signal,
      onResult: () => {
        started++;
        if (started === 2) controller.abort();
      },
    });
    await expect(promise).rejects.toMatchObject({ code: 'ABORTED', details: { done: 2, total: 6 } });
    await expect(runBatch(executor, requests, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });

  it('rejects with the error of a throwing onResult without leaving programs running', async () => {
    const requests = Array.from({ length: 4 }, () => request(sleepyEcho(0)));
    await expect(
      runBatch(executor, requests, {
        concurrency: 2,
        onResult: () => {
          throw new Error('trainer bug');
        },
      }),
    ).rejects.toThrow('trainer bug');
    expect(executor.inFlight).toBe(0);
  });
});
