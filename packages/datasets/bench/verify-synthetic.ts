/**
 * Checks EVERY canonical solution of the synthetic suite (both languages, default options) against
 * its own tests, cheaply: all Python programs in one python3 process, all JavaScript programs in
 * node:vm contexts here. The vitest suite runs a seeded sample through the real sandboxed
 * executors; this script covers the rest (it is not a sandbox: the programs are our own).
 *
 * Usage: pnpm exec tsx bench/verify-synthetic.ts [--count 6000] [--seed 0]
 */
import { execFileSync } from 'node:child_process';
import vm from 'node:vm';
import type { Problem } from '@stepcoder/core';
import { generateSyntheticSuite } from '../src/index.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 6000);
const seed = arg('seed', 0);

const PY_CHECK = String.raw`
import contextlib, io, json, sys
failures = []
for p in json.load(sys.stdin):
    t = p['tests']
    try:
        if t['kind'] == 'call':
            ns = {}
            exec(p['program'], ns)
            for args, want in zip(t['inputs'], t['outputs']):
                got = ns['f'](*args)
                if got != want:
                    raise AssertionError(f'f{tuple(args)} = {got!r}, want {want!r}')
        elif t['kind'] == 'assert':
            ns = {}
            exec(p['program'], ns)
            for case in t['cases']:
                exec(case, ns)
        else:
            for case in t['cases']:
                lines = iter(case['input'].split('\n'))
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    exec(p['program'], {'input': lambda: next(lines)})
                if out.getvalue() != case['output']:
                    raise AssertionError(f'stdout {out.getvalue()!r}, want {case["output"]!r}')
    except Exception as e:
        failures.append(f"{p['id']}: {type(e).__name__} {e}")
print(json.dumps(failures))
`;

function checkPython(problems: Problem[]): string[] {
  const input = JSON.stringify(
    problems.map((p) => ({ id: p.id, program: p.canonicalSolutions[0], tests: p.tests })),
  );
  const out = execFileSync('python3', ['-c', PY_CHECK], { input, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out.toString()) as string[];
}

function checkJs(p: Problem): string | undefined {
  const program = p.canonicalSolutions[0]!;
  const t = p.tests;
  try {
    if (t.kind === 'call') {
      const f = vm.runInNewContext(`${program}\nf;`) as (...a: unknown[]) => unknown;
      t.inputs.forEach((args, i) => {
        const got = JSON.stringify(f(...args));
        if (got !== JSON.stringify(t.outputs[i])) throw new Error(`f(${JSON.stringify(args)}) = ${got}`);
      });
    } else if (t.kind === 'assert') {
      const context = vm.createContext({});
      vm.runInContext(program, context);
      for (const c of t.cases) vm.runInContext(c, context);
    } else {
      for (const c of t.cases) {
        let stdout = '';
        vm.runInNewContext(program, {
          require: (m: string) => {
            if (m !== 'fs') throw new Error(`require('${m}')`);
            return { readFileSync: () => c.input };
          },
          console: { log: (v: unknown) => (stdout += `${String(v)}\n`) },
        });
        if (stdout !== c.output)
          throw new Error(`stdout ${JSON.stringify(stdout)}, want ${JSON.stringify(c.output)}`);
      }
    }
  } catch (e) {
    return `${p.id}: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

let failed = 0;
for (const language of ['python', 'javascript'] as const) {
  const suite = generateSyntheticSuite({ language, count, seed });
  const problems = [...suite.train, ...suite.heldout];
  const failures =
    language === 'python' ? checkPython(problems) : problems.map(checkJs).filter((f): f is string => !!f);
  failed += failures.length;
  console.log(
    `${language}: ${problems.length - failures.length}/${problems.length} canonical solutions pass`,
  );
  for (const f of failures.slice(0, 20)) console.log(`  ${f}`);
}
process.exitCode = failed ? 1 : 0;
