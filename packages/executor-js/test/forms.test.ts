import { createRegistry, type ExecutionRequest, registry } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsExecutor } from '../src/index.js';
import { asAssert, PROBLEMS } from './fixtures/humaneval-js.js';

const executor = createJsExecutor({ poolSize: 2 });
afterAll(() => executor.dispose());

const run = (request: ExecutionRequest) => executor.run(request);
const stdio = (program: string, cases: Array<[string, string]>): ExecutionRequest => ({
  program,
  tests: { kind: 'stdio', cases: cases.map(([input, output]) => ({ input, output })) },
});

describe('stdin/stdout tests', () => {
  const shapes: Record<string, string> = {
    'fs.readFileSync(0)': `const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);
console.log(a + b);`,
    "fs.readFileSync('/dev/stdin')": `const t = require('node:fs').readFileSync('/dev/stdin').toString();
const [a, b] = t.split(' ').map(Number); process.stdout.write(String(a + b) + '\\n');`,
    "process.stdin.on('data'/'end')": `let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => { const [a, b] = input.split(' ').map(Number); console.log(a + b); });`,
    "process.stdin 'readable' + read()": `let input = '';
process.stdin.on('readable', () => { let c; while ((c = process.stdin.read()) !== null) input += c; });
process.stdin.on('end', () => { const [a, b] = input.split(' ').map(Number); console.log(a + b); });`,
    "readline 'line'/'close'": `const rl = require('readline').createInterface({ input: process.stdin });
const lines = [];
rl.on('line', (l) => lines.push(l));
rl.on('close', () => { const [a, b] = lines[0].split(' ').map(Number); console.log(a + b); });`,
    'readline async iterator': `const readline = require('readline');
async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) { const [a, b] = line.split(' ').map(Number); console.log(a + b); }
}
main();`,
    'global readline()': `const [a, b] = readline().split(' ').map(Number);
print(a + b);`,
  };
  for (const [name, program] of Object.entries(shapes)) {
    it(`reads stdin through ${name}`, async () => {
      const r = await run(
        stdio(program, [
          ['1 2\n', '3'],
          ['40 2', '42\n'],
          ['1 1', '3'],
        ]),
      );
      expect(r.tests.map((t) => t.outcome)).toEqual(['pass', 'pass', 'wrong_answer']);
      expect(r.outcome).toBe('wrong_answer');
      expect(r.passed).toBe(2);
    });
  }

  it('formats console.log arguments like Node for common values', async () => {
    const program = `console.log('a', 1, -0, [1, 'x', [2]], { k: 'v', n: null }, undefined, 5n, new Map([[1, 2]]), new Set([3]));
console.log('%s=%d', 'x', 42, 'rest');
console.error('to stderr');`;
    const expected = `a 1 -0 [ 1, 'x', [ 2 ] ] { k: 'v', n: null } undefined 5n Map(1) { 1 => 2 } Set(1) { 3 }\nx=42 rest\n`;
    const r = await run(stdio(program, [['', expected]]));
    expect(r.tests[0]!.stdout).toBe(expected);
    expect(r.stderr).toBe('to stderr\n');
    expect(r.outcome).toBe('pass');
  });

  it('compares output with the APPS rules (whitespace, numeric tolerance)', async () => {
    const r = await run(
      stdio('console.log("1.0000001  2\\r\\n")', [
        ['', '1 2'],
        ['', '1.1 2'],
      ]),
    );
    expect(r.tests.map((t) => t.outcome)).toEqual(['pass', 'wrong_answer']);
    expect(r.tests[1]!.expected).toBe('1.1 2');
  });

  it('runs virtual timers and accepts process.exit(0) after the answer', async () => {
    const r = await run(
      stdio(
        `setTimeout(() => { console.log('late'); process.exit(0); console.log('never'); }, 100);
setTimeout(() => console.log('early'), 10);`,
        [['', 'early\nlate']],
      ),
    );
    expect(r.outcome).toBe('pass');
    expect(r.tests[0]!.stdout).toBe('early\nlate\n');
  });

  it('treats a non-zero exit as a runtime error even with the right output', async () => {
    const r = await run(stdio(`console.log(3); process.exit(2);`, [['', '3']]));
    expect(r.outcome).toBe('runtime_error');
    expect(r.message).toContain('process.exit(2)');
  });

  it('runs preamble and epilogue around the program (APPS+ style)', async () => {
    const r = await run({
      ...stdio(`function solve() { const n = Number(readline()); console.log(double(n)); }`, [['21', '42']]),
      preamble: 'function double(x) { return 2 * x; }',
      epilogue: 'solve();',
    });
    expect(r.outcome).toBe('pass');
  });
});

