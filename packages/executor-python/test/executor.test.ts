import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import {
  createRegistry,
  type ExecutionRequest,
  registry,
  StepcoderError,
  selectTests,
  ValidationError,
} from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createPythonExecutor, ensurePython } from '../src/index.js';
import { PYTHON } from './python-path.js';

const executor = createPythonExecutor({ pythonPath: PYTHON, poolSize: 2 });
const niceness = () => execFileSync('sh', ['-c', 'nice'], { encoding: 'utf8' }).trim();
afterAll(() => executor.dispose());

describe('test forms', () => {
  it('stdio: APPS comparison rules (whitespace, tokens, numeric tolerance)', async () => {
    const r = await executor.run({
      program: 'a, b = map(float, input().split())\nprint(a / b, "  ")\nprint()\n',
      tests: {
        kind: 'stdio',
        cases: [
          { input: '1 3', output: '0.333333' },
          { input: '4 2', output: '2.0\n\n' },
          { input: '1 2', output: '0.6' },
        ],
      },
    });
    expect(r.tests.map((t) => t.outcome)).toEqual(['pass', 'pass', 'wrong_answer']);
    expect(r.outcome).toBe('wrong_answer');
    expect(r.passed).toBe(2);
    expect(r.message).toContain('test 2');
  });

  it('stdio: sys.stdin.read, open(0) and input() all see the test input', async () => {
    const r = await executor.run({
      program: 'import sys\nfirst = input()\nrest = sys.stdin.read()\nprint(first, rest.split())\n',
      tests: { kind: 'stdio', cases: [{ input: 'a\nb c\n', output: "a ['b', 'c']" }] },
    });
    expect(r.outcome).toBe('pass');
    const r0 = await executor.run({
      program: 'print(sum(map(int, open(0).read().split())))\n',
      tests: { kind: 'stdio', cases: [{ input: '1 2 3', output: '6' }] },
    });
    expect(r0.outcome).toBe('pass');
  });

  it('call: plain function, APPS one-element wrapping, NaN/inf and tuples', async () => {
    const r = await executor.run({
      program:
        'def f(x, y):\n    return [x + y, (x, y), float("nan"), float("inf")]\ndef g(x):\n    return x * 2\n',
      tests: {
        kind: 'call',
        fnName: 'f',
        inputs: [[1, 2]],
        outputs: [[3, [1, 2], Number.NaN, Number.POSITIVE_INFINITY]],
      },
    });
    expect(r.outcome).toBe('pass');
    expect(r.tests[0]!.actual).toEqual([3, [1, 2], Number.NaN, Number.POSITIVE_INFINITY]);
    const wrapped = await executor.run({
      program: 'def g(x):\n    return x * 2\n',
      tests: { kind: 'call', fnName: 'g', inputs: [[2], [Number.NaN]], outputs: [[4], Number.NaN] },
    });
    expect(wrapped.outcome).toBe('pass');
  });

  it("call: compared with Python's == (True == 1, 2 == 2.0), as APPS does", async () => {
    // The shape of 2 of 484 held-out APPS+ canonical solutions: True/False against [1]/[0].
    const r = await executor.run({
      program: 'def is_even(n):\n    return n % 2 == 0\ndef half(n):\n    return n / 2\n',
      tests: { kind: 'call', fnName: 'is_even', inputs: [[4], [3]], outputs: [[1], [0]] },
    });
    expect(r.outcome, r.message).toBe('pass');
    expect(r.tests.map((t) => t.actual)).toEqual([true, false]);
    const wrong = await executor.run({
      program: 'def is_even(n):\n    return n % 2 == 0\n',
      tests: { kind: 'call', fnName: 'is_even', inputs: [[3]], outputs: [[1]] },
    });
    expect(wrong.outcome).toBe('wrong_answer');
    const floats = await executor.run({
      program: 'def half(n):\n    return n / 2\n',
      tests: { kind: 'call', fnName: 'half', inputs: [[4]], outputs: [2] },
    });
    expect(floats.outcome).toBe('pass');
  });

  it('call: big integers and unicode strings round-trip', async () => {
    const r = await executor.run({
      program: 'def f(n, s):\n    return [len(str(10 ** n)), s[::-1]]\n',
      tests: { kind: 'call', fnName: 'f', inputs: [[5000, 'héllo 🌍']], outputs: [[5001, '🌍 olléh']] },
    });
    expect(r.outcome, r.message).toBe('pass');
  });

  it('call: LeetCode-style className().fnName(*args)', async () => {
    const r = await executor.run({
      program:
        'from typing import List\nclass Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n        for i, n in enumerate(nums):\n            if target - n in seen:\n                return [seen[target - n], i]\n            seen[n] = i\n',
      tests: {
        kind: 'call',
        fnName: 'twoSum',
        className: 'Solution',
        inputs: [
          [[2, 7, 11, 15], 9],
          [[3, 3], 6],
        ],
        outputs: [
          [0, 1],
          [0, 1],
        ],
      },
    });
    expect(r.outcome).toBe('pass');
  });

  it('assert: setup runs first, cases share the namespace; AssertionError is a wrong answer', async () => {
    const r = await executor.run({
      program: 'def inc(x):\n    return x + OFFSET\n',
      tests: {
        kind: 'assert',
        setup: 'OFFSET = 1',
        cases: ['assert inc(1) == 2', 'assert inc(2) == 4', '1 / 0'],
      },
    });
    expect(r.tests.map((t) => t.outcome)).toEqual(['pass', 'wrong_answer', 'runtime_error']);
    expect(r.tests[2]!.message).toContain('ZeroDivisionError');
  });

  it('runtime errors name the exception and the candidate line', async () => {
    const r = await executor.run({
      program: 'def f(x):\n    y = [1, 2]\n    return y[x]\n',
      tests: { kind: 'call', fnName: 'f', inputs: [[5]], outputs: [1] },
    });
    expect(r.outcome).toBe('runtime_error');
    expect(r.message).toContain('IndexError');
    expect(r.message).toContain('line 3');
  });

  it('an exception at module level fails every test', async () => {
    const r = await executor.run({
      program: 'raise RuntimeError("boom")\ndef f(x):\n    return x\n',
      tests: { kind: 'call', fnName: 'f', inputs: [[1], [2]], outputs: [1, 2] },
    });
    expect(r.outcome).toBe('runtime_error');
    expect(r.tests).toHaveLength(2);
    expect(r.message).toContain('boom');
  });
});

