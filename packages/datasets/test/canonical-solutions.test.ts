/**
 * Every canonical solution of every loaded fixture problem must pass with the real executors.
 * The executors live in sibling packages; when one is missing or cannot run a trivial program
 * (not built yet, python3 absent), its tests are skipped with the reason printed.
 */
import type { Executor, Problem, TestSuite } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createAppsLoader,
  createAppsPlusLoader,
  createHumanEvalLoader,
  createHumanEvalXJsLoader,
  createMbppLoader,
  createMultiPLEJsLoader,
  loadMini,
} from '../src/base.js';
import { fixture } from './helpers.js';

type Kind = TestSuite['kind'];

interface Probe {
  executor?: Executor;
  reason?: string;
  /** Test forms the executor cannot judge yet (a smoke run failed), with why. */
  broken: Partial<Record<Kind, string>>;
}

interface Smoke {
  language: 'python' | 'javascript';
  /** A right and a wrong program for each test form. */
  cases: Record<Kind, { right: string; wrong: string; tests: TestSuite }>;
}

const PY_FN = (d: number) => `def f(x):\n    return x + ${d}\n`;
const JS_FN = (d: number) => `function f(x) {\n  return x + ${d};\n}\n`;
const SMOKES: Record<'python' | 'javascript', Smoke> = {
  python: {
    language: 'python',
    cases: {
      stdio: {
        right: 'print(1)',
        wrong: 'print(2)',
        tests: { kind: 'stdio', cases: [{ input: '', output: '1\n' }] },
      },
      call: {
        right: PY_FN(1),
        wrong: PY_FN(2),
        tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [2] },
      },
      assert: { right: PY_FN(1), wrong: PY_FN(2), tests: { kind: 'assert', cases: ['assert f(1) == 2'] } },
    },
  },
  javascript: {
    language: 'javascript',
    cases: {
      stdio: {
        right: 'console.log(1)',
        wrong: 'console.log(2)',
        tests: { kind: 'stdio', cases: [{ input: '', output: '1\n' }] },
      },
      call: {
        right: JS_FN(1),
        wrong: JS_FN(2),
        tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [2] },
      },
      assert: {
        right: JS_FN(1),
        wrong: JS_FN(2),
        tests: { kind: 'assert', cases: ["if (f(1) !== 2) throw new Error('f(1)')"] },
      },
    },
  },
};

async function probe(
  pkg: string,
  factoryName: string,
  options: Record<string, unknown>,
  smoke: Smoke,
): Promise<Probe> {
  let executor: Executor | undefined;
  try {
    const mod = (await import(/* @vite-ignore */ pkg)) as Record<string, unknown>;
    const factory = mod[factoryName];
    if (typeof factory !== 'function') return { reason: `${pkg} does not export ${factoryName}`, broken: {} };
    executor = (await factory(options)) as Executor;
    const broken: Probe['broken'] = {};
    for (const [kind, c] of Object.entries(smoke.cases) as Array<[Kind, Smoke['cases'][Kind]]>) {
      const right = await executor.run({ program: c.right, language: smoke.language, tests: c.tests });
      // A wrong answer must not pass either, or the checks below would prove nothing.
      const wrong = await executor.run({ program: c.wrong, language: smoke.language, tests: c.tests });
      if (right.outcome !== 'pass')
        broken[kind] = `a correct ${kind} program got ${right.outcome}: ${right.message ?? ''}`;
      else if (wrong.outcome === 'pass') broken[kind] = `a wrong ${kind} program passed`;
    }
    if (Object.keys(broken).length === 3) {
      await executor.dispose();
      return { reason: `${pkg} cannot judge any test form yet`, broken };
    }
    return { executor, broken };
  } catch (err) {
    await executor?.dispose().catch(() => undefined);
    return { reason: `${pkg} unavailable: ${err instanceof Error ? err.message : String(err)}`, broken: {} };
  }
}

