import type { ExecutionRequest } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsExecutor } from '../src/index.js';

// Issue 13, items 6-8. Each hostile case is followed by a healthy run on the same executor.
const healthy: ExecutionRequest = {
  program: 'function f(x) { return x * 2; }',
  tests: { kind: 'call', fnName: 'f', inputs: [[1], [2]], outputs: [2, 4] },
};

describe('item 6: queue time is not run time', () => {
  const executor = createJsExecutor({ poolSize: 2 });
  afterAll(() => executor.dispose());

  it('a 4x oversubscribed batch of correct programs has no timeouts and reports its queue time', async () => {
    // Each program busy-waits 150 ms inside a 400 ms budget; 8 of them on 2 isolates would wait
    // up to ~450 ms if queue time counted.
    const correct: ExecutionRequest = {
      program: 'function f(x) { const t = Date.now(); while (Date.now() - t < 150) {} return x; }',
      tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [1] },
      limits: { timeoutMs: 400, totalTimeoutMs: 400 },
    };
    const results = await Promise.all(Array.from({ length: 8 }, () => executor.run(correct)));
    expect(results.map((r) => r.outcome)).toEqual(Array(8).fill('pass'));
    expect(Math.max(...results.map((r) => r.queueMs ?? 0))).toBeGreaterThan(300);
    for (const r of results) {
      expect(r.sandbox).toBe('isolate');
      expect(r.durationMs).toBeLessThan(400);
    }
    expect((await executor.run(healthy)).outcome).toBe('pass');
  });
});

describe('item 7: WebAssembly memory cannot bypass memoryMb', () => {
  const wasmGrab = [
    'function f(x) {',
    '  const m = new WebAssembly.Memory({ initial: 16384 });', // 1 GiB
    '  new Uint8Array(m.buffer).fill(1);',
    '  return m.buffer.byteLength;',
    '}',
  ].join('\n');
  const executor = createJsExecutor({ poolSize: 1, memoryMb: 64 });
  afterAll(() => executor.dispose());

  it('WebAssembly is absent unless granted; 1 GiB of wasm memory under memoryMb 64 fails', async () => {
    const r = await executor.run({
      program: wasmGrab,
      tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [1073741824] },
    });
    expect(r.outcome).toBe('runtime_error');
    expect(r.message).toContain('WebAssembly');
    expect((await executor.run(healthy)).outcome).toBe('pass');
  });

  it('the wasm option grants it (and its memory is then outside memoryMb)', async () => {
    const granted = createJsExecutor({ poolSize: 1, wasm: true });
    try {
      const r = await granted.run({
        program: 'function f() { return typeof WebAssembly.Memory; }',
        tests: { kind: 'call', fnName: 'f', inputs: [[]], outputs: ['function'] },
      });
      expect(r.outcome, r.message).toBe('pass');
    } finally {
      await granted.dispose();
    }
  });
});

describe("item 8: isolation 'process' host races", () => {
  it('runs queued behind an aborted run get a fresh host, not the dying one', async () => {
    const executor = createJsExecutor({ poolSize: 1, isolation: 'process' });
    try {
      expect((await executor.run(healthy)).outcome).toBe('pass');
      const controller = new AbortController();
      const hang = executor.run({
        program: 'function f() { while (true) {} }',
        tests: { kind: 'call', fnName: 'f', inputs: [[]], outputs: [0] },
        limits: { timeoutMs: 20000, totalTimeoutMs: 20000 },
        signal: controller.signal,
      });
      const queued = Array.from({ length: 5 }, () => executor.run(healthy));
      setTimeout(() => controller.abort(), 300);
      expect((await hang).message).toBe('aborted');
      const results = await Promise.all(queued);
      expect(results.map((r) => r.outcome)).toEqual(Array(5).fill('pass'));
      expect(results[0]!.sandbox).toBe('isolate-process');
    } finally {
      await executor.dispose();
    }
  });

  it('an abort during host start-up is answered at once', async () => {
    const executor = createJsExecutor({ poolSize: 1, isolation: 'process' });
    try {
      const controller = new AbortController();
      const t0 = performance.now();
      const run = executor.run({ ...healthy, signal: controller.signal, limits: { totalTimeoutMs: 20000 } });
      setTimeout(() => controller.abort(), 5);
      const r = await run;
      expect(r.message).toBe('aborted');
      expect(performance.now() - t0).toBeLessThan(5000);
      expect((await executor.run(healthy)).outcome).toBe('pass');
    } finally {
      await executor.dispose();
    }
  });
});
