import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, runPipeline } from '@stepcoder/cli';
import { describe, expect, it } from 'vitest';

const configPath = fileURLToPath(new URL('../config.yaml', import.meta.url));

describe('tiny-python example', () => {
  it('runs SFT, evaluation, PPO with CCCS + FGO and evaluation again at a reduced step count', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'tiny-python-'));
    const config = loadConfig(configPath, [
      `outDir=${outDir}`,
      'data.limit=6',
      'sft.epochs=1',
      'train.steps=2',
      'train.batchSize=4',
      'train.generation.maxNewTokens=24',
      'eval.n=1',
      'eval.maxNewTokens=24',
    ]);
    expect(config.curriculum).toEqual({ name: 'steps', options: { stepsPerStage: 4 } });
    expect(config.mask).toBe('line');
    const chunks: string[] = [];
    const summary = await runPipeline(config, {
      quiet: true,
      out: { write: (s: string) => chunks.push(s) } as never,
    });
    expect(summary.iterations).toHaveLength(2);
    expect(summary.iterations[1]!.step).toBe(2);
    for (const it of summary.iterations) {
      expect(Number.isFinite(it.metrics.reward_mean)).toBe(true);
      expect(it.metrics.reward_mean).toBeGreaterThanOrEqual(-1);
      expect(it.metrics.reward_mean).toBeLessThanOrEqual(1);
    }
    expect(summary.before.train?.problems).toBe(summary.after.train?.problems);
    const text = chunks.join('');
    expect(text).toMatch(/pass rate before PPO: train pass@1 \d+\.\d%/);
    expect(text).toMatch(/pass rate after PPO: {2}train pass@1 \d+\.\d%/);
  });
});
