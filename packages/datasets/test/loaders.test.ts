import { type Problem, parseProblem, StepcoderError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import {
  createAppsLoader,
  createAppsPlusLoader,
  createHumanEvalLoader,
  createHumanEvalXJsLoader,
  createJsonlLoader,
  createMbppLoader,
  createMultiPLEJsLoader,
  datasetStats,
  formatSummary,
  loadMini,
  miniDatasetPath,
} from '../src/base.js';
import { fixture } from './helpers.js';

function byId(problems: Problem[], id: string): Problem {
  const p = problems.find((x) => x.id === id);
  if (!p) throw new Error(`no problem ${id} in ${problems.map((x) => x.id).join(', ')}`);
  return p;
}

describe('humaneval', () => {
  it('loads the real HumanEval.jsonl.gz to 164 valid problems', async () => {
    const stream = createHumanEvalLoader().load(fixture('HumanEval.jsonl.gz'));
    const problems = await stream.toArray();
    expect(problems).toHaveLength(164);
    expect(stream.summary()).toMatchObject({ loaded: 164, skipped: 0, issues: [] });
    for (const p of problems) parseProblem(p);
    const first = problems[0]!;
    expect(first.id).toBe('HumanEval/0');
    expect(first.starterCode).toBe(first.prompt);
    expect(first.canonicalSolutions[0]!.startsWith(first.prompt)).toBe(true);
    expect(first.tests).toMatchObject({ kind: 'assert', entryPoint: 'has_close_elements' });
    if (first.tests.kind === 'assert') expect(first.tests.cases[0]).toMatch(/check\(has_close_elements\)\n$/);
  });
});

describe('apps-plus', () => {
  it('loads the real 32-problem APPS+ sample (stdin/stdout, zero-argument functions)', async () => {
    const loader = createAppsPlusLoader();
    const problems: Problem[] = [];
    for (const file of ['train.json', 'valid.json']) {
      const stream = loader.load(fixture('apps-plus-sample', file));
      problems.push(...(await stream.toArray()));
      expect(stream.summary()).toMatchObject({ loaded: 16, skipped: 0 });
    }
    expect(problems).toHaveLength(32);
    expect(new Set(problems.map((p) => p.id)).size).toBe(32);
    const p = byId(problems, 'train/0');
    expect(p.tests.kind).toBe('stdio');
    expect(p.harness?.epilogue).toBe('\nIgUhb()\n');
    expect(p.harness?.preamble).toContain('from collections import');
    expect(p.meta?.scope).toEqual([
      ['Function Body', 2, 13],
      ['List Comprehension', 5, 5],
      ['For Loop Body', 7, 11],
      ['For Loop Body', 9, 11],
      ['If Statement Body', 10, 11],
    ]);
    expect(datasetStats(problems).difficulties).toEqual({ competition: 32 });
  });

  it('maps call-based and LeetCode rows, decoding Python-literal arguments', async () => {
    const problems = await createAppsPlusLoader().load(fixture('apps-plus', 'good.json')).toArray();
    expect(problems.map((p) => p.tests.kind)).toEqual(['stdio', 'call', 'call', 'stdio']);
    expect(problems[1]!.tests).toEqual({
      kind: 'call',
      fnName: 'shout',
      inputs: [
        ['hey', 2],
        ['a', 3],
        ['x', 1],
      ],
      outputs: [['HEY!HEY'], ['A!A!A'], ['X']],
    });
    expect(problems[1]!.meta?.scope).toEqual([['Function Body', 1, 2]]);
    expect(problems[2]!.tests).toMatchObject({
      kind: 'call',
      className: 'Solution',
      fnName: 'pairSum',
      inputs: [
        [[2, 7, 11, 15], 9],
        [[3, 2, 4], 6],
        [[1, 1], 5],
      ],
      outputs: [[[0, 1]], [[1, 2]], [[]]],
    });
    expect(problems[2]!.harness?.epilogue).toBeUndefined();
    // APPS field names in an APPS+ file: JSON-string solutions and input_output.
    expect(problems[3]).toMatchObject({
      id: 'good/3',
      prompt: 'Given n, print the numbers 1..n on one line.',
      canonicalSolutions: ["n = int(input())\nprint(' '.join(str(i) for i in range(1, n + 1)))\n"],
      tests: {
        kind: 'stdio',
        cases: [{ input: '3\n', output: '1 2 3\n' }, expect.anything(), expect.anything()],
      },
    });
  });

  it('reports malformed rows with file, row and field, and skips them', async () => {
    const file = fixture('apps-plus', 'mixed.json');
    const stream = createAppsPlusLoader().load(file);
    const problems = await stream.toArray();
    expect(problems.map((p) => p.id)).toEqual(['mixed/0', 'mixed/1', 'mixed/2', 'mixed/3']);
    const s = stream.summary();
    expect(s).toMatchObject({ loaded: 4, skipped: 4, issueCount: 4, files: [file] });
    expect(s.issues).toEqual([
      { file, row: 5, field: undefined, message: expect.stringContaining('invalid JSON') },
      { file, row: 6, field: 'canonical_solution', message: 'missing required field' },
      { file, row: 7, field: 'outputs', message: 'has 2 entries but inputs has 3' },
      { file, row: 8, field: 'prompt', message: 'expected a string, found a number' },
    ]);
    expect(formatSummary(s)).toContain(`${file}:7 [outputs]: has 2 entries`);
  });

  it('fatal mode throws DATASET_ROW naming file, row and field', async () => {
    const file = fixture('apps-plus', 'mixed.json');
    const stream = createAppsPlusLoader({ mode: 'fatal' }).load(file);
    const err = await stream.toArray().catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'DATASET_ROW')).toBe(true);
    expect((err as StepcoderError).details).toMatchObject({ file, row: 5 });
    expect((err as Error).message).toContain(`${file}:5`);
    const stream2 = createAppsPlusLoader({ mode: 'fatal' }).load(fixture('apps-plus', 'good.json'));
    expect(await stream2.toArray()).toHaveLength(4);
  });

  it('fails with DATASET_IO for a missing file', async () => {
    const err = await createAppsPlusLoader()
      .load(fixture('apps-plus', 'nope.json'))
      .toArray()
      .catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'DATASET_IO')).toBe(true);
  });
});

