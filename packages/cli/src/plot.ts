import type { MetricsRow } from './metrics-log.js';

/**
 * A self-contained HTML report (inline SVG, no scripts, no network) with one line chart per
 * metric over steps, so a user can open it from any machine.
 */
export interface PlotSeries {
  label: string;
  rows: MetricsRow[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

function chart(metric: string, series: PlotSeries[]): string {
  const W = 420;
  const H = 240;
  const pad = { l: 52, r: 12, t: 28, b: 32 };
  const points = series.map((s) =>
    s.rows
      .filter((r) => typeof r[metric] === 'number' && Number.isFinite(r[metric] as number))
      .map((r) => [r.step, r[metric] as number] as const),
  );
  const all = points.flat();
  if (all.length === 0) return '';
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const sy = (y: number) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const lines = points
    .map((pts, i) => {
      if (pts.length === 0) return '';
      const d = pts.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.6"/>`;
    })
    .join('');
  const ticks = [y0, (y0 + y1) / 2, y1]
    .map(
      (y) =>
        `<text x="${pad.l - 6}" y="${sy(y) + 4}" text-anchor="end">${fmt(y)}</text><line x1="${pad.l}" x2="${W - pad.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/>`,
    )
    .join('');
  const xt = [x0, x1]
    .map((x) => `<text x="${sx(x)}" y="${H - 10}" text-anchor="middle">${fmt(x)}</text>`)
    .join('');
  return `<figure><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">
<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(metric)}</text>
${ticks}${xt}<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${H - pad.b}" stroke="#999"/>${lines}</svg></figure>`;
}

export function renderPlotHtml(title: string, series: PlotSeries[], metrics: readonly string[]): string {
  const legend = series
    .map((s, i) => `<span style="color:${COLORS[i % COLORS.length]}">&#9632; ${escapeHtml(s.label)}</span>`)
    .join(' &nbsp; ');
  const charts = metrics.map((m) => chart(m, series)).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:24px}figure{display:inline-block;margin:8px}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${legend}</p>${charts}</body></html>\n`;
}
