import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { ExecutionRequest, ExecutionResult } from '@stepcoder/core';
import { StepcoderError } from '@stepcoder/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPythonExecutor, type PythonPool } from '../src/index.js';
import { PYTHON } from './python-path.js';

// Set before the executor exists: if anything leaked the parent's environment, this would show.
process.env.STEPCODER_FAKE_SECRET = 'hunter2-do-not-leak';

const executor = createPythonExecutor({
  pythonPath: PYTHON,
  poolSize: 2,
  limits: { timeoutMs: 1500, totalTimeoutMs: 5000 },
});
let pool: PythonPool;

beforeAll(async () => {
  await executor.warm();
  pool = await executor.pool();
});
afterAll(() => executor.dispose());

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The python worker itself: with namespaces, the pool's pid is bwrap's and the worker sits below it. */
function pythonWorker(pid: number): number {
  for (;;) {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    const kids = childrenOf(pid);
    if (!cmd.endsWith('bwrap') || kids.length !== 1) return pid;
    pid = kids[0]!;
  }
}

// After every hostile program: the same pool still runs a good program, no worker was leaked
// and no candidate process survived (the workers have no children left).
afterEach(async () => {
  const good = await executor.run({
    program: 'def add(a, b):\n    return a + b\n',
    tests: { kind: 'call', fnName: 'add', inputs: [[1, 2]], outputs: [3] },
  });
  expect(good.outcome).toBe('pass');
  const pids = pool.workerPids();
  expect(pids.length).toBeLessThanOrEqual(2);
  for (const pid of pids) expect(childrenOf(pythonWorker(pid))).toEqual([]);
});

const call = (program: string, inputs: unknown[][] = [[1]], outputs: unknown[] = [1]): ExecutionRequest => ({
  program,
  tests: { kind: 'call', fnName: 'f', inputs, outputs },
});
const stdio = (program: string, input = '', output = 'ok'): ExecutionRequest => ({
  program,
  tests: { kind: 'stdio', cases: [{ input, output }] },
});
const asserts = (program: string, cases = ['assert f(1) == 1']): ExecutionRequest => ({
  program,
  tests: { kind: 'assert', cases },
});

function expectFail(r: ExecutionResult, outcome?: ExecutionResult['outcome']): void {
  expect(r.outcome).not.toBe('pass');
  expect(r.outcome).not.toBe('infra_error');
  expect(r.passed).toBe(0);
  if (outcome) expect(r.outcome).toBe(outcome);
}

describe('hangs', () => {
  it('kills an infinite loop at the wall timeout', async () => {
    const r = await executor.run(call('def f(x):\n    while True:\n        pass\n'));
    expectFail(r, 'timeout');
    expect(r.message).toContain('timeoutMs');
  });

  it('kills code that ignores SIGTERM/SIGINT and swallows KeyboardInterrupt', async () => {
    const program = [
      'import signal',
      'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
      'signal.signal(signal.SIGINT, signal.SIG_IGN)',
      'def f(x):',
      '    while True:',
      '        try:',
      '            while True:',
      '                pass',
      '        except BaseException:',
      '            pass',
    ].join('\n');
    expectFail(await executor.run(call(program)), 'timeout');
  });

  it('enforces totalTimeoutMs across many quick-but-slow tests', async () => {
    const r = await executor.run({
      ...call(
        'import time\ndef f(x):\n    time.sleep(0.4)\n    return x\n',
        [[1], [2], [3], [4]],
        [1, 2, 3, 4],
      ),
      limits: { timeoutMs: 1000, totalTimeoutMs: 1000 },
    });
    expect(r.outcome).toBe('timeout');
    expect(r.passed).toBeGreaterThan(0);
    expect(r.passed).toBeLessThan(4);
    expect(r.message).toContain('totalTimeoutMs');
  });
});

