import * as tf from '@tensorflow/tfjs-core';

/*
 * LayerNorm and GELU with hand-written gradients. Autodiff through their elementwise definitions
 * records ~25 (LayerNorm) and ~20 (GELU) kernels per call for the backward pass, each a full pass
 * over [B·T, D] or [B·T, 4D] with a fresh allocation; on wasm those passes were a fifth of a
 * training step. The closed forms below need 8–10, and keep the forward values identical to the
 * elementwise definitions up to float32 rounding.
 */

/** Reduce a gradient [N, D] of a [D] parameter that was broadcast over the rows. */
function sumRows(x: tf.Tensor): tf.Tensor {
  return tf.sum(tf.reshape(x, [-1, x.shape[x.rank - 1]!]), 0);
}

/**
 * LayerNorm over the last axis: (x − mean) / √(var + eps) · g + b, var the biased variance.
 * Backward (x̂ the normalised input, r = 1/√(var+eps), dx̂ = dy·g):
 * dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)), dg = Σ dy·x̂, db = Σ dy.
 */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, gi, bi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const centered = tf.sub(xi, tf.mean(xi, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
    const xhat = tf.mul(centered, rstd);
    save([xhat, rstd, gi]);
    return {
      value: tf.add(tf.mul(xhat, gi), bi),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor;
        const [sx, sr, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dxhat = tf.mul(d, sg);
        const inner = tf.sub(
          tf.sub(dxhat, tf.mean(dxhat, -1, true)),
          tf.mul(sx, tf.mean(tf.mul(dxhat, sx), -1, true)),
        );
        return [tf.mul(inner, sr), sumRows(tf.mul(d, sx)), sumRows(d)];
      },
    };
  });
  return f(x, g, b);
}

const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;

/**
 * gelu_new (GPT-2's tanh approximation) 0.5·x·(1 + tanh(u)), u = c·(x + a·x³), computed as the
 * identical x·σ(2u): wasm's Sigmoid kernel is ~4× faster than its Tanh here.
 * Backward: s + x·s·(1 − s)·2c·(1 + 3a·x²), s = σ(2u).
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const x2 = tf.square(xi);
    const s = tf.sigmoid(tf.mul(xi, tf.add(tf.mul(x2, 2 * C * A), 2 * C)));
    save([xi, x2, s]);
    return {
      value: tf.mul(xi, s),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sx2, ss] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const slope = tf.add(tf.mul(sx2, 6 * C * A), 2 * C);
        const ds = tf.mul(tf.mul(ss, tf.sub(1, ss)), tf.mul(sx, slope));
        return [tf.mul(dy as tf.Tensor, tf.add(ss, ds))];
      },
    };
  });
  return f(x);
}
