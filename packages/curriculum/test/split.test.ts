import { afterAll, describe, expect, it } from 'vitest';
import {
  createPythonSplitter,
  fallbackPoints,
  locateStarter,
  splitProgram,
  splitPrograms,
  stagesFromSplit,
} from '../src/base.js';
import { lineNumbers } from './helpers.js';
import * as JS from './programs-js.js';
import * as PY from './programs-python.js';

const splitter = createPythonSplitter();
afterAll(() => splitter.close());

async function pyLines(source: string, starterCode?: string) {
  const r = await splitProgram(source, 'python', { splitter, starterCode });
  expect(r.method, r.reason).toBe('ast');
  return lineNumbers(source, r.points);
}

function checkStages(source: string, r: Awaited<ReturnType<typeof splitProgram>>) {
  for (const s of stagesFromSplit(source, r)) {
    expect(s.givenPrefix + s.target).toBe(source);
    expect(s.completionStart).toBe(s.givenPrefix.length);
  }
}

describe('Python split points (hand-checked)', () => {
  it('decorators: the point is the first decorator; docstring text is not code', async () => {
    // 4 @lru_cache (fib), 10 if, 15 class, 16 @staticmethod (origin), 21 @property (norm)
    expect(await pyLines(PY.PY_DECORATORS)).toEqual([4, 10, 15, 16, 21]);
  });

  it('if/elif/else chain, one-line elif, comments ignored; a point at offset 0 is the final stage', async () => {
    expect(await pyLines(PY.PY_ELIF_CHAIN)).toEqual([3, 5, 7, 8]);
  });

  it('try/except/else/finally and with', async () => {
    expect(await pyLines(PY.PY_TRY)).toEqual([2, 4, 6, 8, 9, 11]);
  });

  it('never inside multi-line strings; while/else', async () => {
    expect(await pyLines(PY.PY_MULTILINE_STRINGS)).toEqual([12, 14]);
  });

  it('nested blocks and a nested def', async () => {
    expect(await pyLines(PY.PY_NESTED)).toEqual([3, 4, 5, 6, 9]);
  });

  it('match/case, async def/with/for; `match` as a name is not a point', async () => {
    expect(await pyLines(PY.PY_MATCH_ASYNC)).toEqual([4, 5, 6, 7, 9, 11, 12]);
  });

  it('conditional expressions and comprehensions across lines are not points', async () => {
    expect(await pyLines(PY.PY_EXPRESSIONS)).toEqual([10, 11]);
  });

  it('CRLF line endings keep exact offsets', async () => {
    const r = await splitProgram(PY.PY_CRLF, 'python', { splitter });
    expect(r.points).toEqual([PY.PY_CRLF.indexOf('    if')]);
    checkStages(PY.PY_CRLF, r);
  });

  it('drops points inside the starter code and reports where it ends', async () => {
    const starter =
      'def grade(score):\n    # if this comment looked like code, it still is not\n    if score >= 90:\n';
    const r = await splitProgram(PY.PY_ELIF_CHAIN, 'python', { splitter, starterCode: starter });
    expect(r.starterEnd).toBe(starter.length);
    expect(lineNumbers(PY.PY_ELIF_CHAIN, r.points)).toEqual([5, 7, 8]);
  });

  it('finds starter code that is not a prefix (APPS+ imports before the def)', () => {
    const program = 'from math import *\nimport sys\ndef f():\n    if 1:\n        pass\n';
    expect(locateStarter(program, '\ndef f():\n')).toEqual({
      start: program.indexOf('def f'),
      end: program.indexOf('    if'),
      found: true,
    });
    expect(locateStarter(program, 'def g():\n')).toEqual({ start: 0, end: 0, found: false });
  });

  it('starter code missing from the program is ignored with a note', async () => {
    const r = await splitProgram(PY.PY_NESTED, 'python', { splitter, starterCode: 'def other():\n' });
    expect(r.starterEnd).toBe(0);
    expect(r.method).toBe('ast');
    expect(r.reason).toMatch(/starter code not found/);
  });

  it('a program that does not parse falls back to keyword lines, with the reason', async () => {
    const broken =
      'def f(x):\n    s = """\nif inside string\n"""\n    if x\n        return 1\n    else:\n        return 2\n';
    const r = await splitProgram(broken, 'python', { splitter });
    expect(r.method).toBe('lines-fallback');
    expect(r.reason).toMatch(/SyntaxError: .*line 5/);
    expect(lineNumbers(broken, r.points)).toEqual([5, 7]);
    checkStages(broken, r);
  });

  it('a missing python3 gives a fallback for every program, never a throw', async () => {
    const missing = createPythonSplitter({ python: '/nonexistent/python3' });
    const results = await splitPrograms(
      [
        { source: PY.PY_ELIF_CHAIN, language: 'python' },
        { source: JS.JS_ELSE_CHAIN, language: 'javascript' },
      ],
      { splitter: missing },
    );
    expect(results[0]!.method).toBe('lines-fallback');
    expect(results[0]!.reason).toMatch(/python splitter unavailable: Cannot run \/nonexistent\/python3/);
    expect(lineNumbers(PY.PY_ELIF_CHAIN, results[0]!.points)).toEqual([3, 5, 7, 8]);
    expect(results[1]!.method).toBe('ast');
    await missing.close();
  });

  it('many programs go through one python3 process', async () => {
    const own = createPythonSplitter({ batchSize: 4 });
    const sources = Array.from({ length: 25 }, (_, i) => `def f${i}(x):\n    if x:\n        return ${i}\n`);
    const results = await Promise.all(sources.map((s) => splitProgram(s, 'python', { splitter: own })));
    expect(results.every((r) => r.method === 'ast' && r.points.length === 1)).toBe(true);
    expect(own.spawnCount).toBe(1);
    await own.close();
    // After close, the next request starts a fresh process and still answers.
    expect((await splitProgram(sources[0]!, 'python', { splitter: own })).points).toHaveLength(1);
    expect(own.spawnCount).toBe(2);
    await own.close();
  });

  it('a python3 that dies gives a fallback with its exit status', async () => {
    const dies = createPythonSplitter({ python: '/bin/false' });
    const r = await splitProgram(PY.PY_TRY, 'python', { splitter: dies });
    expect(r.method).toBe('lines-fallback');
    expect(r.reason).toMatch(/exited \(code 1\)/);
    expect(lineNumbers(PY.PY_TRY, r.points)).toEqual([2, 4, 6, 8, 9, 11]);
  });

  it('a hung or killed process is reported as a fallback', async () => {
    const slow = createPythonSplitter({ timeoutMs: 1 });
    const r = await splitProgram(PY.PY_TRY, 'python', { splitter: slow });
    expect(r.method).toBe('lines-fallback');
    expect(r.reason).toMatch(/timed out/);
    await slow.close();
  });
});

