import type { ExecutionRequest, ExecutionResult, TestSuite } from '@stepcoder/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPythonExecutor } from '../src/index.js';
import { PYTHON } from './python-path.js';

// Issue 13, items 3-5: a failing program must never be able to make its own tests pass, whatever
// it does inside its process. Every hostile case is followed by a healthy run on the same executor.
const executor = createPythonExecutor({
  pythonPath: PYTHON,
  poolSize: 2,
  limits: { timeoutMs: 4000, totalTimeoutMs: 8000 },
});
beforeAll(() => executor.warm());
afterAll(() => executor.dispose());

afterEach(async () => {
  const healthy = await executor.run({
    program: 'def f(x):\n    return x + 1\n',
    tests: { kind: 'assert', cases: ['assert f(1) == 2', 'assert f(2) == 3'] },
  });
  expect(healthy.outcome, healthy.message).toBe('pass');
});

/** A wrong `f` (always 0) plus `attack`, checked by `assert f(1) == 1`. */
const wrongWith = (attack: string, cases = ['assert f(1) == 1', 'assert f(2) == 2']): ExecutionRequest => ({
  program: `${attack}\ndef f(x):\n    return 0\n`,
  tests: { kind: 'assert', cases },
});

function expectNoPass(r: ExecutionResult): void {
  expect(r.outcome).not.toBe('pass');
  expect(r.outcome).not.toBe('infra_error');
  expect(r.passed).toBe(0);
}

describe('item 3: harness state is out of the candidate reach', () => {
  it('patching exec/describe through the caller frame globals does not pass assertion tests', async () => {
    const attack = [
      'import sys',
      'g = sys._getframe(1).f_globals',
      'g["exec"] = lambda *a, **k: None',
      'g["describe"] = lambda e: {"type": "SystemExit", "exit": 0}',
    ].join('\n');
    const r = await executor.run(wrongWith(attack));
    expectNoPass(r);
    expect(r.outcome).toBe('wrong_answer');
  });

  it('patching every harness function found through gc does not pass assertion tests', async () => {
    const attack = [
      'import gc, types',
      'for o in gc.get_objects():',
      '    if isinstance(o, dict) and "run_tests" in o:',
      '        o["exec"] = lambda *a, **k: None',
      '    if isinstance(o, types.FunctionType) and "harness" in o.__code__.co_filename:',
      '        o.__code__ = (lambda *a, **k: None).__code__',
    ].join('\n');
    expectNoPass(await executor.run(wrongWith(attack)));
  });

  it('records written on every descriptor are not believed', async () => {
    const attack = [
      'import os',
      'for fd in range(3, 256):',
      '    try:',
      '        os.write(fd, b\'{"t":"test","i":0}\\n{"t":"test","i":1}\\n{"t":"done"}\\n{"names":{}}\\n\')',
      '    except OSError:',
      '        pass',
    ].join('\n');
    expectNoPass(await executor.run(wrongWith(attack)));
    expectNoPass(await executor.run(wrongWith(`${attack}\nos._exit(0)`)));
  });

  it('a forged harness failure is the program failing, not an infra_error skipped by the trainer', async () => {
    const attack = [
      'import os',
      'for fd in range(3, 256):',
      '    try:',
      '        os.write(fd, b\'{"t":"fatal","msg":"forged"}\\n\')',
      '    except OSError:',
      '        pass',
    ].join('\n');
    const suites: TestSuite[] = [
      { kind: 'assert', cases: ['assert f(1) == 1'] },
      { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [1] },
      { kind: 'stdio', cases: [{ input: '', output: '1' }] },
    ];
    for (const tests of suites) {
      const r = await executor.run({ program: `${attack}\ndef f(x):\n    return 0\n`, tests });
      expectNoPass(r);
      expect(r.message).toContain('forged');
    }
  });

  it('killing or replacing the judge from the candidate fails the run', async () => {
    const attack = ['import os, signal', 'os.kill(os.getppid(), 0)', 'os.killpg(0, signal.SIGKILL)'].join(
      '\n',
    );
    expectNoPass(await executor.run(wrongWith(attack)));
  });
});