describe('resource limits', () => {
  it('stops deep recursion', async () => {
    const r = await executor.run(call('def f(x):\n    return f(x + 1) + 1\n'));
    expectFail(r, 'runtime_error');
    expect(r.message).toContain('RecursionError');
    // With the recursion limit lifted, 3.11 frames grow until memory, the C stack or time runs out.
    const lifted = await executor.run(
      call('import sys\nsys.setrecursionlimit(10**8)\ndef f(x):\n    return f(x + 1) + 1\n'),
    );
    expectFail(lifted);
    expect(['runtime_error', 'memory_limit', 'timeout']).toContain(lifted.outcome);
  });

  it('reports a numpy-free memory bomb as memory_limit (RLIMIT_AS)', async () => {
    const r = await executor.run({
      ...call('def f(x):\n    hog = []\n    while True:\n        hog.append(bytearray(8 * 1024 * 1024))\n'),
      // Generous wall time: touching 256 MiB takes seconds on a loaded machine.
      limits: { memoryMb: 256, timeoutMs: 15000, totalTimeoutMs: 20000 },
    });
    expectFail(r, 'memory_limit');
  });

  it('contains a fork bomb (RLIMIT_NPROC) and kills every process it made', async () => {
    const program = [
      'import os',
      'def f(x):',
      '    while True:',
      '        try:',
      '            os.fork()',
      '        except OSError:',
      '            pass',
    ].join('\n');
    const r = await executor.run({ ...call(program), limits: { timeoutMs: 1000 } });
    expectFail(r, 'timeout');
  });

  it('caps huge output and marks it truncated', async () => {
    const r = await executor.run({
      ...stdio('while True:\n    print("x" * 1000)\n'),
      limits: { maxOutputBytes: 10_000 },
    });
    expectFail(r, 'runtime_error');
    expect(r.reason).toBe('output_limit');
    expect(r.truncated).toBe(true);
    expect(r.tests[0]!.stdout!.length).toBeLessThanOrEqual(10_000);
    expect(r.tests[0]!.message).toContain('maxOutputBytes');
  });

  it('limits file size (RLIMIT_FSIZE)', async () => {
    const program =
      "def f(x):\n    with open('big.bin', 'wb') as fh:\n        fh.write(b'0' * (64 * 1024 * 1024))\n    return x\n";
    const r = await executor.run(call(program));
    expectFail(r, 'runtime_error');
    expect(r.message).toMatch(/File too large|EFBIG|Errno 27/);
  });

  it('decodes non-UTF-8 stdout with replacement characters', async () => {
    const r = await executor.run(
      stdio("import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe\\n')\n", '', 'ok \uFFFD\uFFFD'),
    );
    expect(r.tests[0]!.stdout).toBe('ok \uFFFD\uFFFD\n');
    expect(r.outcome).toBe('pass');
  });
});

describe('exiting never passes', () => {
  for (const exit of ['sys.exit(0)', 'exit(0)', 'os._exit(0)', 'quit()']) {
    it(`${exit} before the tests (call and assert)`, async () => {
      const program = `import os, sys\n${exit}\ndef f(x):\n    return x\n`;
      expectFail(await executor.run(call(program)), 'runtime_error');
      expectFail(await executor.run(asserts(program)), 'runtime_error');
    });

    it(`${exit} during a test (call and assert)`, async () => {
      const program = `import os, sys\ndef f(x):\n    ${exit}\n`;
      const r = await executor.run(call(program, [[1], [2]], [1, 2]));
      expectFail(r, 'runtime_error');
      expect(r.message).toMatch(/exit/i);
      expectFail(await executor.run(asserts(program)), 'runtime_error');
    });
  }

  it('os._exit(0) in a stdio program before printing fails; exit(0) after printing the answer passes', async () => {
    expectFail(await executor.run(stdio('import os\nos._exit(0)\nprint("ok")\n')));
    expectFail(await executor.run(stdio('import sys\nsys.exit(0)\nprint("ok")\n')), 'wrong_answer');
    expect((await executor.run(stdio('import sys\nprint("ok")\nsys.exit(0)\n'))).outcome).toBe('pass');
    expectFail(await executor.run(stdio('import sys\nprint("ok")\nsys.exit(3)\n')), 'runtime_error');
  });

  it('a candidate that closes the harness channel fails', async () => {
    expectFail(
      await executor.run(call('import os\nos.closerange(3, 4096)\ndef f(x):\n    return x\n')),
      'runtime_error',
    );
  });

  it('a candidate that forges harness records fails', async () => {
    const forge = [
      'import os',
      'for fd in range(3, 64):',
      '    try:',
      '        os.write(fd, b\'{"t":"test","i":0,"val":1}\\n{"t":"done"}\\n\')',
      '    except OSError:',
      '        pass',
      'os._exit(0)',
    ].join('\n');
    // The forged record carries no expected value the candidate could know, and the verdict of a
    // call test is the parent's comparison: forging `1` for expected `[5]` still fails.
    expectFail(await executor.run(call(forge, [[1]], [[5]])));
  });
});

