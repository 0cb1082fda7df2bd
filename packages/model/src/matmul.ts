import * as tf from '@tensorflow/tfjs-core';
import { nativeGemmActive } from './native.js';

/*
 * tfjs-backend-wasm 4.22 runs a 2-D matMul without transpose flags through XNNPACK but takes a
 * slow path for 2-D transposeA/transposeB (15–30× slower), which the registered MatMul gradient
 * uses: on stock wasm, 2-D products go through `mm2d` below, whose gradient transposes
 * explicitly (a fast kernel) and multiplies without flags. Batched 3-D products (attention,
 * [B·H, T, hd]) are a different story: the batched kernel, with or without flags, took ~3 ms for
 * [12, 64, 64]² here against ~35 ms for one 2-D product per batch entry with unstack/stack
 * (measured with bench/profile-train.ts), so they go straight to tf.matMul.
 *
 * With the native kernels (`enableNativeKernels`), BatchMatMul is a BLAS call whose transpose
 * flags cost nothing, so every product, forward and backward, is a flagged tf.matMul and the
 * explicit transposes disappear.
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

/** Stock wasm without native kernels: flags are slow there (see above). */
function slowFlags(): boolean {
  return tf.getBackend() === 'wasm' && !nativeGemmActive();
}

/**
 * op(a) [..., m, k] · op(b) [..., k, n] with equal batch dims, where op transposes the last two
 * axes when its flag is set.
 */
export function matmul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (a.rank > 3) {
    const batchShape = a.shape.slice(0, -2);
    const count = batchShape.reduce((x, y) => x * y, 1);
    const product = matmul(
      tf.reshape(a, [count, ...a.shape.slice(-2)]),
      tf.reshape(b, [count, ...b.shape.slice(-2)]),
      transposeA,
      transposeB,
    );
    return tf.reshape(product, [...batchShape, ...product.shape.slice(-2)]);
  }
  if (!slowFlags()) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB);
  const ea = transposeA ? transposeLast(a) : a;
  const eb = transposeB ? transposeLast(b) : b;
  if (a.rank === 2) return mm2d(ea, eb);
  return tf.matMul(ea as tf.Tensor3D, eb as tf.Tensor3D);
}

/** Swap the last two axes. */
export function transposeLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}
