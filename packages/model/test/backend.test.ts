import { createRegistry, registry, StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createTensorflowBackend, initBackend, registerBackends } from '../src/base.js';
import '../src/index.js';

describe('backends', () => {
  afterEach(() => {
    delete process.env.STEPCODER_BACKEND;
  });

  it('registers tensorflow > wasm > cpu in the global registry on import', () => {
    expect(registry.list('backend').slice(0, 3)).toEqual(['tensorflow', 'wasm', 'cpu']);
  });

  it('picks the best backend that initialises and reports why tensorflow was skipped', async () => {
    const reg = createRegistry();
    let line = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      line += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      const backend = await initBackend({ registry: reg });
      expect(backend.name).toBe('wasm');
      expect(backend.simd).toBe(true);
      expect(backend.threads).toBe(1);
      expect(backend.describe()).toMatch(/^wasm \(SIMD, 1 thread/);
    } finally {
      process.stderr.write = write;
    }
    expect(line).toMatch(
      /backend: wasm \(SIMD, 1 thread\)( \+ native kernels \([^)]*\))? \[skipped tensorflow: .*tfjs-node-gpu not installed/,
    );
    expect(tf.getBackend()).toBe('wasm');
  });

  it('fails with BACKEND_UNAVAILABLE when tfjs-node is not installed', async () => {
    const error = await createTensorflowBackend().catch((e: unknown) => e);
    expect(StepcoderError.is(error, 'BACKEND_UNAVAILABLE')).toBe(true);
  });

  it('honours an explicit preference and STEPCODER_BACKEND', async () => {
    const cpu = await initBackend({ prefer: 'cpu', log: false });
    expect(cpu.describe()).toBe('cpu (pure JS, 1 thread)');
    expect(tf.getBackend()).toBe('cpu');
    process.env.STEPCODER_BACKEND = 'wasm';
    const wasm = await initBackend({ log: false, threads: 4 });
    expect(wasm.name).toBe('wasm');
    expect(wasm.describe()).toMatch(/4 requested, Node cannot start wasm threads/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('validates backend options and lists backends on unknown names', async () => {
    const reg = createRegistry();
    registerBackends(reg);
    await expect(reg.create('backend', 'cpu', { threads: 0 })).rejects.toThrow(/threads/);
    await expect(initBackend({ registry: reg, prefer: 'gpu' as 'cpu', log: false })).rejects.toThrow(
      /Registered backends: 'tensorflow', 'wasm', 'cpu'/,
    );
  });
});
