import type { ExecutionRequest } from '@stepcoder/core';
import { createJsExecutor } from '@stepcoder/executor-js';
import { afterAll, describe, expect, it } from 'vitest';
import { createStepcoderReward, scoreBatch } from '../src/index.js';

const executor = createJsExecutor({});
afterAll(() => executor.dispose());

const tests = {
  kind: 'call' as const,
  fnName: 'add',
  inputs: [
    [1, 2],
    [2, 2],
  ],
  outputs: [3, 4],
};
const call = (program: string): ExecutionRequest => ({
  program,
  language: 'javascript',
  tests,
  limits: { timeoutMs: 500 },
});

describe('batches through executor-js', () => {
  it('scores each outcome with the StepCoder table, in request order', async () => {
    const requests = [
      call('function add(a, b) { return a + b; }'),
      call('function add(a, b) { return a - b; }'),
      call('function add(a, b) { throw new Error("no"); }'),
      call('function add(a, b) { return a + ; }'),
      call('function add(a, b) { for (;;) {} }'),
      call('function add(a, b) { return a + b; }'),
    ];
    const rewards: Array<number | null> = [];
    const scored = await scoreBatch(executor, requests, createStepcoderReward(), {
      concurrency: 3,
      onResult: (index, _result, reward) => {
        rewards[index] = reward;
      },
    });
    expect(scored.map((s) => s.result.outcome)).toEqual([
      'pass',
      'wrong_answer',
      'runtime_error',
      'compile_error',
      'timeout',
      'pass',
    ]);
    expect(scored.map((s) => s.reward)).toEqual([1, -0.3, -0.6, -1, -0.6, 1]);
    expect(rewards).toEqual(scored.map((s) => s.reward));
  });
});
