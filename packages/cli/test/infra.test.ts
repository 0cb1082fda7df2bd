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
    expect(out).toEqual({
      ppo: { lr: 1e-4, steps: 10 },
      mask: { name: 'line' },
      eval: { k: [1, 5] },
      seed: 7,
    });
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
    const html = renderPlotHtml(
      'run <1>',
      [
        { label: 'a', rows },
        { label: 'b', rows: [{ step: 0, reward: 1 }] },
      ],
      ['reward', 'kl', 'missing'],
    );
    expect(html).toContain('<title>run &lt;1&gt;</title>');
    expect(html.match(/<svg/g)).toHaveLength(2); // 'missing' has no data and gets no chart
    expect(html.match(/<path d="M/g)).toHaveLength(3); // reward: a and b; kl: a
    expect(html).not.toContain('<script');
  });
});

describe('loadConfig', () => {
  it('fills defaults and names every invalid path', async () => {
    const { loadConfig } = await import('../src/config.js');
    const config = loadConfig(undefined, ['train.steps=3']);
    expect(config.train.steps).toBe(3);
    expect(config.mask).toBe('line');
    expect(config.curriculum).toBe('steps');
    try {
      loadConfig(undefined, ['sft.lr=-1', 'mask=7', 'data.language=cobol']);
      expect.unreachable();
    } catch (err) {
      const e = err as { code: string; issues: Array<{ path: string; message: string }> };
      expect(e.code).toBe('INVALID_CONFIG');
      expect(e.issues.map((i) => i.path).sort()).toEqual(['data.language', 'mask', 'sft.lr']);
      expect(e.issues.find((i) => i.path === 'mask')!.message).toMatch(/plugin name/);
    }
  });

  it('reads YAML and JSON files and reports unreadable ones', async () => {
    const { loadConfig } = await import('../src/config.js');
    const { writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'stepcoder-cfg-'));
    writeFileSync(join(dir, 'a.yaml'), 'seed: 5\nmask: { name: soft, options: { floor: 0.2 } }\n');
    writeFileSync(join(dir, 'b.json'), '{"seed": 6}');
    writeFileSync(join(dir, 'c.yaml'), 'seed: [unclosed\n');
    expect(loadConfig(join(dir, 'a.yaml')).mask).toEqual({ name: 'soft', options: { floor: 0.2 } });
    expect(loadConfig(join(dir, 'b.json')).seed).toBe(6);
    expect(() => loadConfig(join(dir, 'c.yaml'))).toThrow(/does not parse/);
    expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrow(/Cannot read config file/);
  });
});
