import { describe, expect, it } from 'vitest';
import { type ArrayElement, splitJsonArray } from '../src/base.js';

async function split(text: string, chunkSize: number): Promise<ArrayElement[]> {
  const buf = Buffer.from(text, 'utf8');
  async function* chunks() {
    for (let i = 0; i < buf.length; i += chunkSize) yield buf.subarray(i, i + chunkSize);
  }
  const out: ArrayElement[] = [];
  for await (const el of splitJsonArray(chunks(), 'mem.json')) out.push(el);
  return out;
}

describe('splitJsonArray', () => {
  const value = [
    { a: 'x, ]}', b: [1, { c: '\\"' }] },
    'plain "string" with \\ backslash',
    42,
    [],
    { emoji: 'é😀✓', nested: [[[]]] },
    null,
  ];
  const text = `\ufeff  ${JSON.stringify(value, null, 2)}  \n`;

  it('yields every element intact at any chunk size (escapes and UTF-8 split across chunks)', async () => {
    for (const size of [1, 2, 3, 7, 64, 1 << 20]) {
      const els = await split(text, size);
      expect(els.map((e) => e.row)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(els.map((e) => JSON.parse(e.text!))).toEqual(value);
    }
  });

  it('handles empty arrays', async () => {
    expect(await split('[]', 1)).toEqual([]);
    expect(await split(' [ \n ] ', 2)).toEqual([]);
  });

  it('delimits invalid elements so they can be reported, and keeps going', async () => {
    const els = await split('[{"a": 1}, {"a": tru}, {"a": 3}]', 4);
    expect(els.map((e) => e.text?.trim())).toEqual(['{"a": 1}', '{"a": tru}', '{"a": 3}']);
  });

  it('reports stray commas and truncated files', async () => {
    const stray = await split('[1,,2]', 3);
    expect(stray.map((e) => e.error ?? e.text)).toEqual(['1', 'empty array element (stray comma?)', '2']);
    const truncated = await split('[{"a": 1}, {"a": "unterminated', 5);
    expect(truncated[0]!.text).toBe('{"a": 1}');
    expect(truncated[1]).toMatchObject({ row: 2, error: expect.stringContaining('file ends inside') });
  });

  it('reports content after the closing bracket instead of ignoring it', async () => {
    for (const size of [1, 4, 100]) {
      const els = await split('[1, 2]  \n[3]', size);
      expect(els.map((e) => e.error ?? e.text)).toEqual([
        '1',
        '2',
        "unexpected content after the array's closing ']'",
      ]);
    }
    expect(await split('[1]\n\n', 2)).toEqual([{ row: 1, text: '1' }]);
  });

  it('fails clearly when the file is not an array', async () => {
    await expect(split('{"a": 1}', 8)).rejects.toMatchObject({ code: 'DATASET_IO' });
  });
});