describe('call-based tests', () => {
  it('calls a function with JSON arguments and compares in the parent', async () => {
    const r = await run({
      program: 'function add(a, b) { return a + b; }',
      tests: {
        kind: 'call',
        fnName: 'add',
        inputs: [
          [1, 2],
          [0.1, 0.2],
          [1, 1],
        ],
        outputs: [3, 0.3, [2]],
      },
    });
    expect(r.tests.map((t) => t.outcome)).toEqual(['pass', 'pass', 'pass']);
  });

  it('reports the actual and expected values of a wrong answer', async () => {
    const r = await run({
      program: 'const f = (xs) => xs.map((x) => x * 2)',
      tests: { kind: 'call', fnName: 'f', inputs: [[[1, 2]]], outputs: [[2, 5]] },
    });
    expect(r.outcome).toBe('wrong_answer');
    expect(r.tests[0]).toMatchObject({ expected: [2, 5], actual: [2, 4] });
  });

  it('supports classes (LeetCode style), module.exports, ES exports and special numbers', async () => {
    const cls = await run({
      program:
        'class Solution { twoSum(nums, target) { const m = new Map(); for (let i = 0; i < nums.length; i++) { if (m.has(target - nums[i])) return [m.get(target - nums[i]), i]; m.set(nums[i], i); } } }',
      tests: {
        kind: 'call',
        className: 'Solution',
        fnName: 'twoSum',
        inputs: [[[2, 7, 11, 15], 9]],
        outputs: [[0, 1]],
      },
    });
    expect(cls.outcome).toBe('pass');
    const cjs = await run({
      program: 'module.exports = { half: (x) => x / 2 };',
      tests: { kind: 'call', fnName: 'half', inputs: [[1]], outputs: [0.5] },
    });
    expect(cjs.outcome).toBe('pass');
    const esm = await run({
      program: 'export function inv(x) { return 1 / x; }\nexport const nan = () => NaN;',
      tests: { kind: 'call', fnName: 'inv', inputs: [[0], [-1]], outputs: [Number.POSITIVE_INFINITY, -1] },
    });
    expect(esm.outcome).toBe('pass');
    const nan = await run({
      program: 'export const nan = () => [NaN, undefined];',
      tests: { kind: 'call', fnName: 'nan', inputs: [[]], outputs: [[Number.NaN, null]] },
    });
    expect(nan.outcome).toBe('pass');
  });

  it('awaits async candidates, with virtual timers', async () => {
    const r = await run({
      program: 'async function slow(x) { await new Promise((r) => setTimeout(r, 1000)); return x + 1; }',
      tests: { kind: 'call', fnName: 'slow', inputs: [[1]], outputs: [2] },
    });
    expect(r.outcome).toBe('pass');
  });

  it('accepts TypeScript candidates', async () => {
    const r = await run({
      language: 'typescript',
      program:
        'interface P { x: number }\nfunction norm(p: P): number {\n  return Math.abs(p.x as number);\n}\n',
      tests: { kind: 'call', fnName: 'norm', inputs: [[{ x: -3 }]], outputs: [3] },
    });
    expect(r.outcome).toBe('pass');
  });

  it('shares one context across call tests by default, or gives each test its own', async () => {
    const request: ExecutionRequest = {
      program: 'let calls = 0; function count() { return ++calls; }',
      tests: { kind: 'call', fnName: 'count', inputs: [[], [], []], outputs: [1, 2, 3] },
    };
    expect((await run(request)).outcome).toBe('pass');
    const isolated = createJsExecutor({ poolSize: 1, shareCallContext: false });
    try {
      const r = await isolated.run(request);
      expect(r.tests.map((t) => t.actual ?? 1)).toEqual([1, 1, 1]);
    } finally {
      await isolated.dispose();
    }
  });

  it('starts a fresh context after a test that timed out', async () => {
    const r = await run({
      program: 'let state = 0; function f(x) { state++; if (x === 1) for (;;) {} return state; }',
      tests: { kind: 'call', fnName: 'f', inputs: [[0], [1], [0]], outputs: [1, 0, 1] },
      limits: { timeoutMs: 200 },
    });
    expect(r.tests.map((t) => t.outcome)).toEqual(['pass', 'timeout', 'pass']);
  });
});