const python = await probe(
  '@stepcoder/executor-python',
  'createPythonExecutor',
  { poolSize: 2 },
  SMOKES.python,
);
const js = await probe('@stepcoder/executor-js', 'createJsExecutor', {}, SMOKES.javascript);
for (const [name, p] of [
  ['executor-python', python],
  ['executor-js', js],
] as const) {
  if (p.reason) console.warn(`[skipped] ${p.reason}`);
  for (const [kind, why] of Object.entries(p.broken)) {
    console.warn(`[skipped] ${name}: problems with ${kind} tests (smoke run failed: ${why})`);
  }
}

afterAll(async () => {
  await python.executor?.dispose();
  await js.executor?.dispose();
});

async function failures(probe: Probe, problems: Problem[]): Promise<string[]> {
  const executor = probe.executor!;
  const failed: string[] = [];
  const queue = problems.filter((p) => !probe.broken[p.tests.kind]);
  // A small fixed concurrency: CI has 2 cores.
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        for (const [i, program] of p.canonicalSolutions.entries()) {
          const r = await executor.run({
            program,
            language: p.language,
            tests: p.tests,
            preamble: p.harness?.preamble,
            epilogue: p.harness?.epilogue,
            limits: { timeoutMs: 10000, totalTimeoutMs: 60000 },
          });
          if (r.outcome !== 'pass') failed.push(`${p.id}#${i}: ${r.outcome} ${r.message ?? ''}`.trim());
        }
      }
    }),
  );
  return failed;
}

describe('canonical solutions pass in executor-python', () => {
  const run = python.executor ? it : it.skip;
  run('mini python dataset', async () => {
    expect(await failures(python, await loadMini('python').toArray())).toEqual([]);
  });
  run(
    'HumanEval (164)',
    async () => {
      const problems = await createHumanEvalLoader().load(fixture('HumanEval.jsonl.gz')).toArray();
      expect(problems).toHaveLength(164);
      expect(await failures(python, problems)).toEqual([]);
    },
    120000,
  );
  run(
    'APPS+ sample (32) and hand-made APPS+ / APPS / MBPP fixtures',
    async () => {
      const problems = [
        ...(await createAppsPlusLoader().load(fixture('apps-plus-sample', 'train.json')).toArray()),
        ...(await createAppsPlusLoader().load(fixture('apps-plus-sample', 'valid.json')).toArray()),
        ...(await createAppsPlusLoader().load(fixture('apps-plus', 'good.json')).toArray()),
        ...(await createAppsLoader().load(fixture('apps', 'train')).toArray()),
        ...(await createMbppLoader().load(fixture('mbpp', 'mbpp.jsonl')).toArray()),
      ];
      expect(problems).toHaveLength(32 + 4 + 2 + 2);
      expect(await failures(python, problems)).toEqual([]);
    },
    120000,
  );
});

describe('canonical solutions pass in executor-js', () => {
  const run = js.executor ? it : it.skip;
  run('mini javascript dataset', async () => {
    expect(await failures(js, await loadMini('javascript').toArray())).toEqual([]);
  });
  run('hand-made HumanEval-X js fixtures', async (ctx) => {
    // All of them are assert problems: nothing to check when that form cannot be judged yet.
    if (js.broken.assert) ctx.skip();
    const problems = await createHumanEvalXJsLoader().load(fixture('js', 'humaneval_x_js.jsonl')).toArray();
    expect(await failures(js, problems)).toEqual([]);
  });
  run(
    'MultiPL-E js fixtures with solutions written here (the inlined assert works in the sandbox)',
    async (ctx) => {
      if (js.broken.assert) ctx.skip();
      const bodies: Record<string, string> = {
        HumanEval_900_triple: '  return x * 3;\n}\n',
        HumanEval_901_pairs: '  return xs.map((x) => [x, x]);\n}\n',
      };
      const problems = await createMultiPLEJsLoader().load(fixture('js', 'multipl_e_js.jsonl')).toArray();
      const solved = problems.map((p) => ({ ...p, canonicalSolutions: [p.prompt + bodies[p.id]!] }));
      expect(await failures(js, solved)).toEqual([]);
      const wrong = problems.map((p) => ({ ...p, canonicalSolutions: [`${p.prompt}  return 0;\n}\n`] }));
      expect(await failures(js, wrong)).toHaveLength(2);
    },
  );
});
