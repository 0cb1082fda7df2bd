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
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor2D;
        return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
      }),
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
  const eb = transposeB ? (cachedTranspose(b) ?? transposeLast(b)) : b;
  if (a.rank === 2) return mm2d(ea, eb);
  return tf.matMul(ea as tf.Tensor3D, eb as tf.Tensor3D);
}

/**
 * The gradients of `matmul(a, b, transposeA, transposeB)` (rank 2 or 3) for the output gradient
 * dy, computed as the tape computes them for that call, kernel for kernel (tfjs's BatchMatMul
 * gradient; on stock wasm, mm2d's and the explicit transposes'): for hand-written backward passes
 * that must give the gradients autodiff gave. `want`: which of [da, db] to compute.
 */
export function matmulGradients(
  a: tf.Tensor,
  b: tf.Tensor,
  dy: tf.Tensor,
  transposeA = false,
  transposeB = false,
  want: [boolean, boolean] = [true, true],
): [tf.Tensor | undefined, tf.Tensor | undefined] {
  const mm = (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) =>
    tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, tx, ty);
  if (!slowFlags()) {
    const [tA, tB] = [transposeA, transposeB];
    if (!tA && !tB)
      return [want[0] ? mm(dy, b, false, true) : undefined, want[1] ? mm(a, dy, true, false) : undefined];
    if (!tA && tB)
      return [want[0] ? mm(dy, b, false, false) : undefined, want[1] ? mm(dy, a, true, false) : undefined];
    if (tA && !tB)
      return [want[0] ? mm(b, dy, false, true) : undefined, want[1] ? mm(a, dy, false, false) : undefined];
    return [want[0] ? mm(b, dy, true, true) : undefined, want[1] ? mm(dy, a, true, true) : undefined];
  }
  // matmul ran op(a) · op(b) with explicit transposes (each undone by its gradient), then mm2d
  // (rank 2) or an unflagged batched product (rank 3).
  const ea = transposeA ? transposeLast(a) : a;
  const eb = transposeB ? transposeLast(b) : b;
  let da: tf.Tensor | undefined;
  let db: tf.Tensor | undefined;
  if (want[0]) {
    da = a.rank === 2 ? tf.matMul(dy as tf.Tensor2D, tf.transpose(eb)) : mm(dy, eb, false, true);
    if (transposeA) da = transposeLast(da);
  }
  if (want[1]) {
    db = a.rank === 2 ? tf.matMul(tf.transpose(ea), dy as tf.Tensor2D) : mm(ea, dy, true, false);
    if (transposeB) db = transposeLast(db);
  }
  return [da, db];
}

/** Swap the last two axes. */
export function transposeLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/*
 * Llama's nn.Linear weights are [out, in], so every product is x · Wᵀ: on stock wasm each one
 * transposes W first (above), and a cached decoding step did that for every weight at every
 * token (14 tokens/s on LLAMA_MINI, 46 ms of transposes per token). Inside
 * `withTransposedWeights` the transposed copy of each variable is made once and reused: no
 * gradient is ever taken there (generation), and an assigned variable gets a new dataId, so a
 * stale copy is never used. The copies are freed when the scope ends.
 */
let transposeCache: Map<object, tf.Tensor> | undefined;
/** Scopes open now: generations may interleave on one thread (awaits), so the last one frees. */
let transposeScopes = 0;

function cachedTranspose(b: tf.Tensor): tf.Tensor | undefined {
  // A product recorded for a gradient (a training step interleaving with a generation) must
  // take W itself: the cached copy is not on the tape.
  const recording = (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
  if (!transposeCache || recording || b.rank !== 2 || !(b instanceof tf.Variable)) return undefined;
  let t = transposeCache.get(b.dataId);
  if (!t) {
    t = tf.keep(transposeLast(b));
    transposeCache.set(b.dataId, t);
  }
  return t;
}

/**
 * Run `fn` (inference only: no gradient may be taken inside) with each weight's transpose made
 * once instead of at every product. Only stock wasm needs it (the native kernels and the other
 * backends take transpose flags for free); elsewhere it just runs `fn`. Overlapping calls share
 * one cache, freed when the last ends.
 */
export async function withTransposedWeights<T>(fn: () => Promise<T>): Promise<T> {
  if (!transposeCache && !slowFlags()) return fn();
  transposeCache ??= new Map();
  transposeScopes++;
  try {
    return await fn();
  } finally {
    if (--transposeScopes === 0) {
      const cache = transposeCache;
      transposeCache = undefined;
      tf.dispose([...cache.values()]);
    }
  }
}

/**
 * x · Wᵀ with a gradient for x only (dx = dy · W): W is captured, not an input, so the backward
 * pass computes no dW. A customGrad's gradient function yields every input's gradient and they
 * live until the backward pass ends, so with frozen (LoRA) base weights a plain product would
 * hold a full set of unused weight gradients at the peak.
 */
export function frozenProduct(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi] = args as [tf.Tensor];
    return {
      value: matmul(xi, w, false, true),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.tidy(() => [matmul(dy as tf.Tensor, w)]),
    };
  });
  return f(x);
}
