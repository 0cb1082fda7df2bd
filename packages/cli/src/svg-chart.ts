/**
 * Small chart primitives for the self-contained HTML reports (plot.html, ablation.html): inline
 * SVG, no scripts, no fonts or styles from the network, so a report opens anywhere and renders
 * the same in any browser. Tooltips are SVG `<title>` elements.
 */

export const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
];

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** About `target` round ticks covering [min, max]: steps of 1, 2, 2.5 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, target = 5): { ticks: number[]; step: number } {
  const span = max - min || Math.abs(max) || 1;
  const raw = span / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return { ticks, step };
}

/** A tick label with as many decimals as the step needs (0.25 → 2, 5 → 0), or a percentage. */
export function formatTick(v: number, step: number, percent = false): string {
  // Float noise around zero (-1e-17) is zero.
  const value = (Math.abs(v) < Math.abs(step) * 1e-6 ? 0 : v) * (percent ? 100 : 1);
  const s = percent ? step * 100 : step;
  const abs = Math.abs(value);
  // Tiny or huge steps read better in exponent form, zero included as a plain 0.
  if (Math.abs(s) < 1e-3 || Math.abs(s) >= 1e5) {
    return `${value === 0 ? '0' : value.toExponential(1)}${percent ? '%' : ''}`;
  }
  if (abs >= 1e5) return `${value.toExponential(1)}${percent ? '%' : ''}`;
  const decimals = Math.max(
    0,
    Math.min(
      6,
      -Math.floor(Math.log10(s) + 1e-9) +
        (Math.abs(s / 10 ** Math.floor(Math.log10(s)) - 2.5) < 1e-9 ? 1 : 0),
    ),
  );
  const text = value.toFixed(decimals);
  return `${text === '-0' || /^-0\.0*$/.test(text) ? text.slice(1) : text}${percent ? '%' : ''}`;
}

