import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { registry, testCount } from '@stepcoder/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMbppLoader, datasetStats, loadMini, miniDatasetPath } from '../src/index.js';
import { fixture } from './helpers.js';

const ids = async (stream: AsyncIterable<{ id: string }>) => {
  const out: string[] = [];
  for await (const p of stream) out.push(p.id);
  return out;
};

describe('shuffle, split, filters, caps, limit', () => {
  it('shuffles deterministically by seed (full buffer and windowed)', async () => {
    const plain = await ids(loadMini('python'));
    const a = await ids(loadMini('python', { shuffle: { seed: 7 } }));
    const b = await ids(loadMini('python', { shuffle: { seed: 7 } }));
    const c = await ids(loadMini('python', { shuffle: { seed: 8 } }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(plain);
    expect(a).not.toEqual(c);
    expect([...a].sort()).toEqual([...plain].sort());
    const w1 = await ids(loadMini('python', { shuffle: { seed: 7, buffer: 5 } }));
    const w2 = await ids(loadMini('python', { shuffle: { seed: 7, buffer: 5 } }));
    expect(w1).toEqual(w2);
    expect([...w1].sort()).toEqual([...plain].sort());
    expect(w1).not.toEqual(plain);
  });

  it('splits train/test by seed: disjoint, complete, stable across shuffles', async () => {
    const split = (part: 'train' | 'test', shuffleSeed?: number) =>
      ids(
        loadMini('javascript', {
          split: { seed: 1, testFraction: 0.25, part },
          ...(shuffleSeed === undefined ? {} : { shuffle: { seed: shuffleSeed } }),
        }),
      );
    const train = await split('train');
    const test = await split('test');
    const all = await ids(loadMini('javascript'));
    expect(train.filter((id) => test.includes(id))).toEqual([]);
    expect([...train, ...test].sort()).toEqual([...all].sort());
    expect(test.length).toBeGreaterThan(2);
    expect(test.length).toBeLessThan(all.length / 2);
    expect([...(await split('test', 99))].sort()).toEqual([...test].sort());
    const stream = loadMini('javascript', { split: { seed: 1, testFraction: 0.25, part: 'test' } });
    await stream.toArray();
    expect(stream.summary().filtered).toBe(train.length);
  });

  it('filters by test form, test count, language and difficulty; counts what it filters', async () => {
    const stream = loadMini('python', { filter: { testKinds: ['call'], minTests: 4 } });
    const problems = await stream.toArray();
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p.tests.kind).toBe('call');
      expect(testCount(p.tests)).toBeGreaterThanOrEqual(4);
    }
    const s = stream.summary();
    expect(s.loaded + s.filtered).toBe(41);
    expect(await ids(loadMini('python', { filter: { languages: ['javascript'] } }))).toEqual([]);
    expect(await ids(loadMini('python', { filter: { difficulties: ['competition'] } }))).toEqual([]);
    expect((await ids(loadMini('python', { filter: { difficulties: ['introductory'] } }))).length).toBe(41);
  });

  it('caps tests per problem (first N, or a seeded sample in order)', async () => {
    const first = await loadMini('python', { maxTestsPerProblem: 2 }).toArray();
    expect(datasetStats(first).testsPerProblem.max).toBe(2);
    const full = await loadMini('python').toArray();
    const grade = (list: typeof full) => list.find((p) => p.id === 'py-grade')!.tests;
    const g = grade(first);
    expect(g.kind === 'stdio' && g.cases.map((c) => c.input)).toEqual(['95\n', '85\n']);
    const s1 = grade(await loadMini('python', { maxTestsPerProblem: 2, testSampleSeed: 3 }).toArray());
    const s2 = grade(await loadMini('python', { maxTestsPerProblem: 2, testSampleSeed: 3 }).toArray());
    expect(s1).toEqual(s2);
    expect(testCount(s1)).toBe(2);
    expect(testCount(grade(full))).toBe(4);
  });

  it('limits (a shuffled limit is a seeded random subset)', async () => {
    expect(await ids(loadMini('python', { limit: 3 }))).toEqual([
      'py-sum-two',
      'py-reverse-number',
      'py-fizzbuzz',
    ]);
    const a = await ids(loadMini('python', { limit: 5, shuffle: { seed: 2 } }));
    expect(a).toHaveLength(5);
    expect(a).toEqual(await ids(loadMini('python', { limit: 5, shuffle: { seed: 2 } })));
  });
});

describe('gzip and large rows', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepcoder-datasets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads .jsonl.gz by extension with the same rows and issues as plain', async () => {
    const src = fixture('mbpp', 'mbpp.jsonl');
    const gz = join(dir, 'mbpp.jsonl.gz');
    await writeFile(gz, gzipSync(await readFile(src)));
    const plain = createMbppLoader().load(src);
    const zipped = createMbppLoader().load(gz);
    expect(await zipped.toArray()).toEqual(
      (await plain.toArray()).map((p) => ({ ...p, source: { ...p.source, file: gz } })),
    );
    expect(zipped.summary().issues.map((i) => [i.row, i.field])).toEqual(
      plain.summary().issues.map((i) => [i.row, i.field]),
    );
  });

  it('reads a gzipped JSON array (apps-plus) streaming', async () => {
    const src = fixture('apps-plus-sample', 'valid.json');
    const gz = join(dir, 'valid.json.gz');
    await writeFile(gz, gzipSync(await readFile(src)));
    const loader = await registry.create('dataset', 'apps-plus', {});
    expect(await ids(loader.load(gz))).toHaveLength(16);
  });
});

describe('registry', () => {
  it('registers every loader as kind dataset, with option validation', async () => {
    for (const name of [
      'apps-plus',
      'apps',
      'mbpp',
      'humaneval',
      'humaneval-x-js',
      'multipl-e-js',
      'jsonl',
    ]) {
      expect(registry.has('dataset', name)).toBe(true);
    }
    const loader = await registry.create('dataset', 'jsonl', { limit: 2 });
    expect(loader.specificationVersion).toBe('v1');
    expect(await ids(loader.load(miniDatasetPath('javascript')))).toEqual(['js-sum-two', 'js-reverse-text']);
    await expect(registry.create('dataset', 'mbpp', { limit: -1 })).rejects.toThrow(/limit/);
  });
});

describe('format detection', () => {
  it('reads JSON Lines saved with a .json extension', async () => {
    const { mkdtemp, copyFile, rm } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'stepcoder-detect-'));
    try {
      const file = join(dir, 'mbpp.json');
      await copyFile(fixture('mbpp', 'mbpp.jsonl'), file);
      const stream = createMbppLoader().load(file);
      expect(await ids(stream)).toEqual(['mbpp/901', 'mbpp/902']);
      expect(stream.summary().skipped).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
