import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findChromium, screenshot } from '../scripts/screenshot-reports.js';
import { type AblationChartData, renderAblationChart } from '../src/ablate-chart.js';
import { renderPlotHtml } from '../src/plot.js';
import { formatTick, niceTicks } from '../src/svg-chart.js';

const curve = (rewards: number[]) =>
  rewards.map((reward, iteration) => ({ iteration, reward, passRate: (reward + 1) / 4 }));

const ABLATION: AblationChartData = {
  title: 'ablation <test>',
  config: { seed: 1, train: { steps: 3 }, mask: 'line' },
  variants: [
    {
      name: 'SFT only',
      seeds: [1, 2, 3].map((seed) => ({ seed, curve: [], final: { trainPass1: 0.1, heldOutPass1: 0 } })),
    },
    {
      name: 'plain PPO',
      seeds: [
        { seed: 1, curve: curve([-1, -0.8, -0.6]), final: { trainPass1: 0.1, heldOutPass1: 0 } },
        { seed: 2, curve: curve([-1, -0.6, -0.2]), final: { trainPass1: 0.2, heldOutPass1: 0.05 } },
        { seed: 3, curve: curve([-0.9, -0.7, -0.4]), final: { trainPass1: 0.3, heldOutPass1: 0.1 } },
      ],
    },
  ],
};

/** A report must render from a file on any machine: nothing fetched, nothing executed. */
function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/<script|\bsrc=|\bhref=|url\(|@import/i);
  expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:/);
}

describe('round axis ticks', () => {
  it('covers the range with 1/2/2.5/5 steps and labels them with the decimals they need', () => {
    expect(niceTicks(0, 1, 5)).toEqual({ ticks: [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1], step: 0.2 });
    expect(niceTicks(-0.93, -0.41, 5)).toEqual({ ticks: [-0.8, -0.6000000000000001], step: 0.2 });
    expect(niceTicks(0, 15, 6).ticks).toEqual([0, 2.5, 5, 7.5, 10, 12.5, 15]);
    expect(formatTick(0.6000000000000001, 0.2)).toBe('0.6');
    expect(formatTick(0.25, 0.25)).toBe('0.25');
    expect(formatTick(0.125, 0.025, true)).toBe('12.5%');
    expect(formatTick(-1e-17, 0.1)).toBe('0.0');
  });
});

describe('ablation.html (renderAblationChart)', () => {
  const html = renderAblationChart(ABLATION);

  it('draws mean curves with a min–max band per trained variant, and a marker per point', () => {
    expectSelfContained(html);
    expect(html.match(/<svg/g)).toHaveLength(3); // final pass@1, reward curve, pass-rate curve
    expect(html.match(/<polygon/g)).toHaveLength(2); // one band per curve chart (SFT has no curve)
    // Mean reward of plain PPO at iteration 1 is (-0.8 - 0.6 - 0.7) / 3 = -0.7.
    expect(html).toContain('plain PPO: PPO iteration 1, -0.7');
    expect(html).toContain('PPO iteration');
    expect(html).toContain('mean rollout reward');
  });

  it('shows each seed as a point on its bar, and mean ± std in the table', () => {
    // 2 variants × 3 seeds × 2 sets, plus 3 + 3 curve markers per chart.
    expect(html.match(/<circle[^>]*fill="#fff"/g)).toHaveLength(12);
    // plain PPO train pass@1 over seeds 0.1, 0.2, 0.3: mean 20%, sample std 10%.
    expect(html).toContain('<td>20.0% ± 10.0%</td>');
    expect(html).toContain('plain PPO, train problems: 30.0%');
  });

  it('puts the config on the page, escaped', () => {
    expect(html).toContain('<title>ablation &lt;test&gt;</title>');
    expect(html).toContain('&quot;mask&quot;: &quot;line&quot;');
  });
});

describe('plot.html (renderPlotHtml)', () => {
  it('labels axes, marks points, compares pass@k before and after, shows the config', () => {
    const rows = [0, 1, 2].map((step) => ({ step, reward_mean: -1 + step / 4, pass_rate: step / 10 }));
    const html = renderPlotHtml('run', [{ label: 'train', rows }], ['reward_mean', 'pass_rate'], {
      config: { outDir: 'runs/x', train: { steps: 3 } },
      passAtK: {
        before: { train: { passAtK: { 'pass@1': 0.125 } }, heldout: { passAtK: { 'pass@1': 0 } } },
        after: { train: { passAtK: { 'pass@1': 0.25 } }, heldout: { passAtK: { 'pass@1': 0.05 } } },
      },
    });
    expectSelfContained(html);
    expect(html).toContain('mean rollout reward');
    expect(html).toContain('rollout pass rate');
    expect(html.match(/<circle/g)?.length).toBeGreaterThanOrEqual(6 + 4);
    expect(html).toContain('before PPO, train pass@1: 12.5%');
    expect(html).toContain('after PPO, held-out pass@1: 5.0%');
    expect(html).toContain('&quot;outDir&quot;: &quot;runs/x&quot;');
    // The pass-rate axis is in percent with round ticks.
    expect(html).toMatch(/>20%<\/text>/);
  });
});

const chromium = findChromium();

describe.skipIf(!chromium)('rendered by headless Chromium (skipped where none is installed)', () => {
  it('screenshots both reports at the requested size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcoder-report-'));
    try {
      for (const [name, html] of [
        ['ablation', renderAblationChart(ABLATION)],
        [
          'plot',
          renderPlotHtml(
            'run',
            [
              {
                label: 'train',
                rows: [
                  { step: 0, reward_mean: -1 },
                  { step: 1, reward_mean: -0.5 },
                ],
              },
            ],
            ['reward_mean'],
          ),
        ],
      ] as const) {
        writeFileSync(join(dir, `${name}.html`), html);
        const bytes = screenshot(chromium!, join(dir, `${name}.html`), join(dir, `${name}.png`), '900,700');
        const png = readFileSync(join(dir, `${name}.png`));
        expect(png.subarray(1, 4).toString()).toBe('PNG');
        expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([900, 700]);
        expect(bytes).toBeGreaterThan(10_000); // a blank page compresses to a few KB
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('axes of flat and tiny series (a real 4-iteration run: pass rate 0, policy loss ~1e-7)', () => {
  it('never shows a negative axis for a non-negative series, and labels tiny ticks in exponent form', () => {
    const rows = [1, 2, 3, 4].map((step) => ({ step, pass_rate: 0, policy_loss: 0.5e-7 - step * 1e-7 }));
    const html = renderPlotHtml('flat', [{ label: 'train', rows }], ['pass_rate', 'policy_loss']);
    const [rate, loss] = html.split('<figure>').slice(1) as [string, string];
    expect(rate).toContain('>0%</text>');
    expect(rate).toContain('>100%</text>');
    expect(rate).not.toMatch(/>-\d/);
    expect(loss).toContain('>-4.0e-7</text>');
    expect(loss).toContain('>0</text>');
    expect(loss).not.toContain('0.000000');
  });
});
