import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createRunContext, trainStage } from '../src/run.js';

describe('train.generatorWorker', () => {
  it('trains with generation on a worker thread overlapping the update, and reports the wait', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'stepcoder-generator-'));
    const config = loadConfig(undefined, [
      `outDir=${outDir}`,
      'data.limit=3',
      'data.evalFraction=0',
      'sft.epochs=0',
      'train.steps=2',
      'train.batchSize=2',
      'train.overlap=true',
      'train.generatorWorker=true',
      'train.generation={"maxNewTokens":8}',
    ]);
    const ctx = await createRunContext(config, { quiet: true });
    try {
      const results = await trainStage(ctx, { quiet: true, out: { write() {} } as never });
      expect(results.map((r) => r.step)).toEqual([1, 2]);
      for (const r of results) expect(r.metrics.generate_wait_ms).toBeGreaterThanOrEqual(0);
      const rows = readFileSync(join(outDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
      expect(JSON.parse(rows[1]!).weight_sync_ms).toBeGreaterThanOrEqual(0);
    } finally {
      await ctx.dispose();
    }
  });

  it('is validated as a boolean', () => {
    expect(loadConfig(undefined, []).train.generatorWorker).toBe(false);
    const err = (() => {
      try {
        loadConfig(undefined, ['train.generatorWorker="yes"']);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['train.generatorWorker']);
  });
});