describe('monkey-patching the harness', () => {
  it('patched print, json and builtins cannot change a call verdict', async () => {
    const program = [
      'import builtins, json',
      'json.dumps = lambda *a, **k: "[42]"',
      'json.encoder.encode_basestring_ascii = lambda s: \'"42"\'',
      'builtins.print = lambda *a, **k: None',
      'builtins.isinstance = lambda *a: True',
      'builtins.type = lambda *a: int',
      'builtins.len = lambda *a: 0',
      'def f(x):',
      '    return x + 1',
    ].join('\n');
    const r = await executor.run(call(program, [[1]], [42]));
    expectFail(r, 'wrong_answer');
    expect(r.tests[0]!.actual).toBe(2);
  });

  it('an object that equals everything is not a JSON value and does not pass a call test', async () => {
    const program = [
      'class Eq:',
      '    def __eq__(self, other):',
      '        return True',
      'class Int(int):',
      '    def __eq__(self, other):',
      '        return True',
      '    def __repr__(self):',
      '        return "42"',
      'def f(x):',
      '    return Eq() if x == 1 else Int(7)',
    ].join('\n');
    const r = await executor.run(call(program, [[1], [2]], [42, 42]));
    expectFail(r, 'wrong_answer');
    expect(r.tests[0]!.message).toContain('Eq');
    expect(r.tests[1]!.actual).toBe(7);
  });

  it('tampering with the coverage counters only loses that program its own coverage', async () => {
    // The counters backend keeps its hit list as a builtin the candidate can reach.
    const tamper = [
      ['clears the list', 'import builtins\nbuiltins._stepcoder_hits_.clear()'],
      ['fills it with junk', 'import builtins\nbuiltins._stepcoder_hits_[:] = ["x"] * 3 + [-5] * 100'],
      ['replaces it', 'import builtins\nbuiltins._stepcoder_hits_ = None'],
      ['deletes it', 'import builtins\ndel builtins._stepcoder_hits_'],
    ];
    const counted = createPythonExecutor({ pythonPath: PYTHON, poolSize: 1, coverageBackend: 'counters' });
    try {
      for (const [what, code] of tamper) {
        const program = `${code}\ndef f(x):\n    if x > 0:\n        return 1\n    return 0\n`;
        const r = await counted.run({ ...call(program, [[1], [-1]], [1, 0]), coverage: true });
        // The candidate's own code now fails (or runs with broken counts); the harness does not.
        expect(['pass', 'runtime_error'], what).toContain(r.outcome);
        expect(r.coverage, what).toBeDefined();
        for (const hits of Object.values(r.coverage!.lineHits ?? {})) expect(hits, what).toBeGreaterThan(0);
      }
      const healthy = await counted.run({
        ...call('def f(x):\n    if x > 0:\n        return 1\n    return 0\n', [[1], [-1]], [1, 0]),
        coverage: true,
      });
      expect(healthy.outcome).toBe('pass');
      expect(healthy.coverage!.lineHits).toEqual({ 1: 1, 2: 2, 3: 1, 4: 1 });
    } finally {
      await counted.dispose();
    }
  });

  it('a patched print cannot fake stdio output', async () => {
    const r = await executor.run(
      stdio('import builtins\nbuiltins.print = lambda *a, **k: None\nprint("ok")\n'),
    );
    expectFail(r, 'wrong_answer');
  });
});

