import { describe, expect, it } from 'vitest';
import { createJsExecutor } from '../src/index.js';

describe("isolation: 'process'", () => {
  it('survives a single allocation over the heap limit that aborts V8, then keeps working', async () => {
    const executor = createJsExecutor({ isolation: 'process', poolSize: 1, memoryMb: 32 });
    try {
      const ok = await executor.run({
        program: 'function f(x) { return x * 2; }',
        tests: { kind: 'call', fnName: 'f', inputs: [[2], ['a']], outputs: [4, Number.NaN] },
        coverage: true,
      });
      expect(ok.outcome).toBe('pass');
      expect(ok.coverage?.lines).toEqual([1]);
      const bomb = await executor.run({
        program: 'function f() { const a = new Array(1e8).fill(0); return a.length; }',
        tests: { kind: 'call', fnName: 'f', inputs: [[]], outputs: [0] },
      });
      expect(bomb.outcome).toBe('memory_limit');
      const after = await executor.run({
        program: 'function f(x) { return x * 2; }',
        tests: { kind: 'call', fnName: 'f', inputs: [[21]], outputs: [42] },
      });
      expect(after.outcome).toBe('pass');
    } finally {
      await executor.dispose();
    }
    const late = await executor.run({
      program: 'function f() {}',
      tests: { kind: 'call', fnName: 'f', inputs: [], outputs: [] },
    });
    expect(late.outcome).toBe('infra_error');
  });
});
