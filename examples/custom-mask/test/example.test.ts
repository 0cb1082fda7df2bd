import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, runPipeline } from '@stepcoder/cli';
import { registry } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

describe('custom mask plugin', () => {
  it('is created by name and zeroes comment tokens only', async () => {
    const mask = await registry.create('mask', 'no-comments', { commentWeight: 0.25 });
    const given = 'def f(x):\n';
    const completion = '    # add one\n    return x + 1  # "#" inside a string is code\n';
    const tokens = [...completion.matchAll(/\s+|\w+|[^\w\s]/g)].map(
      (m) => [m.index!, m.index! + m[0].length] as const,
    );
    const weights = mask.weights({
      program: given + completion,
      completionStart: given.length,
      tokenSpans: tokens,
      language: 'python',
      outcome: 'pass',
    });
    const text = (t: number) => completion.slice(tokens[t]![0], tokens[t]![1]);
    const weightOf = (s: string) => weights[tokens.findIndex((_, t) => text(t) === s)];
    expect(weightOf('add')).toBe(0.25);
    expect(weightOf('return')).toBe(1);
    expect(weightOf('inside')).toBe(0.25);
    expect(weights.length).toBe(tokens.length);
  });

  it('plugs into the trainer by name from config', async () => {
    const configPath = fileURLToPath(new URL('../../tiny-python/config.yaml', import.meta.url));
    const config = loadConfig(configPath, [
      'mask=no-comments',
      `outDir=${mkdtempSync(join(tmpdir(), 'custom-mask-'))}`,
      'data.limit=4',
      'sft.epochs=0',
      'train.steps=1',
      'train.batchSize=2',
      'train.generation.maxNewTokens=16',
      'eval.on=train',
      'eval.maxNewTokens=8',
      'eval.n=1',
    ]);
    const summary = await runPipeline(config, { quiet: true, out: { write: () => true } as never });
    expect(summary.iterations).toHaveLength(1);
    expect(summary.iterations[0]!.metrics.masked_fraction).toBeGreaterThanOrEqual(0);
  });
});
