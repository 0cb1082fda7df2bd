import type { EvaluationReport } from '@stepcoder/ppo';
import { passAtK } from '@stepcoder/ppo';

/** after − before of one pass@k over the same problems, with a 95% interval over problems. */
export interface PairedDelta {
  k: number;
  problems: number;
  /** Mean over problems of pass@k(after) − pass@k(before). */
  mean: number;
  /** Half-width of the normal 95% interval of the mean (1.96 · sd / √N); NaN below 2 problems. */
  ci95: number;
}

/**
 * Paired by problem: each problem's unbiased pass@k before and after training (from its n samples
 * and c passes) is differenced, so the interval reflects how consistently the change holds across
 * problems, not the sampling noise of two independent means.
 */
export function pairedDelta(before: EvaluationReport, after: EvaluationReport, k: number): PairedDelta {
  const prior = new Map(before.perProblem.map((p) => [p.id, p]));
  const diffs: number[] = [];
  for (const p of after.perProblem) {
    const b = prior.get(p.id);
    if (!b || p.n < k || b.n < k) continue;
    diffs.push(passAtK(p.n, p.c, k) - passAtK(b.n, b.c, k));
  }
  const n = diffs.length;
  const mean = n ? diffs.reduce((a, x) => a + x, 0) / n : Number.NaN;
  const sd = n > 1 ? Math.sqrt(diffs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : Number.NaN;
  return { k, problems: n, mean, ci95: n > 1 ? (1.96 * sd) / Math.sqrt(n) : Number.NaN };
}

/** "pass@1 +1.2 points [−0.4, +2.8]" for each k of the reports. */
export function describeDelta(before: EvaluationReport, after: EvaluationReport): string {
  return after.k
    .filter((k) => k <= after.n)
    .map((k) => {
      const d = pairedDelta(before, after, k);
      const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
      return `pass@${k} ${pts(d.mean)} points [95% CI ${pts(d.mean - d.ci95)}, ${pts(d.mean + d.ci95)}]`;
    })
    .join(', ');
}
