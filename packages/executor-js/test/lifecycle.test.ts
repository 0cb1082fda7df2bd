import { describe, expect, it } from 'vitest';
import { createJsExecutor, liveIsolateCount } from '../src/index.js';

describe('isolate lifecycle', () => {
  it('500 runs leave at most poolSize isolates alive, and dispose releases them all', async () => {
    const before = liveIsolateCount();
    const executor = createJsExecutor({ poolSize: 2, maxRunsPerIsolate: 50, limits: { timeoutMs: 100 } });
    const programs = [
      'function f(x) { return x + 1; }',
      'function f(x) { const a = new Array(1000).fill(x); return a.length; }',
      'function f(x) { throw new Error("boom"); }',
      'function f(x) { while (true) {} }',
      'function f(x) { return ',
    ];
    let peak = 0;
    for (let batch = 0; batch < 50; batch++) {
      const runs = Array.from({ length: 10 }, (_, i) =>
        executor.run({
          program: programs[(batch * 10 + i) % programs.length]!,
          tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [2] },
        }),
      );
      const results = await Promise.all(runs);
      expect(results.some((r) => r.outcome === 'infra_error')).toBe(false);
      peak = Math.max(peak, liveIsolateCount() - before);
    }
    expect(peak).toBeLessThanOrEqual(2);
    expect(executor.stats().busyIsolates).toBe(0);
    await executor.dispose();
    expect(liveIsolateCount()).toBe(before);
    const late = await executor.run({
      program: 'function f() {}',
      tests: { kind: 'call', fnName: 'f', inputs: [], outputs: [] },
    });
    expect(late.outcome).toBe('infra_error');
  });

  it('runs more programs than the pool has isolates concurrently, in order', async () => {
    const executor = createJsExecutor({ poolSize: 1 });
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          executor.run({
            program: `function f() { return ${i}; }`,
            tests: { kind: 'call', fnName: 'f', inputs: [[]], outputs: [i] },
          }),
        ),
      );
      expect(results.map((r) => r.outcome)).toEqual(Array(8).fill('pass'));
    } finally {
      await executor.dispose();
    }
  });
});
