import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ABLATION_VARIANTS, runAblation, SFT_ONLY, summarise } from '../src/ablate.js';
import { loadConfig } from '../src/config.js';

describe('runAblation', () => {
  it('runs the four variants from one shared SFT checkpoint and writes the table', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'stepcoder-ablate-'));
    const config = loadConfig(undefined, [
      `outDir=${outDir}`,
      'data.limit=3',
      'data.evalFraction=0',
      'sft.epochs=1',
      'train.steps=1',
      'train.batchSize=2',
      'train.generation={"maxNewTokens":8}',
      'eval.n=1',
      'eval.maxNewTokens=8',
      'eval.on=train',
      'curriculum={"name":"steps","options":{"stepsPerStage":2}}',
    ]);
    const written: string[] = [];
    const { cells, rows, markdown } = await runAblation(config, [7], {
      quiet: true,
      out: { write: (s: string) => written.push(s) } as never,
    });
    expect(rows.map((r) => r.variant)).toEqual([SFT_ONLY, ...ABLATION_VARIANTS.map((v) => v.name)]);
    expect(cells).toHaveLength(5);
    for (const c of cells) {
      expect(c.seed).toBe(7);
      expect(c.train).toBeGreaterThanOrEqual(0);
      expect(c.train).toBeLessThanOrEqual(1);
    }
    // Every variant starts from the same SFT weights, saved once per seed.
    expect(existsSync(join(outDir, 'seed-7', 'sft', 'model.safetensors'))).toBe(true);
    expect(existsSync(join(outDir, 'seed-7', 'plain-ppo', 'metrics.jsonl'))).toBe(true);
    expect(existsSync(join(outDir, 'seed-7', 'stepcoder-cccs-fgo', 'metrics.jsonl'))).toBe(true);
    const json = JSON.parse(readFileSync(join(outDir, 'ablation.json'), 'utf8'));
    expect(json.seeds).toEqual([7]);
    expect(readFileSync(join(outDir, 'ablation.md'), 'utf8').trim()).toBe(markdown);
    // caption, blank line, header, rule, 5 rows
    expect(markdown.split('\n')).toHaveLength(4 + 5);
    expect(written.join('')).toContain('ablate: seed 7, StepCoder (CCCS+FGO)');
    for (const c of cells.filter((c) => c.variant !== SFT_ONLY)) {
      expect(c.curve.map((p) => p.iteration)).toEqual([1]);
      expect(c.compileRate).toBeGreaterThanOrEqual(0);
      expect(c.compileRate).toBeLessThanOrEqual(1);
      expect(c.maskedFraction).toBeGreaterThanOrEqual(0);
    }
    expect(readFileSync(join(outDir, 'ablation.html'), 'utf8')).toContain('<svg');
    // Aggregating the cells written to disk (e.g. by one process per variant) gives the same table.
    const again = await runAblation(
      config,
      [7],
      { quiet: true, out: { write() {} } as never },
      { aggregateOnly: true },
    );
    expect(again.markdown).toBe(markdown);
    await expect(runAblation(config, [7], { quiet: true }, { variants: ['plain ppo'] })).rejects.toThrow(
      /unknown variant\(s\) 'plain ppo'; variants are 'plain PPO'/,
    );
  });

  it('summarises seeds with the sample std and a Student-t 95% interval', () => {
    const s = summarise([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.std).toBe(1);
    expect(s.ci95).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 10);
    expect(summarise([0.5]).ci95).toBeNaN();
    expect(summarise([Number.NaN, 1, 3]).n).toBe(2);
  });
});