/** A value for a tooltip or table: 3 significant digits, or a percentage with one decimal. */
export function formatValue(v: number, percent = false): string {
  if (!Number.isFinite(v)) return '–';
  if (percent) return `${(v * 100).toFixed(1)}%`;
  return Number(v.toPrecision(3)).toString();
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const FRAME: Frame = { width: 520, height: 300, left: 64, right: 16, top: 36, bottom: 48 };

function axes(
  f: Frame,
  title: string,
  xLabel: string,
  yLabel: string,
  yTicks: number[],
  sy: (y: number) => number,
  yText: (y: number) => string,
  xTicks: Array<{ x: number; text: string }>,
): string {
  const plotBottom = f.height - f.bottom;
  const grid = yTicks
    .map(
      (y) =>
        `<line x1="${f.left}" x2="${f.width - f.right}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#e6e6e6"/>` +
        `<text x="${f.left - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(yText(y))}</text>`,
    )
    .join('');
  const xt = xTicks
    .map(
      (t) =>
        `<line x1="${t.x.toFixed(1)}" x2="${t.x.toFixed(1)}" y1="${plotBottom}" y2="${plotBottom + 4}" stroke="#666"/>` +
        `<text x="${t.x.toFixed(1)}" y="${plotBottom + 16}" text-anchor="middle">${escapeHtml(t.text)}</text>`,
    )
    .join('');
  const midY = (f.top + plotBottom) / 2;
  return (
    `<text x="${f.width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeHtml(title)}</text>` +
    grid +
    `<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${plotBottom}" stroke="#666"/>` +
    `<line x1="${f.left}" x2="${f.width - f.right}" y1="${plotBottom}" y2="${plotBottom}" stroke="#666"/>` +
    xt +
    `<text x="${(f.left + f.width - f.right) / 2}" y="${f.height - 8}" text-anchor="middle" fill="#333">${escapeHtml(xLabel)}</text>` +
    `<text x="14" y="${midY}" text-anchor="middle" fill="#333" transform="rotate(-90 14 ${midY})">${escapeHtml(yLabel)}</text>`
  );
}

/** Room for a legend right of the plot, so it never covers data. */
const LEGEND_WIDTH = 170;

function frameFor(items: number, width = FRAME.width): Frame {
  return items < 2
    ? { ...FRAME, width }
    : { ...FRAME, width: width + LEGEND_WIDTH, right: FRAME.right + LEGEND_WIDTH };
}

function legend(f: Frame, items: Array<{ label: string; color: string }>): string {
  if (items.length < 2) return '';
  return items
    .map((it, i) => {
      const y = f.top + 6 + i * 16;
      const x = f.width - f.right + 14;
      return (
        `<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${it.color}"/>` +
        `<text x="${x + 14}" y="${y + 1}">${escapeHtml(it.label)}</text>`
      );
    })
    .join('');
}

export interface LineSeries {
  label: string;
  color: string;
  /** [x, y] in x order. */
  points: Array<readonly [number, number]>;
  /** Optional shaded band [x, low, high] (min–max or ±std over seeds). */
  band?: Array<readonly [number, number, number]>;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Show y as percentages (rates in [0, 1]). */
  percent?: boolean;
  /** Always include these y values in the domain (e.g. [0, 1] for a rate). */
  include?: number[];
}

/** A line chart with axis labels, round ticks, point markers, optional bands and a legend. */
export function lineChart(o: LineChartOptions): string {
  const f = frameFor(o.series.length);
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [
    ...o.series.flatMap((s) => s.points.map((p) => p[1])),
    ...o.series.flatMap((s) => (s.band ?? []).flatMap((b) => [b[1], b[2]])),
    ...(o.include ?? []),
  ].filter(Number.isFinite);
  if (xs.length === 0 || ys.length === 0) return '';
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const nonNegative = y0 >= 0;
  if (y0 === y1) {
    // A constant series: a band around it, never below 0 for a quantity that cannot be negative.
    const pad = y0 === 0 ? 1 : Math.abs(y0) * 0.5;
    [y0, y1] = [nonNegative ? Math.max(0, y0 - pad) : y0 - pad, y1 + pad];
  }
  // Widen the domain to the round ticks around the data, so both ends of the axis are labelled.
  const step = niceTicks(y0, y1, 5).step;
  [y0, y1] = [Math.floor(y0 / step + 1e-9) * step, Math.ceil(y1 / step - 1e-9) * step];
  if (nonNegative) y0 = Math.max(0, y0);
  const yt = niceTicks(y0, y1, 5);
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  const sx = (x: number) => f.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => f.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const xt = niceTicks(x0, x1, 6);
  const integerX = xs.every(Number.isInteger);
  // Iterations are integers: label only integer ticks, without decimals.
  const xTicks = xt.ticks
    .filter((x) => !integerX || Number.isInteger(x))
    .map((x) => ({ x: sx(x), text: integerX ? String(x) : formatTick(x, xt.step) }));
  const bands = o.series
    .map((s) => {
      if (!s.band || s.band.length === 0) return '';
      const upper = s.band.map((b) => `${sx(b[0]).toFixed(1)},${sy(b[2]).toFixed(1)}`);
      const lower = [...s.band].reverse().map((b) => `${sx(b[0]).toFixed(1)},${sy(b[1]).toFixed(1)}`);
      return `<polygon points="${[...upper, ...lower].join(' ')}" fill="${s.color}" fill-opacity="0.16" stroke="none"/>`;
    })
    .join('');
  const lines = o.series
    .map((s) => {
      const pts = s.points.filter((p) => Number.isFinite(p[1]));
      if (pts.length === 0) return '';
      const d = pts.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
      const markers = pts
        .map(
          (p) =>
            `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.6" fill="${s.color}"><title>${escapeHtml(
              `${s.label}: ${o.xLabel} ${p[0]}, ${formatValue(p[1], o.percent)}`,
            )}</title></circle>`,
        )
        .join('');
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>${markers}`;
    })
    .join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" font-family="sans-serif" font-size="11">${axes(
    f,
    o.title,
    o.xLabel,
    o.yLabel,
    yt.ticks,
    sy,
    (y) => formatTick(y, yt.step, o.percent),
    xTicks,
  )}${bands}${lines}${legend(
    f,
    o.series.map((s) => ({ label: s.label, color: s.color })),
  )}</svg></figure>`;
}

export interface BarGroup {
  /** Label under the group (`train pass@1`). */
  label: string;
  /** One entry per category (variant): the per-seed values; the bar is their mean. */
  values: number[][];
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** Category names and colors, in the order of each group's `values`. */
  categories: Array<{ label: string; color: string }>;
  groups: BarGroup[];
  percent?: boolean;
}

/** Grouped bars (mean) with every individual value drawn as a point on its bar. */
export function barChart(o: BarChartOptions): string {
  const f = frameFor(
    o.categories.length,
    Math.max(FRAME.width, 120 + o.groups.length * o.categories.length * 46),
  );
  const all = o.groups.flatMap((g) => g.values.flat()).filter(Number.isFinite);
  if (all.length === 0) return '';
  const top = Math.max(...all, 0);
  const bottom = Math.min(...all, 0);
  const step = niceTicks(bottom, top > bottom ? top : bottom + (o.percent ? 0.1 : 1), 5).step;
  // Round ticks around the data, plus room above the highest bar for its value label.
  const y0 = Math.floor(bottom / step + 1e-9) * step;
  const y1 = Math.ceil((top + step * 0.3) / step - 1e-9) * step;
  const yt = niceTicks(y0, y1, 5);
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  const sy = (y: number) => f.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  const groupW = plotW / o.groups.length;
  const barW = Math.min(40, (groupW * 0.8) / o.categories.length);
  const bars: string[] = [];
  const xTicks: Array<{ x: number; text: string }> = [];
  o.groups.forEach((g, gi) => {
    const start = f.left + gi * groupW + (groupW - barW * o.categories.length) / 2;
    xTicks.push({ x: f.left + gi * groupW + groupW / 2, text: g.label });
    g.values.forEach((values, ci) => {
      const finite = values.filter(Number.isFinite);
      if (finite.length === 0) return;
      const cat = o.categories[ci]!;
      const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
      const x = start + ci * barW;
      const yTop = Math.min(sy(mean), sy(0));
      const h = Math.max(1, Math.abs(sy(mean) - sy(0)));
      bars.push(
        `<rect x="${(x + 2).toFixed(1)}" y="${yTop.toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${cat.color}" fill-opacity="0.55"><title>${escapeHtml(
          `${cat.label}, ${g.label}: mean ${formatValue(mean, o.percent)} over ${finite.length}`,
        )}</title></rect>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(yTop - 4).toFixed(1)}" text-anchor="middle" font-size="10">${escapeHtml(formatValue(mean, o.percent))}</text>`,
      );
      finite.forEach((v, i) => {
        // Spread the seeds across the bar so equal values stay visible as separate points.
        const offset = finite.length === 1 ? 0.5 : 0.2 + (0.6 * i) / (finite.length - 1);
        bars.push(
          `<circle cx="${(x + offset * barW).toFixed(1)}" cy="${sy(v).toFixed(1)}" r="3" fill="#fff" stroke="${cat.color}" stroke-width="1.6"><title>${escapeHtml(
            `${cat.label}, ${g.label}: ${formatValue(v, o.percent)}`,
          )}</title></circle>`,
        );
      });
    });
  });
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" font-family="sans-serif" font-size="11">${axes(
    f,
    o.title,
    '',
    o.yLabel,
    yt.ticks,
    sy,
    (y) => formatTick(y, yt.step, o.percent),
    xTicks,
  )}${bars.join('')}${legend(f, o.categories)}</svg></figure>`;
}

/** The run's configuration, readable on the page (and copyable). */
export function configBlock(config: unknown): string {
  return `<details open><summary>Configuration</summary><pre>${escapeHtml(JSON.stringify(config, null, 2))}</pre></details>`;
}

/** A complete HTML page around report sections. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:8px;vertical-align:top}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:10px;font-size:12px;max-width:1000px;overflow:auto}
.note{color:#555;max-width:1000px}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;
}
