/**
 * The procedural suite: determinism, the held-out split of unseen combinations, the formats, the
 * loader and JSONL round trip, and (with the real executors) that canonical solutions pass, wrong
 * ones fail, and branchy problems leave lines uncovered.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, type Problem, registry } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createJsonlLoader,
  createSyntheticLoader,
  generateSyntheticSuite,
  SYNTHETIC_FAMILIES,
  splitFamily,
  syntheticFamilyNames,
  writeSyntheticJsonl,
} from '../src/index.js';

const LANGUAGES = ['python', 'javascript'] as const;
const suites = Object.fromEntries(
  LANGUAGES.map((l) => [l, generateSyntheticSuite({ language: l })]),
) as Record<(typeof LANGUAGES)[number], ReturnType<typeof generateSyntheticSuite>>;
const all = (l: (typeof LANGUAGES)[number]) => [...suites[l].train, ...suites[l].heldout];
const meta = (p: Problem) =>
  p.meta as { split: string; family: string; combination: string; components: string[]; testForm: string };

describe('synthetic suite: shape', () => {
  it('has at least 12 families and 5,000 problems per language by default, all families present', () => {
    expect(SYNTHETIC_FAMILIES.length).toBeGreaterThanOrEqual(12);
    for (const l of LANGUAGES) {
      const problems = all(l);
      expect(problems).toHaveLength(6000);
      expect(new Set(problems.map((p) => meta(p).family))).toEqual(new Set(syntheticFamilyNames()));
      expect(new Set(problems.map((p) => p.id)).size).toBe(6000);
      expect(suites[l].families).toEqual(syntheticFamilyNames());
    }
  });

  it('is deterministic: same options, byte-identical problems; another seed, other instances', () => {
    for (const l of LANGUAGES) {
      const again = generateSyntheticSuite({ language: l });
      expect(JSON.stringify(again)).toBe(JSON.stringify(suites[l]));
    }
    const other = generateSyntheticSuite({ language: 'python', seed: 1, count: 600 });
    const base = generateSyntheticSuite({ language: 'python', seed: 0, count: 600 });
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(base));
  });

  it('uses all three test forms in both languages, with 4-6 tests each', () => {
    for (const l of LANGUAGES) {
      const kinds = new Set(all(l).map((p) => p.tests.kind));
      expect(kinds).toEqual(new Set(['call', 'assert', 'stdio']));
      for (const p of all(l)) {
        const n = p.tests.kind === 'call' ? p.tests.inputs.length : p.tests.cases.length;
        expect(n).toBeGreaterThanOrEqual(4);
        expect(n).toBeLessThanOrEqual(6);
        expect(meta(p).testForm).toBe(p.tests.kind);
      }
    }
  });

  it('formats every solution canonically: starts with starterCode, fixed indent, no blank lines', () => {
    for (const l of LANGUAGES) {
      const indent = l === 'python' ? 4 : 2;
      // Violations are collected, not asserted one by one: 12,000 programs.
      const bad: string[] = [];
      for (const p of all(l)) {
        const code = p.canonicalSolutions[0]!;
        if (p.canonicalSolutions.length !== 1) bad.push(`${p.id}: ${p.canonicalSolutions.length} solutions`);
        if (!code.startsWith(`${p.starterCode}\n`)) bad.push(`${p.id}: does not start with starterCode`);
        if (/\n\s*\n/.test(code)) bad.push(`${p.id}: blank line`);
        if ((l === 'python' ? /#/ : /\/\//).test(code)) bad.push(`${p.id}: comment`);
        if (code.split('\n').some((line) => (line.length - line.trimStart().length) % indent !== 0)) {
          bad.push(`${p.id}: indent`);
        }
        if (p.prompt.length > 240) bad.push(`${p.id}: prompt of ${p.prompt.length} chars`);
      }
      expect(bad).toEqual([]);
    }
  });

  it('never has tests whose expected outputs are all equal (they could not reject a constant)', () => {
    const expected = (p: Problem): string[] => {
      const t = p.tests;
      if (t.kind === 'call') return t.outputs.map((o) => JSON.stringify(o));
      if (t.kind === 'stdio') return t.cases.map((c) => c.output);
      return t.cases.map((c) => c.slice(c.lastIndexOf(' == ') + 4)); // Python: assert f(...) == <expected>
    };
    const constant = all('python').filter((p) => new Set(expected(p)).size === 1);
    expect(constant.map((p) => p.id)).toEqual([]);
  });

  it('has long programs (8-16 Python lines) and branchy programs (3-5 branches, some untested)', () => {
    const py = all('python').filter((p) => p.tests.kind !== 'stdio');
    const lines = (p: Problem) => p.canonicalSolutions[0]!.trimEnd().split('\n').length;
    const long = py.filter((p) => meta(p).family === 'long-pipeline').map(lines);
    expect(Math.min(...long)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...long)).toBeLessThanOrEqual(16);
    for (const p of py.filter((q) => meta(q).family === 'branchy')) {
      const m = p.meta as { branches: number; testedBranches: number[] };
      expect(m.branches).toBeGreaterThanOrEqual(3);
      expect(m.branches).toBeLessThanOrEqual(5);
      expect(m.testedBranches.length).toBeLessThan(m.branches);
    }
  });
});

describe('synthetic suite: held-out split of unseen combinations', () => {
  it('never puts a held-out combination in train, and holds out about the requested fraction', () => {
    for (const l of LANGUAGES) {
      const trainKeys = new Set(suites[l].train.map((p) => meta(p).combination));
      const heldKeys = new Set(suites[l].heldout.map((p) => meta(p).combination));
      expect([...heldKeys].filter((k) => trainKeys.has(k))).toEqual([]);
      expect(suites[l].train.every((p) => meta(p).split === 'train')).toBe(true);
      expect(suites[l].heldout.every((p) => meta(p).split === 'heldout')).toBe(true);
      const fraction = suites[l].heldout.length / 6000;
      expect(fraction).toBeGreaterThan(0.07);
      expect(fraction).toBeLessThan(0.17);
      // Every family has held-out problems.
      expect(new Set(suites[l].heldout.map((p) => meta(p).family)).size).toBe(SYNTHETIC_FAMILIES.length);
    }
  });

  it('holds out the same combinations for every seed and both languages', () => {
    const heldout = new Set(SYNTHETIC_FAMILIES.flatMap((f) => [...splitFamily(f, 0.12, 0).heldout]));
    const other = generateSyntheticSuite({ language: 'javascript', seed: 7, count: 3000 });
    for (const p of [...other.train, ...other.heldout, ...all('python')]) {
      expect(heldout.has(meta(p).combination)).toBe(meta(p).split === 'heldout');
    }
  });

  it('keeps every component of a held-out combination in training (only the combination is new)', () => {
    for (const family of SYNTHETIC_FAMILIES) {
      const { combinations, heldout } = splitFamily(family, 0.12, 0);
      expect(heldout.size).toBeGreaterThan(0);
      const trainLabels = new Set(
        combinations.filter((c) => !heldout.has(`${family.name}:${c.join(',')}`)).flat(),
      );
      for (const c of combinations.filter((x) => heldout.has(`${family.name}:${x.join(',')}`))) {
        for (const label of c) expect(trainLabels.has(label), `${family.name} ${label}`).toBe(true);
      }
    }
    // And in the generated problems themselves.
    for (const l of LANGUAGES) {
      const seen = new Set(
        suites[l].train.flatMap((p) => meta(p).components.map((c) => `${meta(p).family}/${c}`)),
      );
      for (const p of suites[l].heldout) {
        for (const c of meta(p).components) expect(seen.has(`${meta(p).family}/${c}`)).toBe(true);
      }
    }
  });
});

describe('synthetic suite: loader, options and JSONL', () => {
  it('is registered as dataset `synthetic`, ignores the path, yields train then held-out', async () => {
    const loader = await registry.create('dataset', 'synthetic', { language: 'javascript', count: 300 });
    const problems: Problem[] = [];
    for await (const p of loader.load('')) problems.push(p);
    expect(problems).toHaveLength(300);
    const splits = problems.map((p) => meta(p).split);
    expect(splits.indexOf('heldout')).toBe(splits.lastIndexOf('train') + 1);
    expect(problems.every((p) => p.language === 'javascript')).toBe(true);
    const held = await createSyntheticLoader({ count: 300, part: 'heldout', limit: 5 })
      .load('anything')
      .toArray();
    expect(held).toHaveLength(5);
    expect(held.every((p) => meta(p).split === 'heldout')).toBe(true);
    const stdio = await createSyntheticLoader({ count: 300, filter: { testKinds: ['stdio'] } })
      .load('')
      .toArray();
    expect(stdio.length).toBeGreaterThan(0);
    expect(stdio.every((p) => p.tests.kind === 'stdio')).toBe(true);
  });

  it('rejects bad options at creation, naming the option', () => {
    expect(() => generateSyntheticSuite({ language: 'python', families: ['nope'] })).toThrow(
      /families.*unknown synthetic family 'nope'\. Known: arith, arith2/s,
    );
    expect(() => createSyntheticLoader({ families: ['branchy', 'nope'] })).toThrow(/families/);
    expect(() => createSyntheticLoader({ count: 0 })).toThrow(/count/);
    expect(() => createSyntheticLoader({ heldoutFraction: 2 })).toThrow(/heldoutFraction/);
    expect(() => createSyntheticLoader({ language: 'ruby' as never })).toThrow(/language/);
  });

  it('holds out nothing with heldoutFraction 0', () => {
    const s = generateSyntheticSuite({ language: 'javascript', count: 300, heldoutFraction: 0 });
    expect(s.heldout).toEqual([]);
    expect(s.train).toHaveLength(300);
  });

  it('restricts to chosen families', () => {
    const s = generateSyntheticSuite({ language: 'python', count: 100, families: ['branchy', 'digits'] });
    expect(s.families).toEqual(['branchy', 'digits']);
    expect(new Set([...s.train, ...s.heldout].map((p) => meta(p).family))).toEqual(
      new Set(['branchy', 'digits']),
    );
  });

  it('writes JSONL that the generic jsonl loader reads back to the same problems', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synthetic-'));
    try {
      const path = join(dir, 'suite.jsonl');
      const result = writeSyntheticJsonl(path, { language: 'python', count: 400 });
      expect(result.problems).toBe(400);
      expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(400);
      const back = await createJsonlLoader().load(path).toArray();
      const suite = generateSyntheticSuite({ language: 'python', count: 400 });
      expect(back).toEqual([...suite.train, ...suite.heldout]);
      const heldPath = join(dir, 'held.jsonl');
      const held = writeSyntheticJsonl(heldPath, { language: 'javascript', count: 400, part: 'heldout' });
      expect(held.train).toBe(0);
      expect(await createJsonlLoader().load(heldPath).toArray()).toHaveLength(held.heldout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/* ---------------------------------------------------------------------------------------------- */