describe('apps (folder layout)', () => {
  it('loads problem folders and reports broken ones by folder name', async () => {
    const root = fixture('apps', 'train');
    const stream = createAppsLoader().load(root);
    const problems = await stream.toArray();
    expect(problems.map((p) => p.id)).toEqual(['train/0000', 'train/0001']);
    expect(problems[0]).toMatchObject({
      canonicalSolutions: [expect.any(String), expect.any(String)],
      difficulty: 'introductory',
      tests: { kind: 'stdio' },
      meta: { url: 'https://example.invalid/0000' },
    });
    expect(problems[1]!.tests).toMatchObject({ kind: 'call', fnName: 'distinct', className: 'Solution' });
    const issues = stream.summary().issues;
    expect(issues.map((i) => [i.row, i.field])).toEqual([
      ['0002', 'input_output.json'],
      ['0003', 'solutions.json'],
      ['0004', 'inputs[1]'],
    ]);
    expect(issues[0]!.file).toMatch(/train[\\/]0002$/);
  });
});

describe('mbpp', () => {
  it('loads rows and reports bad JSON, missing and mistyped fields', async () => {
    const file = fixture('mbpp', 'mbpp.jsonl');
    const stream = createMbppLoader().load(file);
    const problems = await stream.toArray();
    expect(problems.map((p) => p.id)).toEqual(['mbpp/901', 'mbpp/902']);
    expect(problems[0]!.canonicalSolutions[0]).toBe('def last(items):\n  return items[-1]');
    expect(problems[0]!.prompt).toContain(
      'Your code should pass these tests:\n\nassert last([1, 2, 3]) == 3',
    );
    expect(problems[1]!.tests).toEqual({
      kind: 'assert',
      cases: [
        'assert occurrences([1, 2, 1], 1) == 2',
        'assert occurrences([], 3) == 0',
        'assert occurrences([4], 4) == 1',
      ],
      setup: 'import math',
      entryPoint: 'occurrences',
    });
    expect(stream.summary().issues.map((i) => [i.row, i.field ?? null])).toEqual([
      [3, null],
      [4, 'code'],
      [5, 'test_list'],
    ]);
    const withChallenge = await createMbppLoader({ includeChallengeTests: true }).load(file).toArray();
    expect(withChallenge[1]!.tests.kind === 'assert' && withChallenge[1]!.tests.cases).toHaveLength(4);
  });
});

