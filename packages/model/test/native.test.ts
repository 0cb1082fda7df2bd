import { StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAdamOptimizer,
  createByteTokenizer,
  createPolicy,
  disableNativeKernels,
  enableNativeKernels,
  initBackend,
  matmul,
  nativeGemmActive,
  nativeKernelsInfo,
  type Policy,
} from '../src/base.js';
import { forwardAndGradients, greedyPair, LLAMA, maxRelDiff, TEST_CONFIG } from './helpers.js';

/*
 * The native kernels (BLAS GEMM, transpose, LayerNorm, GELU, Adam) against tfjs's own wasm
 * kernels, in one process: each comparison runs the same op with the kernels on and off.
 * CI installs OpenBLAS (libopenblas0-pthread), so these run on the real library.
 */

async function both<T>(f: () => T | Promise<T>): Promise<{ native: T; stock: T }> {
  await enableNativeKernels();
  const native = await f();
  disableNativeKernels();
  const stock = await f();
  await enableNativeKernels();
  return { native, stock };
}

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

describe('native kernels on the wasm backend', () => {
  let policy: Policy;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', native: true, log: false });
    expect(nativeGemmActive()).toBe(true);
    policy = await createPolicy({ config: TEST_CONFIG, tokenizer: createByteTokenizer(), seed: 3 });
  });
  afterAll(() => policy.dispose());

  it('reports the BLAS it loaded and its thread count', () => {
    const info = nativeKernelsInfo()!;
    expect(info.library).toMatch(/blas|mkl|blis|Accelerate/i);
    expect(info.threads).toBe(1);
    expect(info.describe).toMatch(/^native kernels \(.+, 1 BLAS thread\)$/);
    expect(info.kind).toBe('blas');
  });

  it('matmul equals wasm for every transpose flag, batched and broadcast operands', async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[7, 5], [5, 3], false, false],
      [[5, 7], [5, 3], true, false],
      [[7, 5], [3, 5], false, true],
      [[5, 7], [3, 5], true, true],
      [[4, 7, 5], [4, 5, 3], false, false],
      [[4, 7, 5], [4, 3, 5], false, true],
      [[4, 5, 7], [4, 5, 3], true, false],
      [[2, 3, 6, 4], [2, 3, 4, 6], false, false],
      [[1, 0], [0, 3], false, false], // k = 0: zeros
    ];
    for (const [i, [sa, sb, ta, tb]] of cases.entries()) {
      const a = seeded(sa, 10 + i);
      const b = seeded(sb, 20 + i);
      const { native, stock } = await both(() => {
        const out = matmul(a, b, ta, tb);
        const r = { shape: out.shape, data: out.dataSync().slice() };
        out.dispose();
        return r;
      });
      expect(native.shape, `case ${i}`).toEqual(stock.shape);
      expect(maxRelDiff(native.data, stock.data), `case ${i}`).toBeLessThan(1e-5);
      tf.dispose([a, b]);
    }
    // tf.matMul with a rank-3 · rank-2 broadcast and with general broadcasting (wasm's fallback).
    const a = seeded([3, 4, 5], 1);
    const w = seeded([5, 2], 2);
    const p = seeded([2, 1, 4, 5], 3);
    const q = seeded([1, 3, 5, 2], 4);
    // A rank-2 left operand broadcast over a batch of 1: the output keeps the batch axis.
    const one = seeded([1, 5, 4], 5);
    const left = seeded([3, 5], 6);
    const { native, stock } = await both(() =>
      [
        tf.matMul(a as tf.Tensor3D, w as unknown as tf.Tensor3D),
        tf.matMul(p as tf.Tensor4D, q as tf.Tensor4D),
        tf.matMul(left as unknown as tf.Tensor3D, one as tf.Tensor3D),
      ].map((t) => {
        const r = { shape: t.shape, data: t.dataSync().slice() };
        t.dispose();
        return r;
      }),
    );
    for (const [i, r] of native.entries()) {
      expect(r.shape, `broadcast case ${i}`).toEqual(stock[i]!.shape);
      expect(maxRelDiff(r.data, stock[i]!.data), `broadcast case ${i}`).toBeLessThan(1e-5);
    }
    tf.dispose([a, w, p, q, one, left]);
  });

  it('transpose equals wasm for ranks 2–5 and int32', async () => {
    const cases: Array<[number[], number[]]> = [
      [
        [3, 4],
        [1, 0],
      ],
      [
        [2, 3, 4],
        [2, 0, 1],
      ],
      [
        [2, 5, 3, 4, 6],
        [2, 0, 3, 1, 4],
      ], // the attention split
      [
        [2, 3, 4, 5],
        [0, 2, 1, 3],
      ], // the attention merge
      [
        [2, 3, 4, 5],
        [3, 2, 1, 0],
      ],
    ];
    for (const [shape, perm] of cases) {
      const x = seeded(shape, shape.length);
      const xi = tf.cast(tf.mul(x, 100), 'int32');
      const { native, stock } = await both(() => [
        tf.transpose(x, perm).dataSync().slice(),
        tf.transpose(xi, perm).dataSync().slice(),
      ]);
      expect(Array.from(native[0]!)).toEqual(Array.from(stock[0]!));
      expect(Array.from(native[1]!)).toEqual(Array.from(stock[1]!));
      tf.dispose([x, xi]);
    }
  });

  it('the model gives the same logits, values and gradients as with wasm kernels', async () => {
    const { native, stock } = await both(() => forwardAndGradients(policy));
    expect(maxRelDiff(native.logits, stock.logits)).toBeLessThan(1e-5);
    expect(maxRelDiff(native.values, stock.values)).toBeLessThan(1e-5);
    for (const [i, name] of native.names.entries()) {
      expect(maxRelDiff(native.grads[i]!, stock.grads[i]!), name).toBeLessThan(1e-4);
    }
  });

  it('greedy generation and scoring agree with wasm kernels; no tensors leak', async () => {
    const before = tf.memory().numTensors;
    const { native, stock } = await both(() => greedyPair(policy, 12));
    expect(tf.memory().numTensors).toBe(before);
    for (const [i, g] of native.entries()) {
      expect(g.ids).toEqual(stock[i]!.ids);
      expect(maxRelDiff(g.logprobs, stock[i]!.logprobs)).toBeLessThan(1e-4);
    }
  });

  it("Llama (GQA, rotary, RMSNorm, SwiGLU; Qwen2 biases): the fused kernels give wasm's logits, values and gradients", async () => {
    for (const config of [
      LLAMA,
      { ...LLAMA, modelType: 'qwen2' as const, nKvHead: 1, tieWordEmbeddings: true },
    ]) {
      const llama = await createPolicy({ config, tokenizer: createByteTokenizer(), seed: 5 });
      // Non-trivial norms and biases: unit gains and zero biases would hide a wrong operand.
      llama.setWeights(
        new Map(
          [...(await llama.readWeights())]
            .filter(([n]) => /norm\.weight$|\.bias$/.test(n))
            .map(([n, w], i) => [n, seeded(w.shape, 40 + i)]),
        ),
        { partial: true },
      );
      const { native, stock } = await both(() => forwardAndGradients(llama));
      expect(maxRelDiff(native.logits, stock.logits)).toBeLessThan(1e-5);
      expect(maxRelDiff(native.values, stock.values)).toBeLessThan(1e-5);
      for (const [i, name] of native.names.entries())
        expect(
          maxRelDiff(native.grads[i]!, stock.grads[i]!),
          `${config.modelType ?? 'llama'} ${name}`,
        ).toBeLessThan(1e-4);

      // Cached decoding of a left-padded batch (GQA decode attention, rotary at each position).
      const before = tf.memory().numTensors;
      const gens = await both(() => greedyPair(llama, 12));
      expect(tf.memory().numTensors).toBe(before);
      for (const [i, g] of gens.native.entries()) {
        expect(g.ids).toEqual(gens.stock[i]!.ids);
        expect(maxRelDiff(g.logprobs, gens.stock[i]!.logprobs)).toBeLessThan(1e-4);
      }
      llama.dispose();
    }
  });

  it('native Adam updates like tfjs Adam, shares its state layout, and leaves shared buffers alone', async () => {
    const init = seeded([33, 7], 5).dataSync().slice();
    const grads = [0, 1, 2].map((s) => seeded([33, 7], 100 + s));
    const run = () => {
      const v = tf.variable(tf.tensor(init, [33, 7]), true, `adam_probe_${Math.random()}`);
      const alias = tf.reshape(v, [7, 33]); // shares v's buffer: must not see the update
      const aliasBefore = alias.dataSync().slice();
      const opt = createAdamOptimizer(0.01, 0.9, 0.999, 1e-8);
      for (const g of grads) opt.applyGradients([{ name: v.name, tensor: g }]);
      const out = {
        value: v.dataSync().slice(),
        aliasUnchanged: Array.from(alias.dataSync()).every((x, i) => x === aliasBefore[i]),
        path: { ...opt.path },
        m: opt.getWeights(),
      };
      return {
        out,
        dispose: () => {
          tf.dispose([v, alias]);
          opt.dispose();
        },
      };
    };
    const { native, stock } = await both(() => run());
    expect(native.out.path).toEqual({ native: 3, tfjs: 0 });
    expect(stock.out.path).toEqual({ native: 0, tfjs: 3 });
    expect(native.out.aliasUnchanged).toBe(true);
    expect(maxRelDiff(native.out.value, stock.out.value)).toBeLessThan(1e-6);
    const [nw, sw] = [await native.out.m, await stock.out.m];
    expect(nw.map((w) => w.name.replace(/adam_probe_[\d.]+/, 'p'))).toEqual(
      sw.map((w) => w.name.replace(/adam_probe_[\d.]+/, 'p')),
    );
    for (const [i, w] of nw.entries())
      expect(maxRelDiff(w.tensor.dataSync(), sw[i]!.tensor.dataSync())).toBeLessThan(1e-6);
    native.dispose();
    stock.dispose();
    tf.dispose(grads);
  });

  it('fails clearly: another backend, a missing library, bad threads; auto falls back with the reason', async () => {
    await expect(enableNativeKernels({ library: '/nonexistent/libopenblas.so.0' })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('/nonexistent/libopenblas.so.0'),
    });
    await expect(enableNativeKernels({ threads: 0 })).rejects.toBeInstanceOf(StepcoderError);
    const auto = await initBackend({
      prefer: 'wasm',
      blas: { library: '/nonexistent/libblas.so' },
      log: false,
    });
    // One short reason in the line (the loader's error for the library named); every library
    // tried is in nativeKernelsDiagnostics().
    expect(auto.describe()).toMatch(
      /\[no native kernels: dlopen failed: \/nonexistent\/libblas\.so[^\]]*\]$/,
    );
    expect(auto.describe().length).toBeLessThan(200);
    expect(nativeGemmActive()).toBe(false);
    await expect(
      initBackend({ prefer: 'wasm', native: true, blas: { library: '/nonexistent/libblas.so' }, log: false }),
    ).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    const off = await initBackend({ prefer: 'wasm', native: false, log: false });
    expect(off.describe()).not.toMatch(/native/);
    await initBackend({ prefer: 'cpu', log: false });
    await expect(enableNativeKernels()).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining("active backend is 'cpu'"),
    });
    await initBackend({ prefer: 'wasm', native: true, log: false });
    expect(nativeGemmActive()).toBe(true);
  });
});
