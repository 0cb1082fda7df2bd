import type { IterationResult } from '@stepcoder/ppo';
import { describe, expect, it } from 'vitest';
import { describeQuarters, rolloutPassQuarters } from '../src/rollout-quarters.js';

const iteration = (step: number, rollouts: number, passes: number): IterationResult => ({
  step,
  metrics: { rollouts, passes, pass_rate: passes / rollouts },
  timing: { generateMs: 0, executeMs: 0, updateMs: 0, wallMs: 0 },
  samples: rollouts,
  skipped: 0,
});

describe('rollout pass rate over the first and last quarter', () => {
  it('pools each quarter and gives a Welch interval over iterations', () => {
    // 8 iterations: quarters of 2. First: 30/64, 34/64; last: 50/64, 46/64.
    const rows = [30, 34, 40, 41, 42, 44, 50, 46].map((p, i) => iteration(i + 1, 64, p));
    const q = rolloutPassQuarters(rows)!;
    expect(q.first.iterations).toEqual([1, 2]);
    expect(q.last.iterations).toEqual([7, 8]);
    expect(q.first.rate).toBeCloseTo(64 / 128, 10);
    expect(q.last.rate).toBeCloseTo(96 / 128, 10);
    expect(q.change.mean).toBeCloseTo(0.25, 10);
    // Per-iteration rates differ by 4/64 inside each quarter: the interval is wide (2 units each).
    expect(q.change.lo).toBeLessThan(q.change.mean);
    expect(q.change.hi - q.change.lo).toBeGreaterThan(0.1);
    expect(describeQuarters(q)).toMatch(/first quarter 50\.0% .*last quarter 75\.0%.*change \+25\.0 points/);
  });

  it('is undefined with fewer than 4 iterations', () => {
    expect(rolloutPassQuarters([iteration(1, 8, 4), iteration(2, 8, 5), iteration(3, 8, 6)])).toBeUndefined();
  });
});