describe('APPS+ sample (real data)', () => {
  const HEADER = [
    'import sys, math, heapq, bisect, itertools, functools, collections, string, random, re',
    'from typing import *',
    'from collections import *',
    'from itertools import *',
    'from functools import *',
    'from heapq import *',
    'from bisect import *',
  ].join('\n');
  const problems = ['train.json', 'valid.json'].flatMap(
    (file) =>
      JSON.parse(readFileSync(new URL(`./fixtures/apps-plus/${file}`, import.meta.url), 'utf8')) as Array<{
        canonical_solution: string;
        starter_code: string;
        inputs: string[];
        outputs: string[];
      }>,
  );

  it('every canonical solution passes with the import header and the solution call', async () => {
    const results = await Promise.all(
      problems.map((p) => {
        const fn = /def\s+(\w+)\s*\(/.exec(p.starter_code)![1]!;
        return executor.run({
          preamble: HEADER,
          program: p.canonical_solution,
          epilogue: `${fn}()`,
          tests: { kind: 'stdio', cases: p.inputs.map((input, i) => ({ input, output: p.outputs[i]! })) },
          limits: { timeoutMs: 10_000 },
        });
      }),
    );
    expect(problems).toHaveLength(32);
    expect(results.map((r) => `${r.outcome} ${r.message ?? ''}`)).toEqual(problems.map(() => 'pass '));
  }, 60_000);
});

describe('budgets, stopping and determinism', () => {
  const many: ExecutionRequest = {
    program: 'def f(x):\n    return x if x % 3 else -1\n',
    tests: {
      kind: 'call',
      fnName: 'f',
      inputs: Array.from({ length: 12 }, (_, i) => [i + 1]),
      outputs: Array.from({ length: 12 }, (_, i) => i + 1),
    },
  };

  it('testBudget: first N and a seeded sample', async () => {
    const first = await executor.run({ ...many, testBudget: { first: 2 } });
    expect(first.total).toBe(2);
    expect(first.outcome).toBe('pass');
    const sample = await executor.run({ ...many, testBudget: { sample: 5, seed: 7 } });
    expect(sample.total).toBe(5);
    expect(sample.tests.map((t) => t.index)).toEqual(selectTests(12, { sample: 5, seed: 7 }));
    expect(selectTests(12, { sample: 5, seed: 7 })).toEqual(selectTests(12, { sample: 5, seed: 7 }));
    expect(selectTests(12, { sample: 5, seed: 8 })).not.toEqual(selectTests(12, { sample: 5, seed: 7 }));
  });

  it('maxTestsDefault caps requests without a budget', async () => {
    const capped = createPythonExecutor({ pythonPath: PYTHON, poolSize: 1, maxTestsDefault: 3 });
    try {
      const r = await capped.run(many);
      expect(r.total).toBe(3);
    } finally {
      await capped.dispose();
    }
  });

  it('stopOnFirstFailure skips the rest', async () => {
    const r = await executor.run({ ...many, stopOnFirstFailure: true });
    expect(r.outcome).toBe('wrong_answer');
    expect(r.total).toBe(12);
    expect(r.tests).toHaveLength(3);
    const all = await executor.run(many);
    expect(all.tests).toHaveLength(12);
    expect(all.passed).toBe(8);
  });

  it('the same request twice gives the same verdicts (set order included)', async () => {
    const request: ExecutionRequest = {
      program: 'print(list({"apple", "kiwi", "fig", "plum", "pear"}))\n',
      tests: { kind: 'stdio', cases: [{ input: '', output: '?' }] },
    };
    const a = await executor.run(request);
    const b = await executor.run(request);
    const strip = (r: typeof a) => r.tests.map((t) => [t.index, t.outcome, t.stdout]);
    expect(strip(a)).toEqual(strip(b));
    const c = await executor.run({ ...many, coverage: true });
    const d = await executor.run({ ...many, coverage: true });
    expect(c.tests.map((t) => t.outcome)).toEqual(d.tests.map((t) => t.outcome));
    expect(c.coverage).toEqual(d.coverage);
  });
});

describe('infrastructure', () => {
  it('a missing interpreter is PYTHON_UNAVAILABLE naming the path', async () => {
    const broken = createPythonExecutor({ pythonPath: '/nonexistent/python3' });
    const err = await broken
      .run({ program: 'print(1)', tests: { kind: 'stdio', cases: [] } })
      .catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'PYTHON_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('/nonexistent/python3');
    await expect(ensurePython('/nonexistent/python3')).rejects.toThrow(/not found/);
    await broken.dispose();
  });

  const python37 = '/root/.pyenv/versions/3.7.16/bin/python3';
  it.skipIf(!existsSync(python37))('an interpreter older than 3.8 is PYTHON_UNAVAILABLE', async () => {
    await expect(ensurePython(python37)).rejects.toMatchObject({ code: 'PYTHON_UNAVAILABLE' });
    await expect(ensurePython(python37)).rejects.toThrow(/3\.7\.16, which is too old/);
  });

  it('is registered as executor "python"; creation validates options and checks python', async () => {
    expect(registry.list('executor')).toContain('python');
    const created = await registry.create('executor', 'python', { pythonPath: PYTHON, poolSize: 1 });
    try {
      expect(created.name).toBe('python');
      expect(created.specificationVersion).toBe('v1');
      const r = await created.run({
        program: 'print(2)',
        tests: { kind: 'stdio', cases: [{ input: '', output: '2' }] },
      });
      expect(r.outcome).toBe('pass');
    } finally {
      await created.dispose();
    }
    await expect(
      registry.create('executor', 'python', { pythonPath: '/nonexistent/python3' }),
    ).rejects.toMatchObject({
      code: 'PYTHON_UNAVAILABLE',
    });
    await expect(registry.create('executor', 'python', { poolSize: 0 } as never)).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(createRegistry().list('executor')).toEqual([]);
  });

  it('starts workers through a wrapper command prefix', async () => {
    // `nice -n 1 python …`: a real prefix, standing in for bwrap/nsjail (not installed here).
    const wrapped = createPythonExecutor({ pythonPath: PYTHON, poolSize: 1, wrapper: ['nice', '-n', '1'] });
    try {
      const r = await wrapped.run({
        program: 'import os\nprint(os.nice(0))\n',
        tests: { kind: 'stdio', cases: [{ input: '', output: String(Number(niceness()) + 1) }] },
      });
      expect(r.outcome, r.message).toBe('pass');
    } finally {
      await wrapped.dispose();
    }
  });

  it('invalid options name the option path', () => {
    expect(() => createPythonExecutor({ poolSize: -1 })).toThrow(/poolSize/);
    expect(() => createPythonExecutor({ limits: { memoryMb: 1 } })).toThrow(/limits\.memoryMb/);
    expect(() => createPythonExecutor({ nope: true } as never)).toThrow(ValidationError);
  });

  it('a worker killed mid-run is an infra_error; the pool replaces it', async () => {
    const own = createPythonExecutor({ pythonPath: PYTHON, poolSize: 1 });
    try {
      await own.warm();
      const pool = await own.pool();
      const [workerPid] = pool.workerPids();
      const running = own.run({
        program: 'import time\ndef f(x):\n    time.sleep(2)\n    return x\n',
        tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [1] },
      });
      // Kill once the pool has handed the job to the worker (not on a timer: under load a fixed
      // delay could fire before dispatch, and the job would then run on the replacement).
      const deadline = Date.now() + 10_000;
      while (pool.stats().busy === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(pool.stats().busy).toBe(1);
      process.kill(workerPid!, 'SIGKILL');
      const r = await running;
      expect(r.outcome).toBe('infra_error');
      expect(r.message).toMatch(/worker/);
      const next = await own.run({
        program: 'print(1)',
        tests: { kind: 'stdio', cases: [{ input: '', output: '1' }] },
      });
      expect(next.outcome).toBe('pass');
      expect(pool.stats().started).toBe(2);
      expect(pool.workerPids()).not.toContain(workerPid);
    } finally {
      await own.dispose();
    }
  });

  it('an AbortSignal stops a run with ABORTED', async () => {
    const controller = new AbortController();
    const running = executor.run({
      program: 'while True:\n    pass\n',
      tests: { kind: 'stdio', cases: [{ input: '', output: '' }] },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('dispose is idempotent and stops every worker', async () => {
    const own = createPythonExecutor({ pythonPath: PYTHON, poolSize: 2 });
    await own.warm();
    const pids = (await own.pool()).workerPids();
    expect(pids).toHaveLength(2);
    await own.dispose();
    await own.dispose();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(own.run({ program: '', tests: { kind: 'stdio', cases: [] } })).rejects.toThrow(/disposed/);
  });

  it('runs many programs concurrently through a small pool, results in order', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        executor.run({
          program: `print(${i} * 2)`,
          tests: { kind: 'stdio', cases: [{ input: '', output: String(i * 2) }] },
        }),
      ),
    );
    expect(results.every((r) => r.outcome === 'pass')).toBe(true);
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i * 2)));
  });
});
