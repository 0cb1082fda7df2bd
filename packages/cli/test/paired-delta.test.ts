import type { EvaluationReport } from '@stepcoder/ppo';
import { describe, expect, it } from 'vitest';
import { describeDelta, pairedDelta } from '../src/paired-delta.js';

function report(cs: number[], n = 4): EvaluationReport {
  return {
    problems: cs.length,
    passAtK: {},
    n,
    k: [1, 4],
    seed: 1,
    byDifficulty: {},
    perProblem: cs.map((c, i) => ({ id: `p${i}`, difficulty: 'easy', n, c, infraErrors: 0 })),
    durationMs: 0,
  } as unknown as EvaluationReport;
}

describe('pairedDelta', () => {
  it('differences each problem’s pass@k before and after, with a normal 95% interval', () => {
    const before = report([0, 1, 2, 0]);
    const after = report([1, 1, 4, 0]);
    const d = pairedDelta(before, after, 1);
    // per-problem pass@1 = c/n: diffs 0.25, 0, 0.5, 0
    expect(d.problems).toBe(4);
    expect(d.mean).toBeCloseTo(0.1875, 12);
    const sd = Math.sqrt((0.0625 ** 2 + 0.1875 ** 2 + 0.3125 ** 2 + 0.1875 ** 2) / 3);
    expect(d.ci95).toBeCloseTo((1.96 * sd) / 2, 12);
    // pass@4 with n = 4: a problem counts once any sample passed
    expect(pairedDelta(before, after, 4).mean).toBeCloseTo(0.25, 12);
    expect(describeDelta(before, after)).toMatch(
      /^pass@1 \+18\.8 points \[95% CI [−+-]?\d+\.\d, \+\d+\.\d\], pass@4 \+25\.0 points/,
    );
  });

  it('ignores problems missing from either report', () => {
    const d = pairedDelta(report([1, 2]), report([1, 2, 4]), 1);
    expect(d.problems).toBe(2);
    expect(d.mean).toBe(0);
  });
});
