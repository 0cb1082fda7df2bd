import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createByteTokenizer,
  createPolicy,
  initBackend,
  matmul,
  type Policy,
  withTransposedWeights,
} from '../src/base.js';
import { LLAMA } from './helpers.js';

/*
 * Stock wasm (no native kernels): Llama's [out, in] weights would be transposed at every product
 * of every generated token; generation makes each transpose once (withTransposedWeights).
 */

let policy: Policy;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm', native: false, log: false });
  policy = await createPolicy({ config: LLAMA, tokenizer: createByteTokenizer(), seed: 9 });
});
afterAll(() => policy.dispose());

const opts = { maxNewTokens: 16, temperature: 0.9, seed: 4, ignoreEos: true };

async function transposesDuring(f: () => Promise<void>): Promise<number> {
  const info = await tf.profile(f);
  return info.kernels.filter((k) => k.name === 'Transpose').length;
}

describe('weight transposes on stock wasm', () => {
  it('generation transposes each weight once, not once per token, and frees the copies', async () => {
    const before = tf.memory().numTensors;
    // x · Wᵀ products per forward: q, k, v, o, gate, up, down per layer, and the LM head.
    const perForward = 7 * LLAMA.nLayer + 1;
    let withCache: Awaited<ReturnType<Policy['generate']>> = [];
    const cached = await transposesDuring(async () => {
      withCache = await policy.generate(['def f(x):\n', 'y = '], opts);
    });
    expect(tf.memory().numTensors).toBe(before);
    // The same generation through the uncached path (a private method: what generate did before).
    let plain: Awaited<ReturnType<Policy['generate']>> = [];
    const uncached = await transposesDuring(async () => {
      plain = await (policy as unknown as { generateUncached: Policy['generate'] }).generateUncached(
        ['def f(x):\n', 'y = '],
        opts,
      );
    });
    // One forward per new token; every one after the first reused the first one's transposes.
    expect(uncached - cached).toBe((opts.maxNewTokens - 1) * perForward);
    // Bit-identical: the cached copy is the same transpose.
    expect(withCache.map((g) => g.tokenIds)).toEqual(plain.map((g) => g.tokenIds));
    expect(withCache.map((g) => g.logprobs)).toEqual(plain.map((g) => g.logprobs));
  });

  it('a gradient taken while a scope is open still reaches the weights, and an assigned weight is re-transposed', async () => {
    const w = tf.variable(tf.randomNormal([5, 3], 0, 1, 'float32', 1));
    const x = tf.randomNormal([2, 3], 0, 1, 'float32', 2);
    const grad = () => tf.grad((v: tf.Tensor) => tf.sum(tf.square(matmul(x, v, false, true))))(w);
    const outside = await grad().data();
    await withTransposedWeights(async () => {
      matmul(x, w, false, true).dispose(); // fills the cache with wᵀ
      expect(Array.from(await grad().data())).toEqual(Array.from(outside));
      const before = await matmul(x, w, false, true).data();
      w.assign(tf.mul(w, 2));
      const after = await matmul(x, w, false, true).data();
      for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(2 * before[i]!, 5);
    });
    tf.dispose([w, x]);
  });
});