/* With the real executors                                                                          */
/* ---------------------------------------------------------------------------------------------- */

type Executor = {
  run: (req: object) => Promise<{
    outcome: string;
    message?: string;
    coverage?: { lines: number[]; executableLines: number[] };
  }>;
  dispose: () => Promise<void>;
};

async function open(pkg: string, factory: string, options: object): Promise<Executor | string> {
  try {
    const mod = (await import(/* @vite-ignore */ pkg)) as Record<string, (o: object) => Executor>;
    return mod[factory]!(options);
  } catch (err) {
    return `${pkg} unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const executors = {
  python: await open('@stepcoder/executor-python', 'createPythonExecutor', { poolSize: 2 }),
  javascript: await open('@stepcoder/executor-js', 'createJsExecutor', {}),
};
afterAll(async () => {
  for (const e of Object.values(executors)) if (typeof e !== 'string') await e.dispose();
});

/** A seeded sample: `perFamily` problems of every family (train and held-out alike). */
function sample(problems: Problem[], perFamily: number): Problem[] {
  const rng = createRng('synthetic-test-sample');
  return syntheticFamilyNames().flatMap((f) =>
    rng.sample(
      problems.filter((p) => meta(p).family === f),
      perFamily,
    ),
  );
}

/** A program that runs but answers wrongly: f returns -999 (never an expected output). */
function wrongProgram(p: Problem): string {
  const body = p.language === 'python' ? '    return -999\n' : '  return -999;\n}\n';
  const fn = `${p.starterCode}\n${body}`;
  if (p.tests.kind !== 'stdio') return fn;
  const canonical = p.canonicalSolutions[0]!;
  const end = p.language === 'python' ? canonical.search(/\n\S/) + 1 : canonical.indexOf('\n}\n') + 3;
  return fn + canonical.slice(end);
}

for (const language of LANGUAGES) {
  describe(`synthetic suite in the real ${language} executor`, () => {
    const executor = executors[language];
    if (typeof executor === 'string') console.warn(`[skipped] ${executor}`);
    const run = typeof executor === 'string' ? it.skip : it;
    const ex = executor as Executor;

    run(
      'a seeded sample of canonical solutions passes; wrong solutions fail',
      async () => {
        const problems = sample(all(language), 4);
        expect(problems.length).toBe(4 * SYNTHETIC_FAMILIES.length);
        const failures: string[] = [];
        const wrongPasses: string[] = [];
        const probed = new Set<string>();
        const queue = [...problems];
        await Promise.all(
          [0, 1].map(async () => {
            for (let p = queue.shift(); p; p = queue.shift()) {
              const req = { language, tests: p.tests, limits: { timeoutMs: 10000, totalTimeoutMs: 60000 } };
              const right = await ex.run({ ...req, program: p.canonicalSolutions[0]! });
              if (right.outcome !== 'pass')
                failures.push(`${p.id} ${meta(p).combination}: ${right.outcome} ${right.message ?? ''}`);
              // One wrong program per family and test form is enough to show the tests discriminate.
              const probe = `${meta(p).family}/${p.tests.kind}`;
              if (probed.has(probe)) continue;
              probed.add(probe);
              const wrong = await ex.run({ ...req, program: wrongProgram(p) });
              if (wrong.outcome === 'pass') wrongPasses.push(p.id);
            }
          }),
        );
        expect(failures).toEqual([]);
        expect(probed.size).toBeGreaterThanOrEqual(SYNTHETIC_FAMILIES.length);
        expect(wrongPasses).toEqual([]);
      },
      120000,
    );

    run('branchy problems leave lines unexecuted under coverage', async () => {
      const branchy = sample(
        all(language).filter((p) => meta(p).family.startsWith('branchy') && p.tests.kind !== 'stdio'),
        3,
      );
      expect(branchy.length).toBe(6);
      for (const p of branchy) {
        const r = await ex.run({
          program: p.canonicalSolutions[0]!,
          language,
          tests: p.tests,
          coverage: true,
        });
        expect(r.outcome).toBe('pass');
        const executed = new Set(r.coverage!.lines);
        const missed = r.coverage!.executableLines.filter((l) => !executed.has(l));
        expect(missed.length, p.id).toBeGreaterThan(0);
      }
    });
  });
}

describe('in-distribution test split (testFraction)', () => {
  const suite = generateSyntheticSuite({ language: 'python', count: 3000, seed: 4, testFraction: 0.1 });
  const plain = generateSyntheticSuite({ language: 'python', count: 3000, seed: 4 });

  it('holds new instances of trained combinations, disjoint from every training problem', () => {
    expect(suite.test.length).toBeGreaterThan(150);
    const trainIds = new Set(suite.train.map((p) => p.id));
    const trainPrompts = new Set(suite.train.map((p) => p.prompt));
    const trainPrograms = new Set(suite.train.map((p) => p.canonicalSolutions[0]));
    const trainCombos = new Set(suite.train.map((p) => p.meta?.combination));
    const heldCombos = new Set(suite.heldout.map((p) => p.meta?.combination));
    for (const p of suite.test) {
      expect(p.meta?.split).toBe('test');
      expect(trainIds.has(p.id)).toBe(false);
      expect(trainPrompts.has(p.prompt)).toBe(false);
      expect(trainPrograms.has(p.canonicalSolutions[0])).toBe(false);
      // In distribution: its combination is trained on; never a held-out combination.
      expect(trainCombos.has(p.meta?.combination)).toBe(true);
      expect(heldCombos.has(p.meta?.combination)).toBe(false);
    }
  });

  it('leaves the held-out split alone and only moves problems from train to test', () => {
    expect(suite.heldout.map((p) => p.id)).toEqual(plain.heldout.map((p) => p.id));
    expect(plain.test).toEqual([]);
    const testIds = new Set(suite.test.map((p) => p.id));
    expect(plain.train.filter((p) => !testIds.has(p.id)).map((p) => p.id)).toEqual(
      suite.train.map((p) => p.id),
    );
    expect(suite.train.length + suite.test.length).toBe(plain.train.length);
  });

  it('is deterministic and seeded', () => {
    const again = generateSyntheticSuite({ language: 'python', count: 3000, seed: 4, testFraction: 0.1 });
    expect(again.test.map((p) => p.id)).toEqual(suite.test.map((p) => p.id));
    const other = generateSyntheticSuite({ language: 'python', count: 3000, seed: 5, testFraction: 0.1 });
    expect(other.test.map((p) => p.prompt)).not.toEqual(suite.test.map((p) => p.prompt));
  });
});
