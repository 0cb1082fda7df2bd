import { type ExecutionResult, registry, ValidationError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

const result = (outcome: ExecutionResult['outcome'], durationMs: number): ExecutionResult => ({
  outcome,
  durationMs,
  tests: [],
  passed: outcome === 'pass' ? 1 : 0,
  total: 1,
  stdout: '',
  stderr: '',
  truncated: false,
});

describe('a plugin registered from outside the repo', () => {
  it('is listed and created by name from the global registry', async () => {
    expect(registry.list('reward')).toContain('speed-bonus');
    const reward = await registry.create('reward', 'speed-bonus', { bonus: 0.5, budgetMs: 100 });
    expect(reward.name).toBe('speed-bonus');
    expect(reward.score(result('pass', 50))).toBeCloseTo(1.25);
    expect(reward.score(result('pass', 500))).toBe(1);
    expect(reward.score(result('wrong_answer', 5))).toBe(-0.5);
    expect(reward.score(result('infra_error', 5))).toBeNull();
  });

  it('has its options validated by the registry with the failing path named', async () => {
    const err = await registry.create('reward', 'speed-bonus', { budgetMs: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]!.path).toBe('budgetMs');
  });
});
