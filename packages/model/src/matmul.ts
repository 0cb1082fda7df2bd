import * as tf from '@tensorflow/tfjs-core';

/*
 * tfjs-backend-wasm 4.22 runs a 2-D matMul without transpose flags through XNNPACK (≈6 GFLOP/s
 * on one core here) but takes a slow path for transposeA/transposeB (15–20× slower) and for
 * batched 3-D products (≈20× slower). The registered MatMul gradient uses exactly those slow
 * forms, so on wasm every product goes through `matmul` below: explicit transposes (a fast
 * kernel) and one 2-D product per batch entry, forward and backward.
 */

const mm2d = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
    },
  };
});

function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

/** a [..., m, k] · b [..., k, n] with equal batch dims. */
export function matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (!onWasm()) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  if (a.rank === 2) return mm2d(a, b);
  const batchShape = a.shape.slice(0, -2);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.rank - 1]!;
  const count = batchShape.reduce((x, y) => x * y, 1);
  const as = tf.unstack(tf.reshape(a, [count, m, k]));
  const bs = tf.unstack(tf.reshape(b, [count, k, n]));
  const products = as.map((ai, i) => mm2d(ai, bs[i]!));
  return tf.reshape(tf.stack(products), [...batchShape, m, n]);
}

/** Swap the last two axes. */
export function transposeLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}
