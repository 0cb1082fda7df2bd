import type { ExecutionRequest } from '@stepcoder/core';
import { DEFAULT_LIMITS } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsExecutor } from '../src/index.js';

/** A real 2 MB answer: 190,000 lines of "0123456789" (2,090,000 bytes). */
const LINES = 190_000;
const ANSWER = '0123456789\n'.repeat(LINES);
const BIG = 4 * 1024 * 1024;

const stdio = (program: string, output = ANSWER): ExecutionRequest => ({
  program,
  tests: { kind: 'stdio', cases: [{ input: '', output }] },
});
const ONE_WRITE = `process.stdout.write("0123456789\\n".repeat(${LINES}));`;
const LINE_BY_LINE = `for (let i = 0; i < ${LINES}; i++) console.log("0123456789");`;

// The default cap (core's DEFAULT_LIMITS, 64 KiB) and an executor configured with a higher one.
const executor = createJsExecutor({ poolSize: 1, limits: { timeoutMs: 20_000 } });
const roomy = createJsExecutor({ poolSize: 1, limits: { timeoutMs: 20_000, maxOutputBytes: BIG } });
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
      expect(t.reason).toBe('output_limit');
      expect(t.truncatedStreams).toEqual({ stdout: true, stderr: false });
      expect(t.message).toMatch(/stdout exceeded maxOutputBytes \(65536 bytes\).*not compared/);
      expect(Buffer.byteLength(t.stdout!)).toBeLessThanOrEqual(64 * 1024);
      expect(ANSWER.startsWith(t.stdout!)).toBe(true);
    }
    // A wrong 2 MB answer is not judged either.
    const wrong = await executor.run(stdio(ONE_WRITE, 'something else\n'));
    expect(wrong.reason).toBe('output_limit');
  });

  it('passes under a higher limit (request limits or the executor option limits.maxOutputBytes)', async () => {
    for (const program of [ONE_WRITE, LINE_BY_LINE]) {
      const r = await executor.run({ ...stdio(program), limits: { maxOutputBytes: BIG } });
      expect(r.outcome).toBe('pass');
      expect(r.reason).toBeUndefined();
      expect(r.truncated).toBe(false);
      expect(r.truncatedStreams).toEqual({ stdout: false, stderr: false });
      expect(r.tests[0]!.stdout).toBe(ANSWER);
    }
    const r = await roomy.run(stdio(ONE_WRITE));
    expect(r.outcome).toBe('pass');
    expect(r.stdout).toBe(ANSWER);
    expect((await roomy.run(stdio(ONE_WRITE, 'something else\n'))).outcome).toBe('wrong_answer');
  });

  it('a cut stderr is flagged and does not stop a complete stdout from being compared', async () => {
    const r = await executor.run(stdio(`console.error("e".repeat(2_000_000)); console.log("ok");`, 'ok\n'));
    expect(r.outcome).toBe('pass');
    expect(r.truncated).toBe(true);
    expect(r.truncatedStreams).toEqual({ stdout: false, stderr: true });
    expect(r.tests[0]!.truncatedStreams).toEqual({ stdout: false, stderr: true });
  });

  it('flags call tests whose printing was cut (the verdict is the return value)', async () => {
    const program = `function f(x) { for (let i = 0; i < ${LINES}; i++) console.log("0123456789"); return x; }`;
    const r = await executor.run({
      program,
      tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [1] },
    });
    expect(r.outcome).toBe('pass');
    expect(r.truncated).toBe(true);
    expect(r.tests[0]!.truncatedStreams).toEqual({ stdout: true, stderr: false });
  });
});
