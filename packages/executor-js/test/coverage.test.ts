import vm from 'node:vm';
import type { CallTests, Coverage } from '@stepcoder/core';
import libCoverage from 'istanbul-lib-coverage';
import libInstrument from 'istanbul-lib-instrument';
import { afterAll, describe, expect, it } from 'vitest';
import { COVERAGE_PATH, COVERAGE_VARIABLE, createJsExecutor, instrument } from '../src/index.js';
import { PROBLEMS } from './fixtures/humaneval-js.js';

const executor = createJsExecutor({ poolSize: 1 });
afterAll(() => executor.dispose());

/**
 * The reference: istanbul's own instrumenter and report on the same program run under plain Node
 * (node:vm, a fresh context per test), merged with istanbul-lib-coverage.
 */
function reference(program: string, tests: CallTests, sameFile: boolean) {
  // Either the very file the isolate runs (our instrument()), or a fresh istanbul instrumenter.
  // Ours keeps only the counters { s, f, b } in the isolate; istanbul keeps the maps there too.
  const ours = sameFile ? instrument(program) : undefined;
  const code =
    ours?.code ??
    libInstrument
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
    const found = (context as Record<string, libCoverage.CoverageMapData>)[COVERAGE_VARIABLE]!;
    map.merge(ours ? { [COVERAGE_PATH]: { ...ours.initial, ...found[COVERAGE_PATH]! } } : found);
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

/**
 * The instrumenter (src/instrument.ts) against istanbul-lib-instrument on the HumanEval-style JS
 * programs and on the constructs istanbul treats specially: identical statement/function/branch
 * maps, and identical counters after running the same calls under plain Node.
 */
describe('fast instrumentation is istanbul, without babel traverse/generate', () => {
  const EDGE_CASES: Array<[string, string]> = [
    [
      'non-block if/else, dangling else',
      'function f(a,b){ if (a) if (b) return 1; else return 2; return 3 }\nf(1,1); f(1,0); f(0,0);',
    ],
    [
      'else-if chain',
      'function f(a){ if (a > 1) return 1; else if (a > 0) return 2; else { return 3 } }\nf(2); f(1); f(0);',
    ],
    [
      'loops without braces',
      'let s = 0\nfor (let i = 0; i < 3; i++) s += i\nwhile (s > 0) s--\ndo s++; while (s < 2)\nfor (const k in {a:1}) s++',
    ],
    [
      'nested ternaries and logicals',
      'const g = (x) => x > 0 ? "p" : x < 0 ? "n" : "z";\nfunction h(a, b, c) { return (a && (b || c)) ?? 5 }\ng(1); g(-1); h(1, 0, 2); h(0, 1, 1);',
    ],
    [
      'switch with an empty case',
      'function s(x) { switch (x) { case 1: return "a"; case 2: case 3: { return "b" } default: return "c" } }\ns(1); s(3); s(9);',
    ],
    [
      'default values',
      'function d(a = 1, {b = 2} = {}) { return a + b }\nconst [p = 1] = [];\nd(); d(3, {b: 4});',
    ],
    [
      'arrow bodies',
      'const a = x => x * 2, b = () => ({k: 1}), c = (x) => (x, x + 1);\n[1,2,3].map(v => v + 1);\na(1); b(); c(2);',
    ],
    [
      'classes and methods',
      'class A { x = 1; #y = 2; static z = 3; constructor(v) { this.v = v } get w() { return this.#y } m() { return this.x } }\nclass B extends A { constructor() { super(1); } }\nnew B().m(); new A(2).w;\nconst o = { m() { return 1 }, f: function named() { return 3 } }; o.m();',
    ],
    [
      'try/catch/finally',
      'function t(x) { try { if (x) throw new Error("e"); return 1 } catch (e) { return 2 } finally { x = 0 } }\nt(0); t(1);',
    ],
    [
      'labels',
      'outer: for (let i = 0; i < 3; i++) { for (let j = 0; j < 3; j++) { if (j === 1) continue outer; if (i === 2) break outer; } }',
    ],
    ['directives', '"use strict";\nfunction u() { "use strict"; return 1 }\nu();'],
    ['directives without semicolons', '"use strict"\nfunction u() { "use strict"\n return 1 }\nu();'],
    ['hashbang line', '#!/usr/bin/env node\n// a comment\nfunction h() { return 1 }\nh();'],
    [
      'istanbul ignore hints',
      'function k(a) {\n  /* istanbul ignore if */\n  if (a) { return 1 }\n  /* istanbul ignore else */\n  if (!a) { return 2 } else { return 3 }\n}\n/* istanbul ignore next */\nfunction skipped() { return 4 }\nif (k) /* istanbul ignore next */ k(1); else k(2);\nk(0);',
    ],
    ['ASI', 'let x = 1\nx++\nconst y = x\n;[1, 2].forEach(v => x += v)\nx'],
    [
      'function initialisers',
      'const f1 = function () { return 1 }, f2 = () => 2;\nlet c1 = class { };\nif (true) var f3 = function () {};\nswitch (1) { case 1: const f4 = () => 4; f4(); }\nfor (var f5 = function () {}; false;) {}\nf1(); f2(); f1.name + f2.name + c1.name + f3.name;',
    ],
    [
      'async and generators',
      'async function a1() { await null; return 1 }\nfunction* g1() { yield 1; yield 2 }\nconst a2 = async (x) => await x;\n[...g1()]; a1(); a2(1);',
    ],
    [
      'empty bodies and optional chains',
      'let n = 0\nif (n) ;\nif (n) {} else ;\nwhile (n) ;\nconst q = {a: {b: 1}};\nconst r = q?.a?.b ?? 0;',
    ],
  ];
  const programs: Array<[string, string]> = [
    ...EDGE_CASES,
    ...PROBLEMS.map((p): [string, string] => [
      p.id,
      `${p.program}\n${p.call.inputs.map((a) => `${p.call.fnName}(...${JSON.stringify(a)});`).join('\n')}`,
    ]),
  ];
  const maps = (d: libCoverage.FileCoverageData) =>
    JSON.parse(
      JSON.stringify({
        statementMap: d.statementMap,
        fnMap: d.fnMap,
        branchMap: d.branchMap,
        s: d.s,
        f: d.f,
        b: d.b,
      }),
    );
  const counters = (code: string) => {
    const context = vm.createContext({});
    vm.runInContext(code, context);
    const c = (context as Record<string, Record<string, libCoverage.FileCoverageData>>)[COVERAGE_VARIABLE]![
      COVERAGE_PATH
    ]!;
    return JSON.parse(JSON.stringify({ s: c.s, f: c.f, b: c.b }));
  };
  for (const [name, code] of programs) {
    it(name, () => {
      const istanbul = libInstrument.createInstrumenter({
        coverageVariable: COVERAGE_VARIABLE,
        esModules: false,
      });
      const reference = istanbul.instrumentSync(code, COVERAGE_PATH);
      const ours = instrument(code);
      expect(maps(ours.initial)).toEqual(maps(istanbul.lastFileCoverage() as libCoverage.FileCoverageData));
      expect(counters(ours.code)).toEqual(counters(reference));
      // Counters are declared on the candidate's first line: every line keeps its number.
      expect(ours.code.split('\n').length).toBe(code.split('\n').length);
    });
  }
});