describe('JavaScript / TypeScript split points (hand-checked)', () => {
  async function jsLines(source: string, language: 'javascript' | 'typescript' = 'javascript') {
    const r = await splitProgram(source, language);
    expect(r.method, r.reason).toBe('ast');
    checkStages(source, r);
    return lineNumbers(source, r.points);
  }

  it('if / else if / else at `} else {` line starts; comments ignored', async () => {
    expect(await jsLines(JS.JS_ELSE_CHAIN)).toEqual([3, 5, 7]);
  });

  it('loops, try/catch/finally, do-while (its closing `} while` is not a point)', async () => {
    expect(await jsLines(JS.JS_LOOPS_TRY)).toEqual([3, 5, 6, 8, 10, 15, 16, 19, 20]);
  });

  it('switch/case; never inside template literals or block comments', async () => {
    expect(await jsLines(JS.JS_SWITCH_TEMPLATE)).toEqual([8, 9, 11, 14]);
  });

  it('class methods, arrow-valued fields, export function, assigned function', async () => {
    expect(await jsLines(JS.JS_CLASS)).toEqual([3, 6, 7, 10, 12, 17, 21]);
  });

  it('TypeScript: types ignored, decorators start their definition', async () => {
    expect(await jsLines(JS.TS_TYPES, 'typescript')).toEqual([8, 10, 12, 15, 17, 27]);
  });

  it('a labeled loop starts at its label', async () => {
    const src =
      'function f(m) {\n  outer: for (const row of m) {\n    for (const x of row) {\n      if (x) break outer;\n    }\n  }\n}\n';
    expect(await jsLines(src)).toEqual([2, 3, 4]);
  });

  it('TypeScript that does not parse falls back with the parser message', async () => {
    const broken = 'function f(x: number {\n  if (x) {\n    return 1;\n  }\n}\n';
    const r = await splitProgram(broken, 'typescript');
    expect(r.method).toBe('lines-fallback');
    expect(r.reason).toMatch(/SyntaxError: .*\(1:/);
    expect(lineNumbers(broken, r.points)).toEqual([2]);
  });

  it('JS fallback skips lines inside template literals and block comments', () => {
    const src = 'x = `\nif (a) {}\n`;\n/*\nfor (;;) {}\n*/\n} else {\nwhile (1) {}\n';
    expect(lineNumbers(src, fallbackPoints(src, 'javascript'))).toEqual([7, 8]);
  });
});
