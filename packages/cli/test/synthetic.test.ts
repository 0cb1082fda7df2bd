import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonlLoader, generateSyntheticSuite } from '@stepcoder/datasets';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerSyntheticCommand } from '../src/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'stepcoder-synthetic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  registerSyntheticCommand(program);
  await program.parseAsync(['synthetic', ...args], { from: 'user' });
}

describe('stepcoder synthetic', () => {
  it('writes the chosen part of the suite as JSONL the jsonl loader reads back', async () => {
    const out = join(dir, 'held.jsonl');
    await cli([
      '--language',
      'javascript',
      '--out',
      out,
      '--seed',
      '3',
      '--count',
      '300',
      '--split',
      'heldout',
    ]);
    const back = await createJsonlLoader().load(out).toArray();
    const suite = generateSyntheticSuite({ language: 'javascript', seed: 3, count: 300 });
    expect(back).toEqual(suite.heldout);
    expect(back.length).toBeGreaterThan(0);
  });

  it('rejects an unknown --split and a non-integer --count, naming the flag', async () => {
    const out = join(dir, 'bad.jsonl');
    await expect(cli(['--out', out, '--split', 'validation'])).rejects.toThrow(
      /--split must be one of train, test, heldout, all/,
    );
    await expect(cli(['--out', out, '--count', 'many'])).rejects.toThrow(/--count must be an integer/);
  });
});
