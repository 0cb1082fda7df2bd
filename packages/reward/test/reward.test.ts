import { createRegistry, type ExecutionResult, registry, ValidationError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { createPassFractionReward, createStepcoderReward } from '../src/index.js';

function result(outcome: ExecutionResult['outcome'], passed = 0, total = 4): ExecutionResult {
  return { outcome, tests: [], passed, total, durationMs: 1, stdout: '', stderr: '', truncated: false };
}

describe('stepcoder reward', () => {
  it('uses the StepCoder table by default', () => {
    const r = createStepcoderReward();
    expect(r.specificationVersion).toBe('v1');
    expect(r.score(result('pass', 4))).toBe(1);
    expect(r.score(result('wrong_answer'))).toBe(-0.3);
    expect(r.score(result('runtime_error'))).toBe(-0.6);
    expect(r.score(result('timeout'))).toBe(-0.6);
    expect(r.score(result('memory_limit'))).toBe(-0.6);
    expect(r.score(result('compile_error'))).toBe(-1);
  });

  it('never rewards an infrastructure failure', () => {
    expect(createStepcoderReward().score(result('infra_error'))).toBeNull();
    expect(createPassFractionReward().score(result('infra_error', 3))).toBeNull();
  });

  it('makes every value configurable, timeout separately from runtime errors', () => {
    const r = createStepcoderReward({ timeout: -0.9, wrongAnswer: -0.5, pass: 2 });
    expect(r.score(result('timeout'))).toBe(-0.9);
    expect(r.score(result('runtime_error'))).toBe(-0.6);
    expect(r.score(result('wrong_answer'))).toBe(-0.5);
    expect(r.score(result('pass'))).toBe(2);
    expect(r.table.compileError).toBe(-1);
  });

  it('scores a cut output as a runtime error unless outputLimit is set', () => {
    const cut: ExecutionResult = { ...result('runtime_error'), reason: 'output_limit', truncated: true };
    expect(createStepcoderReward().score(cut)).toBe(-0.6);
    expect(createStepcoderReward({ runtimeError: -0.7 }).score(cut)).toBe(-0.7);
    const own = createStepcoderReward({ outputLimit: -0.1 });
    expect(own.score(cut)).toBe(-0.1);
    expect(own.score(result('runtime_error'))).toBe(-0.6);
    expect(createPassFractionReward().score({ ...cut, passed: 1, total: 4 })).toBeCloseTo(0.25);
  });

  it('rejects bad options naming the option path', () => {
    expect(() => createStepcoderReward({ pass: 'one' as unknown as number })).toThrow(ValidationError);
    expect(() => createStepcoderReward({ pass: 'one' as unknown as number })).toThrow(/pass/);
    expect(() => createStepcoderReward({ runtimeErorr: 1 } as never)).toThrow(/runtimeErorr/);
    expect(() => createPassFractionReward({ min: 1, max: 0 })).toThrow(/max/);
  });

  it('fails loudly on an outcome it does not know', () => {
    expect(() => createStepcoderReward().score(result('segfault' as never))).toThrow(/segfault/);
  });
});

describe('pass-fraction reward', () => {
  it('scales the fraction of passed tests into [min, max]', () => {
    const r = createPassFractionReward({ min: -1, max: 1, compileError: -2 });
    expect(r.score(result('wrong_answer', 1, 4))).toBeCloseTo(-0.5);
    expect(r.score(result('pass', 4, 4))).toBe(1);
    expect(r.score(result('runtime_error', 0, 4))).toBe(-1);
    expect(r.score(result('timeout', 2, 4))).toBeCloseTo(0);
    expect(r.score(result('compile_error', 0, 4))).toBe(-2);
  });

  it('handles programs with no tests', () => {
    const r = createPassFractionReward();
    expect(r.score(result('pass', 0, 0))).toBe(1);
    expect(r.score(result('runtime_error', 0, 0))).toBe(0);
  });
});

describe('registration', () => {
  it('registers stepcoder and pass-fraction in the global registry with schemas', async () => {
    expect(registry.list('reward')).toEqual(expect.arrayContaining(['stepcoder', 'pass-fraction']));
    const r = await registry.create('reward', 'stepcoder', { compileError: -3 });
    expect(r.score(result('compile_error'))).toBe(-3);
    await expect(registry.create('reward', 'pass-fraction', { max: 'x' } as never)).rejects.toThrow(
      /options of reward 'pass-fraction'[\s\S]*max/,
    );
    expect(createRegistry().has('reward', 'stepcoder')).toBe(false);
  });
});
