import { cpuGemmSupport } from '@stepcoder/native-kernels';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createByteTokenizer,
  createPolicy,
  disableNativeKernels,
  enableNativeKernels,
  initBackend,
  matmul,
  nativeGemmActive,
  nativeKernelsDiagnostics,
  nativeKernelsInfo,
  type Policy,
} from '../src/base.js';
import { forwardAndGradients, greedyPair, maxRelDiff, TEST_CONFIG } from './helpers.js';

/*
 * The native kernels with the built-in SGEMM forced (`blas: { library: 'builtin' }`, what a
 * machine without an optimised BLAS gets), on every code path this CPU allows, against tfjs's
 * own wasm kernels in the same process: matmul shapes, the model's logits, values and
 * gradients, and greedy generation (the M = 1 GEMV path).
 */

const paths = cpuGemmSupport().gemmPaths;

describe('native kernels on the built-in SGEMM', () => {
  let policy: Policy;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', native: false, log: false });
    policy = await createPolicy({ config: TEST_CONFIG, tokenizer: createByteTokenizer(), seed: 3 });
  });
  afterAll(async () => {
    policy.dispose();
    // Back to the default GEMM for whatever runs next in this process.
    await initBackend({ prefer: 'wasm', log: false });
  });

  it('initBackend names the built-in in one short line', async () => {
    const backend = await initBackend({ prefer: 'wasm', blas: { library: 'builtin' }, log: false });
    expect(nativeGemmActive()).toBe(true);
    expect(backend.describe()).toMatch(
      /^wasm \(SIMD, 1 thread\) \+ native kernels \(built-in SGEMM, (AVX-512F|AVX2\/FMA|portable C), 1 thread\)$/,
    );
    const info = nativeKernelsInfo()!;
    expect(info).toMatchObject({ kind: 'builtin', library: 'builtin', threads: 1 });
    expect(info.gemmPath).toBe(paths[paths.length - 1]);
    const d = await nativeKernelsDiagnostics();
    expect(d.installed).toBe(true);
    if (d.installed) {
      expect(d.diagnostics.gemm).toMatchObject({ kind: 'builtin', reason: "library: 'builtin'" });
      expect(d.diagnostics.cpu?.gemmPaths).toEqual(paths);
    }
  });

  it('STEPCODER_BLAS=builtin selects it too', async () => {
    const saved = process.env.STEPCODER_BLAS;
    process.env.STEPCODER_BLAS = 'builtin';
    try {
      const backend = await initBackend({ prefer: 'wasm', log: false });
      expect(backend.describe()).toMatch(/\+ native kernels \(built-in SGEMM, .+, 1 thread\)$/);
    } finally {
      if (saved === undefined) delete process.env.STEPCODER_BLAS;
      else process.env.STEPCODER_BLAS = saved;
    }
  });

  for (const gemmPath of paths) {
    it(`${gemmPath}: matmul, the model's logits, values and gradients, and greedy generation equal wasm's`, async () => {
      const on = () => enableNativeKernels({ library: 'builtin', gemmPath });
      const both = async <T>(f: () => T | Promise<T>): Promise<{ native: T; stock: T }> => {
        await on();
        expect(nativeKernelsInfo()?.gemmPath).toBe(gemmPath);
        const native = await f();
        disableNativeKernels();
        const stock = await f();
        return { native, stock };
      };
      // matmul: every transpose flag, a batch, odd sizes.
      const cases: Array<[number[], number[], boolean, boolean]> = [
        [[7, 5], [5, 3], false, false],
        [[5, 7], [5, 3], true, false],
        [[7, 5], [3, 5], false, true],
        [[5, 7], [3, 5], true, true],
        [[3, 17, 33], [3, 33, 19], false, false],
        [[1, 40], [40, 23], false, false],
      ];
      for (const [i, [sa, sb, ta, tb]] of cases.entries()) {
        const a = tf.randomNormal(sa, 0, 1, 'float32', 10 + i);
        const b = tf.randomNormal(sb, 0, 1, 'float32', 20 + i);
        const { native, stock } = await both(() => {
          const out = matmul(a, b, ta, tb);
          const r = out.dataSync().slice();
          out.dispose();
          return r;
        });
        expect(maxRelDiff(native, stock), `${gemmPath} case ${i}`).toBeLessThan(1e-5);
        tf.dispose([a, b]);
      }
      // The model, forward and backward.
      const model = await both(() => forwardAndGradients(policy));
      expect(maxRelDiff(model.native.logits, model.stock.logits)).toBeLessThan(1e-5);
      expect(maxRelDiff(model.native.values, model.stock.values)).toBeLessThan(1e-5);
      for (const [i, name] of model.native.names.entries())
        expect(maxRelDiff(model.native.grads[i]!, model.stock.grads[i]!), name).toBeLessThan(1e-4);
      // Greedy generation: KV-cache decoding runs the one-row GEMV path.
      const gen = await both(() => greedyPair(policy, 10));
      for (const [i, g] of gen.native.entries()) {
        expect(g.ids).toEqual(gen.stock[i]!.ids);
        expect(maxRelDiff(g.logprobs, gen.stock[i]!.logprobs)).toBeLessThan(1e-4);
      }
    });
  }
});
