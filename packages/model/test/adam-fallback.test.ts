import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createAdamOptimizer, initBackend } from '../src/base.js';

/*
 * Without the native kernels createAdamOptimizer runs tfjs's Adam op for op, one tidy per variable
 * (tfjs's own keeps every variable's temporaries until all are updated). It must stay
 * bit-identical to tf.train.adam, state included, on the backends that take this path.
 */

async function run(make: () => tf.Optimizer, steps: number) {
  const vars = tf.tidy(() => [
    tf.variable(tf.randomNormal([37, 5], 0, 1, 'float32', 1), true, 'adam_fallback_a'),
    tf.variable(tf.randomNormal([11], 0, 1, 'float32', 2), true, 'adam_fallback_b'),
  ]);
  const opt = make();
  for (let s = 0; s < steps; s++) {
    // Seeds from 1: tfjs draws an unseeded stream for seed 0.
    const grads = tf.tidy(() =>
      vars.map((v, i) => tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 10 * s + i + 1), s + 1)),
    );
    opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
    tf.dispose(grads);
  }
  const values = vars.map((v) => Array.from(v.dataSync()));
  const weights = await opt.getWeights();
  const state = await Promise.all(weights.map(async (w) => [w.name, Array.from(await w.tensor.data())]));
  tf.dispose(weights[0]!.tensor); // the iteration count, made by getWeights
  opt.dispose();
  tf.dispose(vars);
  return { values, state };
}

describe('Adam without native kernels', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: equals tf.train.adam bit for bit (weights and moments), frees its temporaries`, async () => {
      await initBackend({ prefer: backend, native: false, log: false });
      const before = tf.memory().numTensors;
      const ours = await run(() => createAdamOptimizer(0.01, 0.9, 0.999, 1e-8), 4);
      expect(tf.memory().numTensors).toBe(before);
      const theirs = await run(() => tf.train.adam(0.01, 0.9, 0.999, 1e-8), 4);
      expect(ours.values).toEqual(theirs.values);
      expect(ours.state).toEqual(theirs.state);
    });
  }
});
