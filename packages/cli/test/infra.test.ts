import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StepcoderError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { MetricsLog } from '../src/metrics-log.js';
import { applyOverrides } from '../src/overrides.js';
import { renderPlotHtml } from '../src/plot.js';

describe('applyOverrides', () => {
  it('sets nested values, parsing JSON where it parses', () => {
    const base = { ppo: { lr: 1e-3, steps: 10 }, mask: { name: 'none' } };
    const out = applyOverrides(base, ['ppo.lr=1e-4', 'mask.name=line', 'eval.k=[1,5]', 'seed=7']);
    expect(out).toEqual({ ppo: { lr: 1e-4, steps: 10 }, mask: { name: 'line' }, eval: { k: [1, 5] }, seed: 7 });
    expect(base.ppo.lr).toBe(1e-3);
  });
  it('rejects malformed overrides and paths through non-objects', () => {
    expect(() => applyOverrides({}, ['novalue'])).toThrow(StepcoderError);
    expect(() => applyOverrides({ seed: 1 }, ['seed.x=2'])).toThrow(/'seed' is not an object/);
  });
});

describe('metrics log and plot', () => {
  it('writes JSONL rows that read back, and renders an SVG line per series', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcoder-cli-'));
    const log = new MetricsLog(join(dir, 'sub', 'metrics.jsonl'));
    log.write({ step: 0, reward: -0.6 });
    log.write({ step: 1, reward: 0.2, kl: 0.01 });
    const rows = MetricsLog.read(log.path);
    expect(rows).toEqual([
      { step: 0, reward: -0.6 },
      { step: 1, reward: 0.2, kl: 0.01 },
    ]);
    expect(readFileSync(log.path, 'utf8').trim().split('\n')).toHaveLength(2);
    const html = renderPlotHtml('run <1>', [{ label: 'a', rows }, { label: 'b', rows: [{ step: 0, reward: 1 }] }], ['reward', 'kl', 'missing']);
    expect(html).toContain('<title>run &lt;1&gt;</title>');
    expect(html.match(/<svg/g)).toHaveLength(2); // 'missing' has no data and gets no chart
    expect(html.match(/<path d="M/g)).toHaveLength(3); // reward: a and b; kl: a
    expect(html).not.toContain('<script');
  });
});
