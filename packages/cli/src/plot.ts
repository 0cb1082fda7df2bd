import type { MetricsRow } from './metrics-log.js';
import { barChart, COLORS, configBlock, escapeHtml, htmlPage, lineChart } from './svg-chart.js';

/**
 * plot.html: a self-contained HTML report (inline SVG, no scripts, no network) of a training run,
 * one chart per metric over PPO iterations, pass@k before and after training, and the run's
 * config, so a user can open it from any machine and see what was run.
 */
export interface PlotSeries {
  label: string;
  rows: MetricsRow[];
}

/** pass@k of one evaluation, per problem set (`EvalReports` of run.ts has this shape). */
export type PassAtKReports = Partial<Record<'train' | 'heldout', { passAtK: Record<string, number> }>>;

export interface PlotExtras {
  /** The run's config, printed on the page. */
  config?: unknown;
  /** pass@k before and after training, drawn side by side. */
  passAtK?: { before?: PassAtKReports; after?: PassAtKReports };
}

/** Axis label and whether the metric is a rate in [0, 1] (shown in %). */
const METRICS: Record<string, { label: string; percent?: boolean }> = {
  reward_mean: { label: 'mean rollout reward' },
  pass_rate: { label: 'rollout pass rate', percent: true },
  kl: { label: 'KL to the reference policy' },
  masked_fraction: { label: 'tokens masked out (FGO)', percent: true },
  stage_mean: { label: 'mean curriculum stage' },
  policy_loss: { label: 'policy loss' },
  value_loss: { label: 'value loss' },
  entropy: { label: 'entropy (nats/token)' },
};

function metricChart(metric: string, series: PlotSeries[]): string {
  const meta = METRICS[metric] ?? { label: metric };
  return lineChart({
    title: metric,
    xLabel: 'PPO iteration',
    yLabel: meta.label,
    percent: meta.percent,
    include: meta.percent ? [0] : undefined,
    series: series.map((s, i) => ({
      label: s.label,
      color: COLORS[i % COLORS.length]!,
      points: s.rows
        .filter((r) => typeof r[metric] === 'number' && Number.isFinite(r[metric] as number))
        .map((r) => [r.step, r[metric] as number] as const),
    })),
  });
}

const SET_NAMES = { train: 'train', heldout: 'held-out' } as const;

function passAtKChart(passAtK: NonNullable<PlotExtras['passAtK']>): string {
  const phases = (['before', 'after'] as const).filter((p) => passAtK[p]);
  const groups: Array<{ label: string; values: number[][] }> = [];
  for (const set of ['train', 'heldout'] as const) {
    const ks = new Set(phases.flatMap((p) => Object.keys(passAtK[p]?.[set]?.passAtK ?? {})));
    for (const k of ks) {
      groups.push({
        label: `${SET_NAMES[set]} ${k}`,
        values: phases.map((p) => {
          const v = passAtK[p]?.[set]?.passAtK[k];
          return v === undefined ? [] : [v];
        }),
      });
    }
  }
  if (groups.length === 0) return '';
  return barChart({
    title: 'pass@k before and after PPO',
    yLabel: 'pass@k',
    percent: true,
    categories: phases.map((p, i) => ({
      label: p === 'before' ? 'before PPO' : 'after PPO',
      color: COLORS[i === 0 ? 7 : 2]!,
    })),
    groups,
  });
}

export function renderPlotHtml(
  title: string,
  series: PlotSeries[],
  metrics: readonly string[],
  extras: PlotExtras = {},
): string {
  const charts = metrics.map((m) => metricChart(m, series)).join('\n');
  const passAtK = extras.passAtK ? passAtKChart(extras.passAtK) : '';
  const iterations = Math.max(0, ...series.map((s) => s.rows.length));
  const summary = `<p class="note">${escapeHtml(
    `${iterations} PPO iteration${iterations === 1 ? '' : 's'}${series.length > 1 ? `, ${series.length} runs` : ''}. Hover a point for its value.`,
  )}</p>`;
  const config = extras.config === undefined ? '' : configBlock(extras.config);
  return htmlPage(
    title,
    `${summary}${passAtK ? `<h2>Evaluation</h2>${passAtK}` : ''}<h2>Training</h2>${charts}${config}`,
  );
}
