import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { StepcoderError } from '@stepcoder/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonlLoader } from '../src/index.js';
import { firstInvalidUtf8 } from '../src/io/utf8.js';

const problem = (id: string, prompt: string) => ({
  id,
  prompt,
  language: 'python',
  canonicalSolutions: ['print(1)'],
  tests: { kind: 'stdio', cases: [{ input: '', output: '1' }] },
});

/** A row's JSON bytes with `bad` spliced into its prompt string (bytes no encoder would write). */
function rowWithBytes(id: string, bad: number[]): Buffer {
  const [before, after] = JSON.stringify(problem(id, 'MARK')).split('MARK') as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stepcoder-utf8-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// 0xff never occurs in UTF-8; c0 80 is an overlong NUL; ed a0 80 is a UTF-16 surrogate.
const BAD: Array<[string, number[]]> = [
  ['ff', [0x61, 0xff, 0x62]],
  ['overlong', [0xc0, 0x80]],
  ['surrogate', [0xed, 0xa0, 0x80]],
  ['truncated', [0xe2, 0x82]],
];

describe('rows that are not UTF-8', () => {
  it('finds the first invalid byte, and accepts every valid sequence (U+FFFD included)', () => {
    for (const [, bytes] of BAD) expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBeGreaterThanOrEqual(0);
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xff, 0x62]))).toBe(1);
    const valid = Buffer.from('a\u00e9\u20ac\ud83d\ude00\ufffd\u{10ffff}', 'utf8');
    expect(firstInvalidUtf8(valid)).toBe(-1);
  });

  for (const gz of [false, true]) {
    for (const shape of ['jsonl', 'json'] as const) {
      it(`are row issues, not U+FFFD, in a ${shape}${gz ? '.gz' : ''} file (skip and fatal)`, async () => {
        const rows = [
          Buffer.from(JSON.stringify(problem('ok-1', 'replacement char \ufffd is data'))),
          ...BAD.map(([name, bytes]) => rowWithBytes(name, bytes)),
          Buffer.from(JSON.stringify(problem('ok-2', 'caf\u00e9'))),
        ];
        const text =
          shape === 'jsonl'
            ? Buffer.concat(rows.flatMap((r) => [r, Buffer.from('\r\n')]))
            : Buffer.concat([
                Buffer.from('['),
                ...rows.flatMap((r, i) => (i ? [Buffer.from(',\n'), r] : [r])),
                Buffer.from(']'),
              ]);
        const file = join(dir, `rows-${shape}${gz ? '-gz' : ''}.${shape}${gz ? '.gz' : ''}`);
        await writeFile(file, gz ? gzipSync(text) : text);

        const stream = createJsonlLoader({ dataset: 'own' }).load(file);
        const loaded = await stream.toArray();
        expect(loaded.map((p) => [p.id, p.prompt])).toEqual([
          ['ok-1', 'replacement char \ufffd is data'],
          ['ok-2', 'caf\u00e9'],
        ]);
        const issues = stream.summary().issues;
        expect(issues.map((i) => i.row)).toEqual([2, 3, 4, 5]);
        for (const issue of issues) expect(issue.message).toMatch(/^invalid UTF-8 at byte \d+ of the row/);
        expect(issues[0]!.message).toMatch(/\(bytes ff 62/);

        const fatal = await createJsonlLoader({ dataset: 'own', mode: 'fatal' })
          .load(file)
          .toArray()
          .catch((e: unknown) => e);
        expect(StepcoderError.is(fatal, 'DATASET_ROW')).toBe(true);
        expect((fatal as StepcoderError).details).toMatchObject({ file, row: 2 });
      });
    }
  }
});
