import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, runPipeline } from '@stepcoder/cli';
import { describe, expect, it } from 'vitest';

const configPath = fileURLToPath(new URL('../config.yaml', import.meta.url));

describe('synthetic-python example (the learning demo)', () => {
  it('runs SFT, pass@1/pass@8 evaluation, GRPO and evaluation again on the synthetic suite, reduced', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'synthetic-python-'));
    const config = loadConfig(configPath, [
      `outDir=${outDir}`,
      'data.trainLimit=16',
      'data.heldoutLimit=4',
      'data.testLimit=4',
      'sft.epochs=1',
      'train.steps=4',
      'train.batchSize=2',
      'train.generation.maxNewTokens=24',
      'eval.n=8',
      'eval.trainSample=2',
      'eval.maxNewTokens=24',
    ]);
    expect(config.data.dataset).toBe('synthetic');
    expect(config.advantage).toEqual({ name: 'grpo', options: { scaleByStd: false } });
    expect(config.eval.on).toBe('all');
    const chunks: string[] = [];
    const summary = await runPipeline(config, {
      quiet: true,
      out: { write: (s: string) => chunks.push(s) } as never,
    });
    expect(summary.iterations).toHaveLength(4);
    // held-out problems are unseen combinations, never training ones
    expect(summary.before.heldout?.problems).toBe(4);
    expect(summary.before.train?.problems).toBe(2);
    // in-distribution test problems: new instances of trained combinations
    expect(summary.before.test?.problems).toBe(4);
    expect(summary.delta.test?.map((d) => d.k)).toEqual([1, 8]);
    expect(summary.rollouts?.first.rollouts).toBeGreaterThan(0);
    for (const report of [summary.before.heldout!, summary.after.heldout!]) {
      expect(Object.keys(report.passAtK).sort()).toEqual(['pass@1', 'pass@8']);
      expect(report.passAtK['pass@8']).toBeGreaterThanOrEqual(report.passAtK['pass@1']!);
    }
    const written = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8'));
    expect(written.after.heldout.passAtK['pass@1']).toBe(summary.after.heldout!.passAtK['pass@1']);
    expect(chunks.join('')).toMatch(/pass rate after PPO: {2}train pass@1 \d+\.\d%, pass@8 \d+\.\d%/);
    expect(chunks.join('')).toMatch(
      /change on heldout \(paired by problem\): pass@1 [+-]\d+\.\d points \[95% CI/,
    );
    expect(written.delta.heldout.map((d: { k: number }) => d.k)).toEqual([1, 8]);
  });
});
