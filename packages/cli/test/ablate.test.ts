import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ABLATION_VARIANTS, runAblation, SFT_ONLY } from '../src/ablate.js';
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
    expect(markdown.split('\n')).toHaveLength(2 + 5);
    expect(written.join('')).toContain('ablate: seed 7, StepCoder (CCCS+FGO)');
  });
});