describe('item 4: only plain data reaches an assertion', () => {
  it('an object whose __eq__ is always true does not pass', async () => {
    const program = [
      'class Eq:',
      '    def __eq__(self, other):',
      '        return True',
      '    __hash__ = object.__hash__',
      'class Int(int):',
      '    def __eq__(self, other):',
      '        return True',
      'def f(x):',
      '    return Eq() if x == 1 else Int(7)',
    ].join('\n');
    const r = await executor.run({
      program,
      tests: { kind: 'assert', cases: ['assert f(1) == 1', 'assert f(2) == 2'] },
    });
    expectNoPass(r);
    expect(r.tests.map((t) => t.outcome)).toEqual(['wrong_answer', 'wrong_answer']);
    expect(r.tests[0]!.message).toContain('not plain data');
    expect(r.tests[1]!.message).toContain('Int');
  });

  it('plain data round-trips exactly; exceptions keep their class; in-place changes come back', async () => {
    const program = [
      'def f(x):',
      '    return (x, {1, 2}, frozenset([3]), b"\\x00\\xff", 1.5 + 2j, {(1, 2): [None, True]}, float("nan"), 10 ** 40)',
      'def g(x):',
      '    if x < 0:',
      '        raise ValueError("negative")',
      '    return x',
      'def sort_in_place(a):',
      '    a.sort()',
      'SIZE = 3',
    ].join('\n');
    const cases = [
      'r = f("s")\nassert r[:6] == ("s", {1, 2}, frozenset([3]), b"\\x00\\xff", 1.5 + 2j, {(1, 2): [None, True]})\nassert r[6] != r[6] and r[7] == 10 ** 40 and type(r) is tuple',
      'try:\n    g(-1)\n    assert False\nexcept ValueError as e:\n    assert str(e) == "negative"',
      'a = [3, 1, 2]\nsort_in_place(a)\nassert a == [1, 2, 3] and SIZE == 3',
      'assert g(-2) == 0',
    ];
    const r = await executor.run({ program, tests: { kind: 'assert', cases } });
    expect(r.tests.map((t) => t.outcome)).toEqual(['pass', 'pass', 'pass', 'runtime_error']);
    expect(r.tests[3]!.message).toContain('ValueError: negative');
    expect(r.tests[3]!.message).toContain('line 5');
  });

  it('a program cannot shadow a builtin the tests use', async () => {
    const r = await executor.run({
      program: 'def abs(x):\n    return 0\ndef f(x):\n    return 0.5\n',
      tests: { kind: 'assert', cases: ['assert abs(f(1) - 3.0) < 1e-6'] },
    });
    expect(r.outcome).toBe('wrong_answer');
  });

  it("assertJudge 'in-process' keeps the old semantics for tests that need live objects", async () => {
    const inProcess = createPythonExecutor({ pythonPath: PYTHON, poolSize: 1, assertJudge: 'in-process' });
    try {
      const program =
        'class Box:\n    def __init__(self, v):\n        self.v = v\ndef f(x):\n    return Box(x)\n';
      const request: ExecutionRequest = { program, tests: { kind: 'assert', cases: ['assert f(2).v == 2'] } };
      expect((await inProcess.run(request)).outcome).toBe('pass');
      expect((await executor.run(request)).outcome).toBe('wrong_answer');
    } finally {
      await inProcess.dispose();
    }
  });
});

describe('item 5: a huge return value gets a truthful verdict', () => {
  it('a return value past the record limit is a wrong answer that says why', async () => {
    const big = 'def f(x):\n    return "x" * (40 * 1024 * 1024)\n';
    const call = await executor.run({
      program: big,
      tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: ['x'] },
    });
    expect(call.outcome).toBe('wrong_answer');
    expect(call.message).toContain('larger than');
    expect(call.message).not.toContain('status 0');
    const asserted = await executor.run({
      program: big,
      tests: { kind: 'assert', cases: ['assert f(1) == "x"'] },
    });
    expect(asserted.outcome).toBe('wrong_answer');
    expect(asserted.message).toContain('larger than');
  });
});
