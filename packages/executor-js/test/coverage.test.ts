import vm from 'node:vm';
import type { CallTests, Coverage } from '@stepcoder/core';
import libCoverage from 'istanbul-lib-coverage';
import libInstrument from 'istanbul-lib-instrument';
import { afterAll, describe, expect, it } from 'vitest';
import { COVERAGE_PATH, COVERAGE_VARIABLE, createJsExecutor, instrument } from '../src/index.js';

const executor = createJsExecutor({ poolSize: 1 });
afterAll(() => executor.dispose());

/**
 * The reference: istanbul's own instrumenter and report on the same program run under plain Node
 * (node:vm, a fresh context per test), merged with istanbul-lib-coverage.
 */
function reference(program: string, tests: CallTests, sameFile: boolean) {
  // Either the very file the isolate runs (our instrument()), or a fresh istanbul instrumenter.
  const code = sameFile
    ? instrument(program).code
    : libInstrument
        .createInstrumenter({ coverageVariable: COVERAGE_VARIABLE })
        .instrumentSync(program, COVERAGE_PATH);
  const map = libCoverage.createCoverageMap({});
  for (const args of tests.inputs) {
    const context = vm.createContext({});
    try {
      vm.runInContext(code, context);
      vm.runInContext(`${tests.fnName}(...${JSON.stringify(args)})`, context);
    } catch {
      // a throwing test still counts what ran before the throw
    }
    map.merge((context as Record<string, libCoverage.CoverageMapData>)[COVERAGE_VARIABLE]!);
  }
  const file = map.fileCoverageFor(COVERAGE_PATH);
  const lineCoverage = file.getLineCoverage();
  const executable = Object.keys(lineCoverage).map(Number);
  return {
    lines: executable.filter((l) => (lineCoverage[l] ?? 0) > 0),
    executableLines: executable,
    statements: Object.entries(file.statementMap).map(([id, r]) => ({
      start: { line: r.start.line, column: r.start.column },
      end: { line: r.end.line, column: r.end.column },
      hits: file.s[id],
    })),
    branches: Object.entries(file.branchMap).map(([id, b]) => ({ line: b.loc.start.line, hits: file.b[id] })),
  };
}

function comparable(c: Coverage) {
  return {
    lines: c.lines,
    executableLines: c.executableLines,
    statements: c.statements?.map(({ start, end, hits }) => ({ start, end, hits })),
    branches: c.branches?.map((b) => ({ line: b.line, hits: b.arms.map((a) => a.hits) })),
  };
}

const CASES: Record<string, { program: string; tests: CallTests }> = {
  'if/else with one arm taken': {
    program: 'function sign(x) {\n  if (x > 0) {\n    return 1;\n  } else {\n    return -1;\n  }\n}\n',
    tests: { kind: 'call', fnName: 'sign', inputs: [[5], [7]], outputs: [1, 1] },
  },
  'loop never entered': {
    program:
      'function total(xs) {\n  let s = 0;\n  for (const x of xs) {\n    s += x;\n  }\n  while (s < 0) s++;\n  return s;\n}\n',
    tests: { kind: 'call', fnName: 'total', inputs: [[[]]], outputs: [0] },
  },
  'early return': {
    program: 'function f(n) {\n  if (n === 0) return "zero";\n  const half = n / 2;\n  return half;\n}\n',
    tests: { kind: 'call', fnName: 'f', inputs: [[0]], outputs: ['zero'] },
  },
  exception: {
    program: 'function f(x) {\n  const y = x * 2;\n  if (y > 2) throw new Error("big");\n  return y;\n}\n',
    tests: { kind: 'call', fnName: 'f', inputs: [[5], [1]], outputs: [0, 2] },
  },
  'multi-line statement': {
    program:
      'function f(a) {\n  const r = a\n    .map((x) => x + 1)\n    .filter((x) =>\n      x > 2);\n  return r.length > 0\n    ? r\n    : null;\n}\n',
    tests: { kind: 'call', fnName: 'f', inputs: [[[1, 2, 3]]], outputs: [[3, 4]] },
  },
  'several statements on one line': {
    program: 'function f(x) { let a = 1; if (x) { a = 2; } else { a = 3; } return a || 0; }\n',
    tests: { kind: 'call', fnName: 'f', inputs: [[true]], outputs: [2] },
  },
  'unicode identifiers': {
    program: 'const café = "😀é"; function ñandú(x) { const π = 3; return café + x + π; }\n',
    tests: { kind: 'call', fnName: 'ñandú', inputs: [['!']], outputs: ['😀é!3'] },
  },
  'CRLF line endings': {
    program: 'function f(x) {\r\n  if (x) {\r\n    return 1;\r\n  }\r\n  return 0;\r\n}\r\n',
    tests: { kind: 'call', fnName: 'f', inputs: [[0]], outputs: [0] },
  },
  'switch, ternary, logical and default arguments': {
    program:
      'function f(k, d = 5) {\n  switch (k) {\n    case 1:\n      return d;\n    case 2:\n      return k > 1 ? "two" : "x";\n    default:\n      return k && d;\n  }\n}\n',
    tests: { kind: 'call', fnName: 'f', inputs: [[2], [1, 3]], outputs: ['two', 3] },
  },
};