describe('processes, environment and files', () => {
  it('os.system and subprocess run inside the limits, and their output is captured', async () => {
    const program = [
      'import os, subprocess',
      'os.system("echo from-shell")',
      'print(subprocess.run(["echo", "from-subprocess"], capture_output=True, text=True).stdout.strip())',
    ].join('\n');
    const r = await executor.run(stdio(program, '', 'from-shell\nfrom-subprocess'));
    expect(r.outcome).toBe('pass');
  });

  it('kills a daemon that escaped the process group with setsid', async () => {
    const program = [
      'import subprocess',
      'def f(x):',
      '    subprocess.Popen(["sleep", "300"], start_new_session=True)',
      '    return x',
    ].join('\n');
    const r = await executor.run(call(program));
    expect(r.outcome).toBe('pass');
    // afterEach checks that the workers have no child left: the daemon was killed and reaped.
  });

  it('scrubs the environment: no secret from the parent is visible', async () => {
    const r = await executor.run(stdio('import os\nprint(sorted(os.environ.items()))\n'));
    const out = r.tests[0]!.stdout!;
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('STEPCODER_FAKE_SECRET');
    expect(out).toContain("'PATH'");
  });

  it('runs in a fresh, empty temp dir that is removed afterwards', async () => {
    const program =
      'import os\nopen("scratch.txt", "w").write("x")\nprint(os.getcwd())\nprint(sorted(os.listdir(".")))\n';
    const a = await executor.run(stdio(program));
    const b = await executor.run(stdio(program));
    const [cwdA, listA] = a.tests[0]!.stdout!.trim().split('\n');
    const [cwdB] = b.tests[0]!.stdout!.trim().split('\n');
    expect(cwdA!.startsWith(tmpdir())).toBe(true);
    expect(cwdA).toContain('stepcoder-');
    expect(cwdA).not.toBe(cwdB);
    expect(listA).toBe("['scratch.txt']");
    expect(existsSync(cwdA!)).toBe(false);
  });

  it('when run as root, drops to an unprivileged user: no writes outside the temp dir', async () => {
    const info = pool.workerInfo();
    const program = [
      'import os',
      'try:',
      '    open("/etc/stepcoder-was-here", "w").write("x")',
      '    print("wrote")',
      'except OSError as e:',
      '    print("denied")',
      'print(os.getuid())',
    ].join('\n');
    const out = (await executor.run(stdio(program))).tests[0]!.stdout!.trim().split('\n');
    if (info?.runAs) {
      // Each worker slot runs its candidates as its own uid: 65534, 65532, … (see runAs).
      expect(out[0]).toBe('denied');
      const offset = 65534 - Number(out[1]);
      expect(offset % 2 === 0 && offset >= 0 && offset < 4).toBe(true);
    } else {
      // Not root: the candidate runs as this user; only the file-system permissions apply.
      expect(out[1]).toBe(String(process.getuid?.()));
    }
    expect(existsSync('/etc/stepcoder-was-here')).toBe(false);
  });
});

describe('broken programs and requests', () => {
  it('reports a syntax error as compile_error with its line', async () => {
    const r = await executor.run(call('def f(x):\n    return (x +\n\ndef g(:\n'));
    expectFail(r, 'compile_error');
    expect(r.message).toMatch(/SyntaxError/);
    expect(r.message).toMatch(/line \d/);
  });

  it('reports a missing fnName as a runtime error naming it', async () => {
    const r = await executor.run({
      program: 'def solve(x):\n    return x\n',
      tests: { kind: 'call', fnName: 'missing_fn', inputs: [[1]], outputs: [1] },
    });
    expectFail(r, 'runtime_error');
    expect(r.message).toContain("'missing_fn' is not defined");
  });

  it('rejects malformed test values with a clear error naming the path', async () => {
    const bad = (inputs: unknown, outputs: unknown = [1]) =>
      executor.run({
        program: 'def f(x):\n    return x\n',
        tests: { kind: 'call', fnName: 'f', inputs, outputs } as never,
      });
    await expect(bad([[undefined]])).rejects.toThrow(/tests\.inputs\[0\]\[0\]/);
    await expect(bad([[() => 1]])).rejects.toThrow(/function/);
    await expect(bad([[new Map()]])).rejects.toThrow(/Map/);
    await expect(bad([1])).rejects.toThrow(/tests\.inputs\[0\]/);
    await expect(bad([[1], [2]])).rejects.toThrow(/same length/);
    const circular: unknown[] = [];
    circular.push(circular);
    await expect(bad([circular])).rejects.toThrow(/circular/);
    const err = await bad([[undefined]]).catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'INVALID_PROBLEM')).toBe(true);
    await expect(
      executor.run({ program: 'x', language: 'javascript', tests: { kind: 'stdio', cases: [] } }),
    ).rejects.toThrow(/language/);
  });

  it('a malformed assertion case is an infra_error (a dataset bug), not a reward', async () => {
    // Repeated and concurrent: the judge reports `fatal` and exits while the candidate's process
    // may still be offering its names; its broken pipe must never be read as the program's error.
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => executor.run(asserts('def f(x):\n    return x\n', ['assert f(1) ==']))),
    );
    for (const r of runs) {
      expect(r.outcome).toBe('infra_error');
      expect(r.message).toContain('test case 0 does not compile');
    }
  });
});
