import * as tf from '@tensorflow/tfjs-core';

/*
 * tfjs-backend-wasm 4.22 runs a 2-D matMul without transpose flags through XNNPACK but takes a
 * slow path for 2-D transposeA/transposeB (15–30× slower), which the registered MatMul gradient
 * uses: 2-D products go through `mm2d` below, whose gradient transposes explicitly (a fast
 * kernel) and multiplies without flags. Batched 3-D products (attention, [B·H, T, hd]) are a
 * different story: the batched kernel, with or without flags, took ~3 ms for [12, 64, 64]² here
 * against ~35 ms for one 2-D product per batch entry with unstack/stack (measured with
 * bench/profile-train.ts), so they go straight to tf.matMul and its registered gradient.
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
  if (a.rank === 3) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  const count = batchShape.reduce((x, y) => x * y, 1);
  const product = tf.matMul(
    tf.reshape(a, [count, m, k]) as tf.Tensor3D,
    tf.reshape(b, [count, k, n]) as tf.Tensor3D,
  );
  return tf.reshape(product, [...batchShape, m, n]);
}

/** Swap the last two axes. */
export function transposeLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}