describe('JavaScript benchmarks', () => {
  it('loads HumanEval-X js, making console.assert throw', async () => {
    const stream = createHumanEvalXJsLoader().load(fixture('js', 'humaneval_x_js.jsonl'));
    const problems = await stream.toArray();
    expect(problems.map((p) => [p.id, p.language])).toEqual([
      ['JavaScript/0', 'javascript'],
      ['JavaScript/1', 'javascript'],
    ]);
    const t = problems[0]!.tests;
    expect(t).toMatchObject({ kind: 'assert', entryPoint: 'sumEven' });
    if (t.kind === 'assert') {
      expect(t.cases[0]).not.toContain('console.assert');
      expect(t.cases[0]).toContain('__stepcoderAssert(sumEven([1, 2, 4]) === 6)');
    }
    expect(stream.summary().issues).toEqual([
      expect.objectContaining({ row: 3, field: 'canonical_solution', message: 'missing required field' }),
    ]);
  });

  it('loads MultiPL-E js, replacing require(node:assert)', async () => {
    const stream = createMultiPLEJsLoader().load(fixture('js', 'multipl_e_js.jsonl'));
    const problems = await stream.toArray();
    expect(problems.map((p) => p.id)).toEqual(['HumanEval_900_triple', 'HumanEval_901_pairs']);
    expect(problems[0]).toMatchObject({
      canonicalSolutions: [],
      tests: { kind: 'assert', entryPoint: 'triple' },
      meta: { stop_tokens: ['\nfunction ', '\n/*', '\n//', '\nconsole.log'] },
    });
    const t = problems[0]!.tests;
    if (t.kind === 'assert') {
      expect(t.cases[0]).not.toContain('require(');
      expect(t.cases[0]).toContain('__stepcoderNodeAssert.deepEqual(candidate(2),6);');
      expect(t.cases[0]).not.toMatch(/(?<![\w$.])assert[.(]/);
    }
    expect(stream.summary().issues.map((i) => [i.row, i.field])).toEqual([
      [3, 'language'],
      [4, 'prompt'],
    ]);
  });

  it('the inlined assert throws on mismatch and passes on a match (run in node)', async () => {
    const problems = await createMultiPLEJsLoader().load(fixture('js', 'multipl_e_js.jsonl')).toArray();
    const t = problems[1]!.tests;
    if (t.kind !== 'assert') throw new Error('expected assert tests');
    const good = new Function(`${problems[1]!.prompt}  return xs.map((x) => [x, x]);\n}\n${t.cases[0]}`);
    expect(() => good()).not.toThrow();
    const bad = new Function(`${problems[1]!.prompt}  return xs;\n}\n${t.cases[0]}`);
    expect(() => bad()).toThrow();
  });
});

describe('jsonl (generic)', () => {
  it('maps fields from dotted paths', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'stepcoder-jsonl-'));
    try {
      const file = join(dir, 'custom.jsonl');
      const rows = [
        {
          uid: 'a',
          q: 'double x',
          sol: 'def dbl(x):\n    return 2 * x\n',
          t: { fn: 'dbl', in: [[1], [2], [3]], out: [2, 4, 6] },
        },
        { uid: 'b', q: 'bad', sol: 'x', t: { fn: 'f', in: [[1]], out: [] } },
      ];
      await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n'));
      const loader = createJsonlLoader({
        dataset: 'custom',
        fields: {
          id: 'uid',
          prompt: 'q',
          canonicalSolutions: 'sol',
          tests: { kind: 'call', fnName: 't.fn', inputs: 't.in', outputs: 't.out' },
        },
      });
      const stream = loader.load(file);
      const problems = await stream.toArray();
      expect(problems).toEqual([
        {
          id: 'a',
          prompt: 'double x',
          language: 'python',
          canonicalSolutions: ['def dbl(x):\n    return 2 * x\n'],
          tests: { kind: 'call', fnName: 'dbl', inputs: [[1], [2], [3]], outputs: [2, 4, 6] },
          source: { dataset: 'custom', file, row: 1 },
        },
      ]);
      expect(stream.summary().issues).toEqual([
        { file, row: 2, field: 'outputs', message: 'has 0 entries but inputs has 1' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads Problem JSON rows and reports schema violations by field path', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'stepcoder-jsonl-'));
    try {
      const file = join(dir, 'problems.jsonl');
      const good = {
        id: 'p1',
        prompt: 'p',
        language: 'python',
        canonicalSolutions: ['print(1)'],
        tests: { kind: 'stdio', cases: [{ input: '', output: '1' }] },
      };
      const badCall = { ...good, id: 'p2', tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [] } };
      const badLang = { ...good, id: 'p3', language: 'cobol' };
      await writeFile(file, [good, badCall, badLang].map((r) => JSON.stringify(r)).join('\n'));
      const stream = createJsonlLoader({ dataset: 'own' }).load(file);
      expect((await stream.toArray()).map((p) => [p.id, p.source])).toEqual([
        ['p1', { dataset: 'own', file, row: 1 }],
      ]);
      expect(stream.summary().issues.map((i) => [i.row, i.field])).toEqual([
        [2, 'tests.outputs'],
        [3, 'language'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown options naming the path', () => {
    expect(() => createJsonlLoader({ mode: 'loud' } as never)).toThrow(/mode/);
    expect(() => createJsonlLoader({ shuffle: { seed: 1, buffer: 0 } })).toThrow(/shuffle\.buffer/);
  });
});

describe('mini dataset', () => {
  for (const language of ['python', 'javascript'] as const) {
    it(`${language}: 40+ valid problems over all three test forms, 3+ tests each`, async () => {
      expect(miniDatasetPath(language)).toMatch(new RegExp(`fixtures[\\\\/]mini[\\\\/]${language}\\.jsonl$`));
      const stream = loadMini(language);
      const problems = await stream.toArray();
      expect(stream.summary().skipped).toBe(0);
      expect(problems.length).toBeGreaterThanOrEqual(40);
      const stats = datasetStats(problems);
      expect(stats.languages).toEqual({ [language]: problems.length });
      expect(stats.testKinds.stdio).toBeGreaterThanOrEqual(10);
      expect(stats.testKinds.call).toBeGreaterThanOrEqual(10);
      expect(stats.testKinds.assert).toBeGreaterThanOrEqual(10);
      expect(stats.testsPerProblem.min).toBeGreaterThanOrEqual(3);
      expect(stats.withoutCanonical).toBe(0);
      for (const p of problems) {
        if (p.starterCode) expect(p.canonicalSolutions[0]!.startsWith(p.starterCode)).toBe(true);
        // Branching statements give the curriculum split points.
        expect(p.canonicalSolutions[0]!.split('\n').length).toBeLessThanOrEqual(16);
      }
    });
  }
});
