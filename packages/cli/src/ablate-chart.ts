import {
  barChart,
  COLORS,
  configBlock,
  escapeHtml,
  formatValue,
  htmlPage,
  type LineSeries,
  lineChart,
} from './svg-chart.js';

/**
 * ablation.html: variants compared over seeds, as one self-contained HTML page (inline SVG, no
 * scripts, no network). Learning curves show the mean over seeds with a min–max band; the final
 * pass@1 chart shows each variant's mean as a bar with every seed as a point, so a reader sees the
 * spread that a mean alone hides.
 */
export interface AblationChartData {
  title: string;
  /** Shown on the page as JSON (the base config of the ablation). */
  config: Record<string, unknown>;
  variants: Array<{
    name: string;
    seeds: Array<{
      seed: number;
      /** Per PPO iteration; empty for a variant without training (the SFT start). */
      curve: Array<{ iteration: number; reward: number; passRate: number }>;
      /** pass@1 as fractions in [0, 1]; NaN when that set was not evaluated. */
      final: { trainPass1: number; heldOutPass1: number };
    }>;
  }>;
}

interface Stats {
  mean: number;
  min: number;
  max: number;
  std: number;
  n: number;
}

function stats(values: readonly number[]): Stats {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, min: Number.NaN, max: Number.NaN, std: Number.NaN, n };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, min: Math.min(...v), max: Math.max(...v), std, n };
}

/** Mean, min and max over seeds at each iteration any seed reached. */
function curveSeries(
  variant: AblationChartData['variants'][number],
  color: string,
  metric: 'reward' | 'passRate',
): LineSeries {
  const byIteration = new Map<number, number[]>();
  for (const s of variant.seeds) {
    for (const p of s.curve) {
      const list = byIteration.get(p.iteration) ?? [];
      list.push(p[metric]);
      byIteration.set(p.iteration, list);
    }
  }
  const iterations = [...byIteration.keys()].sort((a, b) => a - b);
  const summary = iterations.map((i) => [i, stats(byIteration.get(i)!)] as const);
  return {
    label: variant.name,
    color,
    points: summary.map(([i, s]) => [i, s.mean] as const),
    band: variant.seeds.length > 1 ? summary.map(([i, s]) => [i, s.min, s.max] as const) : undefined,
  };
}

function cell(s: Stats, percent: boolean): string {
  if (s.n === 0) return '–';
  return `${formatValue(s.mean, percent)} ± ${formatValue(s.std, percent)}`;
}

export function renderAblationChart(data: AblationChartData): string {
  const colorOf = new Map(data.variants.map((v, i) => [v.name, COLORS[i % COLORS.length]!]));
  const trained = data.variants.filter((v) => v.seeds.some((s) => s.curve.length > 0));
  const seedCount = Math.max(0, ...data.variants.map((v) => v.seeds.length));
  const band = seedCount > 1 ? ' (line: mean over seeds; band: min–max)' : '';
  const curves = [
    lineChart({
      title: `Rollout reward${band}`,
      xLabel: 'PPO iteration',
      yLabel: 'mean rollout reward',
      series: trained.map((v) => curveSeries(v, colorOf.get(v.name)!, 'reward')),
    }),
    lineChart({
      title: `Rollout pass rate${band}`,
      xLabel: 'PPO iteration',
      yLabel: 'rollouts passing all tests',
      percent: true,
      include: [0],
      series: trained.map((v) => curveSeries(v, colorOf.get(v.name)!, 'passRate')),
    }),
  ].join('');
  const categories = data.variants.map((v) => ({ label: v.name, color: colorOf.get(v.name)! }));
  const finals = barChart({
    title: 'Final pass@1 (bar: mean; points: seeds)',
    yLabel: 'pass@1',
    percent: true,
    categories,
    groups: [
      { label: 'train problems', values: data.variants.map((v) => v.seeds.map((s) => s.final.trainPass1)) },
      {
        label: 'held-out problems',
        values: data.variants.map((v) => v.seeds.map((s) => s.final.heldOutPass1)),
      },
    ],
  });
  const rows = data.variants
    .map((v) => {
      const lastReward = v.seeds.map((s) => s.curve.at(-1)?.reward ?? Number.NaN);
      return `<tr><td><span style="color:${colorOf.get(v.name)}">&#9632;</span> ${escapeHtml(v.name)}</td><td>${cell(
        stats(v.seeds.map((s) => s.final.trainPass1)),
        true,
      )}</td><td>${cell(stats(v.seeds.map((s) => s.final.heldOutPass1)), true)}</td><td>${cell(
        stats(lastReward),
        false,
      )}</td><td>${escapeHtml(v.seeds.map((s) => s.seed).join(', '))}</td></tr>`;
    })
    .join('');
  const table = `<table><tr><th>variant</th><th>train pass@1</th><th>held-out pass@1</th><th>last-iteration reward</th><th>seeds</th></tr>${rows}</table><p class="note">mean ± sample standard deviation over seeds.</p>`;
  return htmlPage(
    data.title,
    `<h2>Final pass@1</h2>${finals}${table}<h2>Learning curves</h2>${curves}${configBlock(data.config)}`,
  );
}
