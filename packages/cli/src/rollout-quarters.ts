import type { IterationResult } from '@stepcoder/ppo';

/** A rollout pass rate over some iterations, with a 95% interval over those iterations. */
export interface RateWithInterval {
  iterations: [number, number];
  rollouts: number;
  passes: number;
  /** Pooled: passes / rollouts. */
  rate: number;
  lo: number;
  hi: number;
}

export interface RolloutQuarters {
  first: RateWithInterval;
  last: RateWithInterval;
  /** last − first with a 95% interval (Welch, iterations as the units). */
  change: { mean: number; lo: number; hi: number };
}

/** Two-sided 97.5% Student t quantiles for 1..30 degrees of freedom; 1.96 beyond. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
const t975 = (df: number) => (df < 1 ? Number.NaN : (T975[Math.round(df) - 1] ?? 1.96));

interface Part {
  rate: RateWithInterval;
  /** Per-iteration pass rates (the units of the interval) and their variance of the mean. */
  varianceOfMean: number;
  n: number;
}

function partOf(rows: readonly IterationResult[]): Part {
  let rollouts = 0;
  let passes = 0;
  const rates: number[] = [];
  for (const r of rows) {
    const n = r.metrics.rollouts ?? 0;
    const p = r.metrics.passes ?? (r.metrics.pass_rate ?? 0) * n;
    rollouts += n;
    passes += p;
    if (n > 0) rates.push(p / n);
  }
  const rate = rollouts ? passes / rollouts : Number.NaN;
  const k = rates.length;
  const mean = k ? rates.reduce((a, x) => a + x, 0) / k : Number.NaN;
  const variance = k > 1 ? rates.reduce((a, x) => a + (x - mean) ** 2, 0) / (k - 1) : Number.NaN;
  const half = t975(k - 1) * Math.sqrt(variance / k);
  return {
    rate: {
      iterations: [rows[0]?.step ?? 0, rows[rows.length - 1]?.step ?? 0],
      rollouts,
      passes,
      rate,
      lo: Math.max(0, rate - half),
      hi: Math.min(1, rate + half),
    },
    varianceOfMean: variance / k,
    n: k,
  };
}

/**
 * The rollout pass rate over the first and the last quarter of the iterations (at least one each),
 * from the per-iteration `rollouts` / `passes` counts (first round of each iteration, before any
 * dynamic-sampling filter). Intervals take iterations as the units: the rollouts of one iteration
 * share its prompts (each iteration draws new ones), so treating rollouts as independent would make
 * the interval several times too narrow. Undefined with fewer than 4 iterations.
 */
export function rolloutPassQuarters(iterations: readonly IterationResult[]): RolloutQuarters | undefined {
  if (iterations.length < 4) return undefined;
  const q = Math.max(2, Math.floor(iterations.length / 4));
  const first = partOf(iterations.slice(0, q));
  const last = partOf(iterations.slice(-q));
  const se2 = first.varianceOfMean + last.varianceOfMean;
  // Welch–Satterthwaite degrees of freedom.
  const df = se2 ** 2 / (first.varianceOfMean ** 2 / (first.n - 1) + last.varianceOfMean ** 2 / (last.n - 1));
  const half = t975(Math.floor(df)) * Math.sqrt(se2);
  const mean = last.rate.rate - first.rate.rate;
  return { first: first.rate, last: last.rate, change: { mean, lo: mean - half, hi: mean + half } };
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