describe('coverage matches istanbul under plain Node', () => {
  for (const [name, { program, tests }] of Object.entries(CASES)) {
    it(name, async () => {
      const r = await executor.run({ program, tests, coverage: true });
      expect(r.coverage).toBeDefined();
      expect(comparable(r.coverage!)).toEqual(reference(program, tests, true));
      expect(comparable(r.coverage!)).toEqual(reference(program, tests, false));
    });
  }

  it('reports hand-checked lines for if/else and a loop never entered', async () => {
    const a = await executor.run({ ...CASES['if/else with one arm taken']!, coverage: true });
    expect(a.coverage).toMatchObject({ lines: [2, 3], executableLines: [2, 3, 5] });
    expect(a.coverage!.branches![0]).toMatchObject({ kind: 'if', line: 2, arms: [{ hits: 2 }, { hits: 0 }] });
    const b = await executor.run({ ...CASES['loop never entered']!, coverage: true });
    expect(b.coverage).toMatchObject({ lines: [2, 3, 6, 7], executableLines: [2, 3, 4, 6, 7] });
  });

  it('columns are UTF-16 code units of the candidate text', async () => {
    const { program } = CASES['unicode identifiers']!;
    const r = await executor.run({ ...CASES['unicode identifiers']!, coverage: true });
    const starts = r.coverage!.statements!.map((s) => s.start.column);
    // istanbul counts declarator initialisers; everything after the emoji (a surrogate pair) is
    // one column further right than in code points.
    expect(starts).toEqual([program.indexOf('"😀é"'), program.indexOf('3;'), program.indexOf('return café')]);
  });

  it('covers only the candidate: preamble and epilogue stay out, coordinates stay the program’s', async () => {
    const r = await executor.run({
      program: 'function solve() {\n  return helper(2);\n}\n',
      preamble: 'function helper(x) {\n  return x * 2;\n}\n',
      epilogue: 'var result = solve();\n',
      tests: { kind: 'call', fnName: 'solve', inputs: [[]], outputs: [4] },
      coverage: true,
    });
    expect(r.outcome).toBe('pass');
    expect(r.coverage).toMatchObject({ lines: [2], executableLines: [2] });
  });

  it('stdin/stdout programs are covered across tests', async () => {
    const r = await executor.run({
      program:
        'const n = Number(readline());\nif (n > 0) {\n  console.log("pos");\n} else {\n  console.log("neg");\n}\n',
      tests: {
        kind: 'stdio',
        cases: [
          { input: '1', output: 'pos' },
          { input: '-1', output: 'neg' },
        ],
      },
      coverage: true,
    });
    expect(r.outcome).toBe('pass');
    expect(r.coverage).toMatchObject({ lines: [1, 2, 3, 5], lineHits: { 1: 2, 2: 2, 3: 1, 5: 1 } });
  });

  it('TypeScript coverage is reported in the TypeScript source coordinates', async () => {
    const program =
      'function f(x: number, ys: Array<string>): number {\n  const n: number = ys.length;\n  return x + n;\n}\n';
    const r = await executor.run({
      program,
      language: 'typescript',
      tests: { kind: 'call', fnName: 'f', inputs: [[1, ['a']]], outputs: [2] },
      coverage: true,
    });
    expect(r.outcome).toBe('pass');
    expect(r.coverage!.lines).toEqual([2, 3]);
    const returnStmt = r.coverage!.statements!.find((s) => s.start.line === 3)!;
    expect(returnStmt.start.column).toBe(2);
    const decl = r.coverage!.statements!.find((s) => s.start.line === 2)!;
    // In the stripped JavaScript this initialiser starts at column 12; mapped back it is at 20.
    expect(decl.start.column).toBe('  const n: number = '.length);
    expect(decl.end.column).toBe('  const n: number = ys.length'.length);
  });

  it('coverage is off unless requested and the instrumentation is cached', async () => {
    const plain = await executor.run(CASES['early return']!);
    expect(plain.coverage).toBeUndefined();
    const before = executor.stats().cachedInstrumentations;
    await executor.run({ ...CASES['early return']!, coverage: true });
    await executor.run({ ...CASES['early return']!, coverage: true });
    expect(executor.stats().cachedInstrumentations).toBe(before);
  });
});
