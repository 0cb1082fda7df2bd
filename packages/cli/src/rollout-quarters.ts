import type { IterationResult } from '@stepcoder/ppo';

/** A pass rate with its 95% Wilson interval. */
export interface RateWithInterval {
  iterations: [number, number];
  rollouts: number;
  passes: number;
  rate: number;
  lo: number;
  hi: number;
}

export interface RolloutQuarters {
  first: RateWithInterval;
  last: RateWithInterval;
  /** last − first with a 95% normal interval (independent binomials). */
  change: { mean: number; lo: number; hi: number };
}

function wilson(passes: number, n: number): { lo: number; hi: number } {
  if (n === 0) return { lo: Number.NaN, hi: Number.NaN };
  const z = 1.96;
  const p = passes / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

function rateOf(rows: readonly IterationResult[]): RateWithInterval {
  let rollouts = 0;
  let passes = 0;
  for (const r of rows) {
    const n = r.metrics.rollouts ?? 0;
    rollouts += n;
    passes += r.metrics.passes ?? (r.metrics.pass_rate ?? 0) * n;
  }
  const rate = rollouts ? passes / rollouts : Number.NaN;
  return {
    iterations: [rows[0]?.step ?? 0, rows[rows.length - 1]?.step ?? 0],
    rollouts,
    passes,
    rate,
    ...wilson(passes, rollouts),
  };
}

/**
 * The rollout pass rate over the first and the last quarter of the iterations (at least one each),
 * from the per-iteration `rollouts` / `passes` counts. The interval treats rollouts as
 * independent; rollouts of one prompt are correlated, so it is somewhat too narrow — the paired
 * evaluation deltas are the stronger evidence. Undefined with fewer than 2 iterations.
 */
export function rolloutPassQuarters(iterations: readonly IterationResult[]): RolloutQuarters | undefined {
  if (iterations.length < 2) return undefined;
  const q = Math.max(1, Math.floor(iterations.length / 4));
  const first = rateOf(iterations.slice(0, q));
  const last = rateOf(iterations.slice(-q));
  const se = Math.sqrt(
    (first.rate * (1 - first.rate)) / Math.max(1, first.rollouts) +
      (last.rate * (1 - last.rate)) / Math.max(1, last.rollouts),
  );
  const mean = last.rate - first.rate;
  return { first, last, change: { mean, lo: mean - 1.96 * se, hi: mean + 1.96 * se } };
}

export function describeQuarters(q: RolloutQuarters): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  const part = (r: RateWithInterval) =>
    `${pct(r.rate)} [${pct(r.lo)}, ${pct(r.hi)}] (iterations ${r.iterations[0]}–${r.iterations[1]}, ${r.rollouts} rollouts)`;
  return (
    `rollout pass rate: first quarter ${part(q.first)}, last quarter ${part(q.last)}; ` +
    `change ${pts(q.change.mean)} points [95% CI ${pts(q.change.lo)}, ${pts(q.change.hi)}]`
  );
}
