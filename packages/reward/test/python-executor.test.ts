import type { ExecutionRequest } from '@stepcoder/core';
import { createPythonExecutor } from '@stepcoder/executor-python';
import { afterAll, describe, expect, it } from 'vitest';
import { createPassFractionReward, createStepcoderReward, runBatch, scoreBatch } from '../src/index.js';

const executor = createPythonExecutor({ poolSize: 2 });
afterAll(() => executor.dispose());

const tests = {
  kind: 'call' as const,
  fnName: 'add',
  inputs: [
    [1, 2],
    [2, 2],
    [0, 0],
  ],
  outputs: [3, 4, 0],
};
const call = (program: string): ExecutionRequest => ({ program, tests, limits: { timeoutMs: 1000 } });

describe('batches through executor-python', () => {
  it('scores each outcome with the StepCoder table, in request order', async () => {
    const requests = [
      call('def add(a, b):\n    return a + b\n'),
      call('def add(a, b):\n    return a * b\n'),
      call('def add(a, b):\n    return a / 0\n'),
      call('def add(a, b)\n    return a + b\n'),
      call('def add(a, b):\n    while True:\n        pass\n'),
      call('import sys\ndef add(a, b):\n    sys.exit(0)\n'),
    ];
    const order: number[] = [];
    const scored = await scoreBatch(executor, requests, createStepcoderReward(), {
      concurrency: 2,
      onResult: (index) => order.push(index),
    });
    expect(scored.map((s) => s.result.outcome)).toEqual([
      'pass',
      'wrong_answer',
      'runtime_error',
      'compile_error',
      'timeout',
      'runtime_error',
    ]);
    expect(scored.map((s) => s.reward)).toEqual([1, -0.3, -0.6, -1, -0.6, -0.6]);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('gives partial credit for the tests a program passes', async () => {
    // a * b happens to be right for (2, 2) and (0, 0): two of three tests.
    const [result] = await runBatch(executor, [call('def add(a, b):\n    return a * b\n')]);
    expect(result!.passed).toBe(2);
    expect(createPassFractionReward({ min: -1, max: 1 }).score(result!)).toBeCloseTo(1 / 3);
  });

  it('turns a broken executor (disposed) into infra_error results with no reward', async () => {
    const broken = createPythonExecutor({ poolSize: 1 });
    await broken.dispose();
    const scored = await scoreBatch(
      broken,
      [call('def add(a, b):\n    return a + b\n'), call('x')],
      createStepcoderReward(),
    );
    expect(scored.map((s) => s.result.outcome)).toEqual(['infra_error', 'infra_error']);
    expect(scored.map((s) => s.reward)).toEqual([null, null]);
    expect(scored[0]!.result.message).toMatch(/dispos/);
  });
});
