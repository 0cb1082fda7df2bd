import type { CallTests, ExecutionRequest, ExecutionResult } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsExecutor } from '../src/index.js';

// One executor for the whole file, one isolate: every hostile run is followed by a healthy one
// through the same pool, which must still work.
const executor = createJsExecutor({ poolSize: 1, limits: { timeoutMs: 300, memoryMb: 64 } });
afterAll(() => executor.dispose());

const ADD: CallTests = {
  kind: 'call',
  fnName: 'add',
  inputs: [
    [1, 2],
    [2, 2],
  ],
  outputs: [3, 4],
};

async function thenHealthy(result: Promise<ExecutionResult>): Promise<ExecutionResult> {
  const r = await result;
  const next = await executor.run({ program: 'function add(a, b) { return a + b; }', tests: ADD });
  expect(next.outcome).toBe('pass');
  return r;
}

const call = (program: string, extra: Partial<ExecutionRequest> = {}) =>
  thenHealthy(executor.run({ program, tests: ADD, ...extra }));

describe('hostile candidates', () => {
  it('infinite loop → timeout', async () => {
    const r = await call('function add(a, b) { while (true) {} }');
    expect(r.outcome).toBe('timeout');
    expect(r.message).toContain('timeoutMs (300 ms)');
  });

  it('infinite loop at top level and in microtasks → timeout', async () => {
    expect((await call('for (;;) {}')).outcome).toBe('timeout');
    expect((await call('(async () => { for (;;) await null; })(); function add() {}')).outcome).toBe(
      'timeout',
    );
  });

  it('a program over totalTimeoutMs stops with timeout', async () => {
    const r = await call(
      'function add(a, b) { const t = Date.now(); while (Date.now() - t < 200) {} return a + b; }',
      {
        limits: { timeoutMs: 1000, totalTimeoutMs: 300 },
      },
    );
    expect(r.outcome).toBe('timeout');
    expect(r.message).toContain('totalTimeoutMs');
  });

  it('deep recursion → runtime_error (RangeError)', async () => {
    const r = await call('function add(a, b) { return add(a, b) + 1; }');
    expect(r.outcome).toBe('runtime_error');
    expect(r.message).toContain('RangeError: Maximum call stack size exceeded');
  });

  it('memory bomb → memory_limit, and the isolate is replaced', async () => {
    const r = await call('function add() { const a = []; for (;;) a.push(new Array(1e5).fill(1.5)); }', {
      limits: { timeoutMs: 10000 },
    });
    expect(r.outcome).toBe('memory_limit');
    expect(r.tests).toHaveLength(2);
    expect(r.tests.every((t) => t.outcome === 'memory_limit')).toBe(true);
  });

  it('string doubling hits the engine limit as a runtime error', async () => {
    const r = await call('function add() { let s = "x"; for (;;) s += s; }', {
      limits: { timeoutMs: 10000 },
    });
    expect(['runtime_error', 'memory_limit']).toContain(r.outcome);
  });

  it('huge output is cut at maxOutputBytes and flagged', async () => {
    const r = await thenHealthy(
      executor.run({
        program: 'for (let i = 0; i < 1e5; i++) console.log("spam spam spam spam");',
        tests: { kind: 'stdio', cases: [{ input: '', output: 'x' }] },
        limits: { maxOutputBytes: 1000 },
      }),
    );
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(1000);
    expect(r.outcome).toBe('runtime_error');
    expect(r.reason).toBe('output_limit');
  });

  it('process.exit(0) before the tests never passes', async () => {
    const r = await call('process.exit(0); function add(a, b) { return a + b; }');
    expect(r.outcome).toBe('runtime_error');
    expect(r.message).toContain('process.exit(0)');
    const caught = await call('try { process.exit(0); } catch {} function add(a, b) { return a + b; }');
    expect(caught.outcome).toBe('runtime_error');
  });

  it('process.exit(0) during a test never passes (call and assertion tests)', async () => {
    const r = await call('function add(a, b) { process.exit(0); }');
    expect(r.outcome).toBe('runtime_error');
    const a = await thenHealthy(
      executor.run({
        program: 'function add(a, b) { try { process.exit(0); } finally { return a - b; } }',
        tests: { kind: 'assert', cases: ['assert.strictEqual(add(1, 2), 3)'] },
      }),
    );
    expect(a.outcome).toBe('runtime_error');
    expect(a.message).toContain('process.exit');
  });

  it('host access is denied: require, fetch, env, host globals', async () => {
    const program = `
const probes = {
  fs: () => require('fs').readFileSync('/etc/passwd', 'utf8'),
  write: () => require('fs').writeFileSync('/tmp/x', 'y'),
  child: () => require('child_process').execSync('id'),
  net: () => require('http'),
  fetch: () => fetch('http://example.com'),
  env: () => { if (Object.keys(process.env).length) return 'leak'; throw new Error('empty'); },
  home: () => { if (process.env.HOME !== undefined || process.env.PATH !== undefined) return 'leak'; throw new Error('none'); },
  buffer: () => Buffer.from('x'),
  binding: () => process.binding('fs'),
  ctor: () => (function () {}).constructor('return process.mainModule')().require('fs'),
};
const out = [];
for (const [k, f] of Object.entries(probes)) { try { f(); out.push(k + ':allowed'); } catch (e) { out.push(k + ':denied'); } }
console.log(out.join(' '));`;
    const r = await thenHealthy(
      executor.run({ program, tests: { kind: 'stdio', cases: [{ input: '', output: '' }] } }),
    );
    expect(r.tests[0]!.stdout).toBe(
      'fs:denied write:denied child:denied net:denied fetch:denied env:denied home:denied buffer:denied binding:denied ctor:denied\n',
    );
  });

  it('non-UTF-8 bytes and lone surrogates on stdout become U+FFFD', async () => {
    const r = await thenHealthy(
      executor.run({
        program: 'process.stdout.write(new Uint8Array([0xff, 0xfe, 0x41, 0x0a])); console.log("a\\ud800b");',
        tests: { kind: 'stdio', cases: [{ input: '', output: '\ufffd\ufffdA\na\ufffdb' }] },
      }),
    );
    expect(r.tests[0]!.stdout).toBe('\ufffd\ufffdA\na\ufffdb\n');
    expect(r.outcome).toBe('pass');
  });

  it('syntax errors → compile_error (JavaScript and TypeScript)', async () => {
    const r = await call('function add(a, b) { return a + ; }');
    expect(r.outcome).toBe('compile_error');
    expect(r.message).toContain('SyntaxError');
    const ts = await call('function add(a: number, b: number { return a + b }', { language: 'typescript' });
    expect(ts.outcome).toBe('compile_error');
  });

  it('patching console, JSON, Object.prototype or Array.prototype never changes the verdict', async () => {
    const patches = [
      'console.log = () => {}; console.assert = () => {};',
      'JSON.stringify = () => "3"; JSON.parse = () => 3;',
      'Object.prototype.toJSON = function () { return 3; };',
      'Array.prototype.map = function () { return [3]; }; Array.prototype.every = () => true;',
      'Object.defineProperty(Object.prototype, "outcome", { get() { return "pass"; } });',
      'globalThis.assert = { strictEqual() {}, deepStrictEqual() {}, ok() {} }; var console = { assert() {} };',
    ];
    for (const patch of patches) {
      const wrong = `${patch}\nfunction add(a, b) { return a * b; }`;
      const c = await call(wrong);
      expect(c.outcome, patch).toBe('wrong_answer');
      const a = await thenHealthy(
        executor.run({
          program: wrong,
          tests: {
            kind: 'assert',
            cases: [
              'assert.strictEqual(add(1, 2), 3)',
              'console.assert(JSON.stringify([add(1, 2)].map((x) => x)) === JSON.stringify([3]))',
            ],
          },
        }),
      );
      expect(a.tests.map((t) => t.outcome).includes('pass'), patch).toBe(false);
      const s = await thenHealthy(
        executor.run({
          program: `${patch}\nconsole.log(2);`,
          tests: { kind: 'stdio', cases: [{ input: '', output: '3' }] },
        }),
      );
      expect(s.outcome, patch).not.toBe('pass');
    }
  });

  it('shadowing a built-in with a top-level declaration is caught in assertion tests', async () => {
    const r = await thenHealthy(
      executor.run({
        program: 'const JSON = { stringify: () => "same" }; function add(a, b) { return 0; }',
        tests: {
          kind: 'assert',
          cases: ['if (JSON.stringify(add(1, 2)) !== JSON.stringify(3)) throw new Error("no")'],
        },
      }),
    );
    expect(r.outcome).toBe('runtime_error');
    expect(r.message).toContain("'JSON'");
  });

  it('a thrown object with a looping getter cannot hang the executor', async () => {
    const r = await call('throw { get message() { for (;;) {} } };');
    expect(r.outcome).toBe('timeout');
  });

  it('missing fnName → runtime_error naming it', async () => {
    const r = await call('function plus(a, b) { return a + b; }');
    expect(r.outcome).toBe('runtime_error');
    expect(r.message).toContain("function 'add' is not defined");
    const cls = await thenHealthy(
      executor.run({
        program: 'class Solution {}',
        tests: { kind: 'call', className: 'Solution', fnName: 'solve', inputs: [[]], outputs: [1] },
      }),
    );
    expect(cls.message).toContain("method 'solve' is not defined");
  });

  it('malformed tests → infra_error with a clear message, never a reward', async () => {
    const bad = [
      { kind: 'call', fnName: 'add', inputs: [1], outputs: [1] },
      { kind: 'call', fnName: 'add', inputs: [[1]], outputs: [] },
      { kind: 'stdio', cases: [{ input: 1, output: '1' }] },
      { kind: 'weird' },
    ];
    for (const tests of bad) {
      const r = await thenHealthy(executor.run({ program: 'function add() {}', tests: tests as never }));
      expect(r.outcome).toBe('infra_error');
      expect(r.message).toMatch(/tests/);
    }
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const c = await thenHealthy(
      executor.run({
        program: 'function add() {}',
        tests: { kind: 'call', fnName: 'add', inputs: [cyclic], outputs: [1] },
      }),
    );
    expect(c.outcome).toBe('infra_error');
    expect(c.message).toContain('tests.inputs[0] cannot be encoded as JSON');
    const python = await executor.run({ program: 'x', language: 'python', tests: ADD });
    expect(python.outcome).toBe('infra_error');
  });

  it('async candidates that never resolve → timeout', async () => {
    const r = await call('function add() { return new Promise(() => {}); }');
    expect(r.outcome).toBe('timeout');
    expect(r.message).toContain('never settled');
    const interval = await call(
      'async function add() { await new Promise((r) => setInterval(() => {}, 1)); }',
    );
    expect(interval.outcome).toBe('timeout');
  });

  it('a rejected promise is a runtime error', async () => {
    const r = await call('async function add() { throw new TypeError("nope"); }');
    expect(r.outcome).toBe('runtime_error');
    expect(r.message).toContain('TypeError: nope');
  });

  it('an aborted request is an infra_error', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await call('function add(a, b) { return a + b; }', { signal: controller.signal });
    expect(r.outcome).toBe('infra_error');
  });
});
