import type { ExecutionRequest, ExecutionResult, Executor } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import {
  createTrainer,
  groupStats,
  informativeGroups,
  lossWeightsOf,
  type TrainerConfig,
} from '../src/index.js';
import { microPolicy, problems, result, simpleReward } from './helpers.js';

/**
 * Pass when the generated part holds a lowercase letter, except on the problems in `never`, which
 * never pass: their groups are all-equal and carry no group-relative signal.
 */
function groupedExecutor(never: Set<string>, seen: string[]): Executor {
  return {
    specificationVersion: 'v1',
    name: 'grouped',
    languages: ['python'],
    async run(request: ExecutionRequest): Promise<ExecutionResult> {
      const expected = request.tests.kind === 'stdio' ? request.tests.cases[0]!.output : '';
      seen.push(expected);
      const outcome = !never.has(expected) && /[a-z]/.test(request.program) ? 'pass' : 'wrong_answer';
      return result(outcome, request.program, false);
    },
    async dispose() {},
  };
}

function config(filter: 'none' | 'contrast' | 'equal', seen: string[]): Omit<TrainerConfig, 'policy'> {
  // p0..p5 never pass; p6..p11 pass about half the time (a contrast in most groups of 4).
  const never = new Set(Array.from({ length: 6 }, (_, i) => `w${i}`));
  return {
    seed: 5,
    problems: problems(12),
    executor: groupedExecutor(never, seen),
    reward: simpleReward,
    advantage: 'grpo',
    batchSize: 4,
    samplesPerPrompt: 4,
    generation: { maxNewTokens: 4, temperature: 1 },
    ppo: { epochs: 2, minibatchSize: 8, lossAggregation: 'sequence-mean' },
    kl: { type: 'fixed', beta: 0.02 },
    lr: 1e-3,
    dynamicSampling: { filter, maxRounds: 4 },
  };
}

describe('dynamic sampling (DAPO) and group metrics', () => {
  it('drops groups without a pass/fail contrast and refills the batch with new prompts', async () => {
    const seen: string[] = [];
    const policy = await microPolicy(3);
    const trainer = await createTrainer({ ...config('contrast', seen), policy });
    try {
      const r = await trainer.iterate();
      const m = r.metrics;
      expect(m.groups).toBe(4);
      expect(m.contrast_groups! + m.equal_groups!).toBeLessThanOrEqual(4);
      // Something was dropped and replaced: more rollouts executed than the first round's 16.
      expect(m.dropped_rollouts).toBeGreaterThan(0);
      expect(m.refill_rounds).toBeGreaterThanOrEqual(1);
      expect(seen.length).toBeGreaterThan(16);
      // Whole groups are trained, never more than batchSize of them.
      expect(m.trained_groups).toBeLessThanOrEqual(4);
      expect(r.samples).toBe(4 * m.trained_groups!);
      expect(m.trained_groups).toBeGreaterThan(m.contrast_groups!);
      // The first-round pass rate is reported from the first round only (rollouts = 16).
      expect(m.rollouts).toBe(16);
    } finally {
      await trainer.dispose();
      policy.dispose();
    }
  });

  it('with filter none it trains every group and counts contrast / equal groups; same seed reproduces', async () => {
    const runs: Array<Record<string, number>> = [];
    for (let i = 0; i < 2; i++) {
      const seen: string[] = [];
      const policy = await microPolicy(3);
      const trainer = await createTrainer({ ...config('none', seen), policy });
      try {
        const r = await trainer.iterate();
        expect(seen.length).toBe(16);
        expect(r.samples).toBe(16);
        expect(r.metrics.dropped_rollouts).toBeUndefined();
        runs.push(r.metrics);
      } finally {
        await trainer.dispose();
        policy.dispose();
      }
    }
    const pick = (m: Record<string, number>) => [
      m.contrast_groups,
      m.equal_groups,
      m.pass_rate,
      m.policy_loss,
    ];
    expect(pick(runs[0]!)).toEqual(pick(runs[1]!));
  });

  it('groupStats / informativeGroups classify groups by outcome and reward', () => {
    const r = (group: number, outcome: string, score: number) => ({
      sample: { group },
      result: { outcome },
      score,
    });
    const rollouts = [
      r(0, 'pass', 1),
      r(0, 'wrong_answer', -0.3), // contrast
      r(1, 'wrong_answer', -0.3),
      r(1, 'runtime_error', -0.6), // rewards differ, no pass: kept by 'equal', not by 'contrast'
      r(2, 'pass', 1),
      r(2, 'pass', 1), // all equal
      r(3, 'pass', 1), // singleton
    ];
    expect(groupStats(rollouts)).toEqual({ groups: 4, contrast: 1, equal: 2 });
    expect(informativeGroups(rollouts, 'contrast').map((x) => x.sample.group)).toEqual([0, 0]);
    expect(informativeGroups(rollouts, 'equal').map((x) => x.sample.group)).toEqual([0, 0, 1, 1]);
  });
});

describe('loss aggregation', () => {
  const w = [
    Float32Array.from([1, 1, 1, 1, 1, 1]),
    Float32Array.from([1, 1, 0, 0, 0, 0]),
    new Float32Array(6),
  ];
  const sum = (x: Float32Array) => x.reduce((a, b) => a + b, 0);
  it('token-mean weighs every token alike: coefficients sum to 1 over the minibatch', () => {
    const c = lossWeightsOf(w, 'token-mean');
    expect(sum(c[0]!) + sum(c[1]!)).toBeCloseTo(1, 6);
    expect(c[0]![0]).toBeCloseTo(1 / 8, 6);
    expect(sum(c[0]!) / sum(c[1]!)).toBeCloseTo(3, 5); // the long sequence weighs 3×
  });
  it('sequence-mean weighs every live sequence alike', () => {
    const c = lossWeightsOf(w, 'sequence-mean');
    expect(sum(c[0]!)).toBeCloseTo(0.5, 6);
    expect(sum(c[1]!)).toBeCloseTo(0.5, 6);
    expect(sum(c[2]!)).toBe(0);
  });
  it('constant divides by sequences × the generation budget (Dr. GRPO)', () => {
    const c = lossWeightsOf(w, 'constant', 10);
    expect(c[0]![0]).toBeCloseTo(1 / 30, 6);
    expect(sum(c[0]!) / sum(c[1]!)).toBeCloseTo(3, 5);
  });
});
