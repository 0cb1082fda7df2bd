import type { CallTests, ExecutionRequest } from '@stepcoder/core';
import { DEFAULT_LIMITS } from '@stepcoder/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPythonExecutor } from '../src/index.js';
import { PYTHON } from './python-path.js';

/** A real 2 MB answer: 190,000 lines of "0123456789" (2,090,000 bytes). */
const LINES = 190_000;
const ANSWER = '0123456789\n'.repeat(LINES);
const BIG = 4 * 1024 * 1024;

const stdio = (program: string, output = ANSWER): ExecutionRequest => ({
  program,
  tests: { kind: 'stdio', cases: [{ input: '', output }] },
});
/** Prints the 2 MB answer correctly, in one write and then line by line. */
const ONE_WRITE = `import sys\nsys.stdout.write("0123456789\\n" * ${LINES})\n`;
const LINE_BY_LINE = `for _ in range(${LINES}):\n    print("0123456789")\n`;

// The default cap (core's DEFAULT_LIMITS, 64 KiB) and a pool configured with a higher one.
const executor = createPythonExecutor({ pythonPath: PYTHON, poolSize: 1, limits: { timeoutMs: 20_000 } });
const roomy = createPythonExecutor({
  pythonPath: PYTHON,
  poolSize: 1,
  limits: { timeoutMs: 20_000, maxOutputBytes: BIG },
});

beforeAll(async () => {
  await Promise.all([executor.warm(), roomy.warm()]);
}, 60_000);
afterAll(() => Promise.all([executor.dispose(), roomy.dispose()]));

describe('2 MB of stdout (issue 22)', () => {
  it('is cut at the default 64 KiB, flagged, and neither a pass nor a wrong answer', async () => {
    expect(DEFAULT_LIMITS.maxOutputBytes).toBe(64 * 1024);
    for (const program of [ONE_WRITE, LINE_BY_LINE]) {
      const r = await executor.run(stdio(program));
      expect(r.outcome).toBe('runtime_error');
      expect(r.reason).toBe('output_limit');
      expect(r.passed).toBe(0);
      expect(r.truncated).toBe(true);
      expect(r.truncatedStreams).toEqual({ stdout: true, stderr: false });
      const t = r.tests[0]!;
      expect(t.outcome).toBe('runtime_error');
      expect(t.reason).toBe('output_limit');
      expect(t.truncated).toBe(true);
      expect(t.truncatedStreams).toEqual({ stdout: true, stderr: false });
      expect(t.message).toMatch(/stdout exceeded maxOutputBytes \(65536 bytes\).*not compared/);
      expect(Buffer.byteLength(t.stdout!)).toBeLessThanOrEqual(64 * 1024);
      expect(ANSWER.startsWith(t.stdout!)).toBe(true);
      expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(64 * 1024);
    }
  });

  it('passes under a higher limit set on the request', async () => {
    for (const program of [ONE_WRITE, LINE_BY_LINE]) {
      const r = await executor.run({ ...stdio(program), limits: { maxOutputBytes: BIG } });
      expect(r.outcome).toBe('pass');
      expect(r.reason).toBeUndefined();
      expect(r.truncated).toBe(false);
      expect(r.truncatedStreams).toEqual({ stdout: false, stderr: false });
      expect(r.tests[0]!.stdout).toBe(ANSWER);
      expect(r.tests[0]!.truncated).toBe(false);
    }
  });

  it('passes under a higher limit set as the executor option limits.maxOutputBytes', async () => {
    const r = await roomy.run(stdio(ONE_WRITE));
    expect(r.outcome).toBe('pass');
    expect(r.truncated).toBe(false);
    expect(r.stdout).toBe(ANSWER);
  });

  it('flags output written past the Python writers (os.write on fd 1)', async () => {
    const program = `import os\nos.write(1, b"0123456789\\n" * ${LINES})\n`;
    const cut = await executor.run(stdio(program));
    expect(cut.outcome).toBe('runtime_error');
    expect(cut.reason).toBe('output_limit');
    expect(cut.truncatedStreams).toEqual({ stdout: true, stderr: false });
    const whole = await roomy.run(stdio(program));
    expect(whole.outcome).toBe('pass');
    expect(whole.truncated).toBe(false);
  });

  it('a wrong 2 MB answer is also an output limit, never compared', async () => {
    const r = await executor.run(stdio(ONE_WRITE, 'something else\n'));
    expect(r.outcome).toBe('runtime_error');
    expect(r.reason).toBe('output_limit');
    const judged = await roomy.run(stdio(ONE_WRITE, 'something else\n'));
    expect(judged.outcome).toBe('wrong_answer');
  });

  it('cuts on a UTF-8 character boundary', async () => {
    // 3-byte characters: 65536 is not a multiple of 3, so a byte cut would split one.
    const r = await executor.run(stdio('print("€" * 100000)\n', ''));
    expect(r.reason).toBe('output_limit');
    const out = r.tests[0]!.stdout!;
    expect(out).toMatch(/^€+$/);
    expect(Buffer.byteLength(out)).toBe(Math.floor(65536 / 3) * 3);
  });
});

describe('stderr and call tests', () => {
  it('a cut stderr is flagged; stdout is still compared when complete', async () => {
    const program = `import os\nos.write(2, b"e" * 2_000_000)\nprint("ok")\n`;
    const r = await executor.run(stdio(program, 'ok\n'));
    expect(r.outcome).toBe('pass');
    expect(r.truncated).toBe(true);
    expect(r.truncatedStreams).toEqual({ stdout: false, stderr: true });
    expect(r.tests[0]!.truncatedStreams).toEqual({ stdout: false, stderr: true });
  });

  it('a program stopped by the capped stderr writer fails with reason output_limit', async () => {
    const program =
      'import sys\nfor _ in range(100000):\n    sys.stderr.write("e" * 100 + "\\n")\nprint("ok")\n';
    const r = await executor.run(stdio(program, 'ok\n'));
    expect(r.outcome).toBe('runtime_error');
    expect(r.reason).toBe('output_limit');
    expect(r.truncatedStreams).toEqual({ stdout: false, stderr: true });
    expect(r.tests[0]!.message).toMatch(/stderr passed maxOutputBytes/);
  });

  it('a call test whose printing passed the cap fails with reason output_limit', async () => {
    const program = `def f(x):\n    for _ in range(${LINES}):\n        print("0123456789")\n    return x\n`;
    const tests: CallTests = { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [1] };
    const r = await executor.run({ program, tests });
    expect(r.outcome).toBe('runtime_error');
    expect(r.reason).toBe('output_limit');
    expect(r.tests[0]!.truncatedStreams).toEqual({ stdout: true, stderr: false });
    const whole = await roomy.run({ program, tests });
    expect(whole.outcome).toBe('pass');
    expect(whole.truncated).toBe(false);
  });
});
