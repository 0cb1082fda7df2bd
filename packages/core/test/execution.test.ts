import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, infraErrorResult, resultWithoutTests } from '../src/index.js';

describe('execution results', () => {
  it('documents the default output cap: 64 KiB per stream and test', () => {
    expect(DEFAULT_LIMITS.maxOutputBytes).toBe(64 * 1024);
  });

  it('results decided before any test say that nothing was cut, per stream', () => {
    for (const r of [resultWithoutTests('compile_error', 'SyntaxError', 3), infraErrorResult('gone', 2)]) {
      expect(r.truncated).toBe(false);
      expect(r.truncatedStreams).toEqual({ stdout: false, stderr: false });
      expect(r.reason).toBeUndefined();
    }
  });
});