describe('assertion tests', () => {
  it('passes when the case finishes and fails on assert / console.assert', async () => {
    const r = await run({
      program: 'function add(a, b) { return a + b; }',
      tests: {
        kind: 'assert',
        entryPoint: 'add',
        cases: [
          "const assert = require('node:assert');\nfunction test() { const candidate = add; assert.deepEqual(candidate(1, 2), 3); }\ntest();",
          'assert.strictEqual(add(1, 2), 4)',
          'console.assert(add(2, 2) === 5, "two plus two")',
          'assert.throws(() => { throw new TypeError("x") }, TypeError); assert.ok(add(0, 1)); assert.equal(add("1", 0), "10");',
          'undefinedFunction()',
        ],
      },
    });
    expect(r.tests.map((t) => t.outcome)).toEqual([
      'pass',
      'wrong_answer',
      'wrong_answer',
      'pass',
      'runtime_error',
    ]);
    expect(r.tests[1]!.message).toContain('strictly equal');
    expect(r.tests[2]!.message).toContain('two plus two');
  });

  it('runs setup before each case and reports a missing entry point', async () => {
    const r = await run({
      program: 'const twice = (x) => 2 * x;',
      tests: { kind: 'assert', setup: 'const K = 21;', cases: ['assert.strictEqual(twice(K), 42)'] },
    });
    expect(r.outcome).toBe('pass');
    const missing = await run({
      program: 'const twice = (x) => 2 * x;',
      tests: { kind: 'assert', entryPoint: 'thrice', cases: ['thrice(1)'] },
    });
    expect(missing.outcome).toBe('runtime_error');
    expect(missing.message).toContain("entry point 'thrice' is not defined");
  });
});

describe('HumanEval-style fixtures', () => {
  it('every canonical solution passes and every broken copy fails, in call and assertion form', async () => {
    for (const p of PROBLEMS) {
      const good = await run({ program: p.program, tests: p.call });
      expect(good.outcome, `${p.id} call`).toBe('pass');
      const goodAssert = await run({ program: p.program, tests: asAssert(p), coverage: true });
      expect(goodAssert.outcome, `${p.id} assert`).toBe('pass');
      expect(goodAssert.coverage?.lines.length, `${p.id} coverage`).toBeGreaterThan(0);
      const bad = await run({ program: p.broken, tests: p.call });
      expect(bad.outcome, `${p.id} broken call`).toBe('wrong_answer');
      const badAssert = await run({ program: p.broken, tests: asAssert(p) });
      expect(badAssert.outcome, `${p.id} broken assert`).toBe('wrong_answer');
    }
  });
});

describe('budgets and early stop', () => {
  const program = 'const id = (x) => (x === 2 ? -1 : x);';
  const tests = {
    kind: 'call' as const,
    fnName: 'id',
    inputs: [[0], [1], [2], [3], [4]],
    outputs: [0, 1, 2, 3, 4],
  };

  it('caps tests with first N or a seeded sample', async () => {
    const first = await run({ program, tests, testBudget: { first: 2 } });
    expect(first).toMatchObject({ outcome: 'pass', passed: 2, total: 2 });
    const a = await run({ program, tests, testBudget: { sample: 3, seed: 7 } });
    const b = await run({ program, tests, testBudget: { sample: 3, seed: 7 } });
    expect(a.tests.map((t) => t.index)).toEqual(b.tests.map((t) => t.index));
    expect(a.total).toBe(3);
  });

  it('stops at the first failure unless coverage is on', async () => {
    const stop = await run({ program, tests, stopOnFirstFailure: true });
    expect(stop).toMatchObject({ outcome: 'wrong_answer', passed: 2, total: 5 });
    expect(stop.tests).toHaveLength(3);
    const covered = await run({ program, tests, stopOnFirstFailure: true, coverage: true });
    expect(covered.tests).toHaveLength(5);
    expect(covered.coverage?.lines).toEqual([1]);
  });
});

describe('registry and options', () => {
  it('registers as executor js and validates options with their path', async () => {
    expect(registry.list('executor')).toContain('js');
    const ex = await registry.create('executor', 'js', { poolSize: 1 });
    expect(ex.name).toBe('js');
    expect(ex.languages).toEqual(['javascript', 'typescript']);
    await ex.dispose();
    await expect(registry.create('executor', 'js', { poolSize: 0 })).rejects.toThrow(/poolSize/);
    expect(() => createJsExecutor({ allow: { net: true } } as never)).toThrow(/allow/);
    expect(createRegistry().list('executor')).toEqual([]);
  });

  it('exposes only the granted env and files', async () => {
    const ex = createJsExecutor({
      poolSize: 1,
      allow: { env: { MODE: 'test' }, files: { '/data.txt': 'hello' } },
    });
    try {
      const r = await ex.run(
        stdio(
          "console.log(process.env.MODE, require('fs').readFileSync('/data.txt', 'utf8'), process.env.HOME)",
          [['', 'test hello undefined']],
        ),
      );
      expect(r.outcome).toBe('pass');
    } finally {
      await ex.dispose();
    }
  });
});

describe('reproducibility', () => {
  it('Math.random draws the same sequence in every run', async () => {
    const request: ExecutionRequest = {
      program: 'console.log([1, 2, 3].map(() => Math.random()).join(" "));',
      tests: { kind: 'stdio', cases: [{ input: '', output: '' }] },
    };
    const a = await run(request);
    const b = await run(request);
    expect(a.tests[0]!.stdout).toBe(b.tests[0]!.stdout);
    const values = a.tests[0]!.stdout!.trim().split(' ').map(Number);
    expect(new Set(values).size).toBe(3);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});
