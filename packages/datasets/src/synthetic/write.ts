import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { validate } from '@stepcoder/core';
import { z } from 'zod';
import { syntheticSuiteOptionsSchema } from './generate.js';
import { SYNTHETIC_PARTS, syntheticProblems } from './loader.js';

export const writeSyntheticOptionsSchema = syntheticSuiteOptionsSchema.extend({
  part: z.enum(SYNTHETIC_PARTS).default('all'),
});
export type WriteSyntheticOptions = z.input<typeof writeSyntheticOptionsSchema>;

export interface WriteSyntheticResult {
  path: string;
  problems: number;
  train: number;
  test: number;
  heldout: number;
  bytes: number;
}

/**
 * Write the suite as JSON Lines, one `Problem` per line (train, test, then held-out), readable by
 * the `jsonl` loader. `meta.split` marks each problem's part.
 */
export function writeSyntheticJsonl(path: string, options: WriteSyntheticOptions): WriteSyntheticResult {
  const opts = validate(writeSyntheticOptionsSchema, options, 'options of writeSyntheticJsonl');
  const problems = syntheticProblems(opts);
  const text = problems.map((p) => `${JSON.stringify(p)}\n`).join('');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  const count = (split: string) => problems.filter((p) => p.meta?.split === split).length;
  return {
    path,
    problems: problems.length,
    train: count('train'),
    test: count('test'),
    heldout: count('heldout'),
    bytes: Buffer.byteLength(text),
  };
}
