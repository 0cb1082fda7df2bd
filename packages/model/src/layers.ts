import * as tf from '@tensorflow/tfjs-core';
import type { LowRankTerm } from './forward.js';
import { matmul, matmulGradients } from './matmul.js';
import { FUSED_KERNELS, fusedKernelsActive, runFused } from './native.js';

/*
 * LayerNorm and GELU with hand-written gradients. Autodiff through their elementwise definitions
 * records ~25 (LayerNorm) and ~20 (GELU) kernels per call for the backward pass, each a full pass
 * over [B·T, D] or [B·T, 4D] with a fresh allocation; on wasm those passes were a fifth of a
 * training step. The closed forms below need 8–10, and keep the forward values identical to the
 * elementwise definitions up to float32 rounding.
 *
 * With the native kernels on (see native.ts), each forward is one fused kernel that also returns
 * what the backward pass saves (x̂ and rstd; σ(2u)); `inference: true` skips those and the
 * gradient bookkeeping (generation, scoring).
 */

/**
 * Reduce a gradient [N, D] of a [D] parameter that was broadcast over the rows. wasm's Sum over
 * axis 0 transposes first (19 ms of a 150 ms GPT2_MINI step); with native GEMM it is 1ᵀ·x.
 */
export function sumRows(x: tf.Tensor): tf.Tensor {
  const rows = tf.reshape(x, [-1, x.shape[x.rank - 1]!]) as tf.Tensor2D;
  if (!fusedKernelsActive(x)) return tf.sum(rows, 0);
  return tf.reshape(matmul(tf.ones([1, rows.shape[0]]), rows), [rows.shape[1]]);
}

/**
 * LayerNorm over the last axis: (x − mean) / √(var + eps) · g + b, var the biased variance.
 * Backward (x̂ the normalised input, r = 1/√(var+eps), dx̂ = dy·g):
 * dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)), dg = Σ dy·x̂, db = Σ dy.
 */
export function layerNorm(
  x: tf.Tensor,
  g: tf.Tensor,
  b: tf.Tensor,
  eps: number,
  inference = false,
): tf.Tensor {
  const fused = fusedKernelsActive(x, g, b);
  if (fused && inference)
    return runFused(FUSED_KERNELS.layerNorm, { x, g, b }, { eps, stats: false }) as tf.Tensor;
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, gi, bi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    let value: tf.Tensor;
    let xhat: tf.Tensor;
    let rstd: tf.Tensor;
    if (fused) {
      [value, xhat, rstd] = runFused(
        FUSED_KERNELS.layerNorm,
        { x: xi, g: gi, b: bi },
        { eps, stats: true },
      ) as [tf.Tensor, tf.Tensor, tf.Tensor];
    } else {
      const centered = tf.sub(xi, tf.mean(xi, -1, true));
      rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
      xhat = tf.mul(centered, rstd);
      value = tf.add(tf.mul(xhat, gi), bi);
    }
    save([xhat, rstd, gi]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const d = dy as tf.Tensor;
          const [sx, sr, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
          const dxhat = tf.mul(d, sg);
          const inner = tf.sub(
            tf.sub(dxhat, tf.mean(dxhat, -1, true)),
            tf.mul(sx, tf.mean(tf.mul(dxhat, sx), -1, true)),
          );
          return [tf.mul(inner, sr), sumRows(tf.mul(d, sx)), sumRows(d)];
        }),
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
export function gelu(x: tf.Tensor, inference = false): tf.Tensor {
  const fused = fusedKernelsActive(x);
  if (fused && inference) return runFused(FUSED_KERNELS.gelu, { x }, { withSigmoid: false }) as tf.Tensor;
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, save] = args as [tf.Tensor, tf.GradSaveFunc];
    let value: tf.Tensor;
    let s: tf.Tensor;
    if (fused) {
      [value, s] = runFused(FUSED_KERNELS.gelu, { x: xi }, { withSigmoid: true }) as [tf.Tensor, tf.Tensor];
    } else {
      s = tf.sigmoid(tf.mul(xi, tf.add(tf.mul(tf.square(xi), 2 * C * A), 2 * C)));
      value = tf.mul(xi, s);
    }
    save([xi, s]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, ss] = saved as [tf.Tensor, tf.Tensor];
          const slope = tf.add(tf.mul(tf.square(sx), 6 * C * A), 2 * C);
          const ds = tf.mul(tf.mul(ss, tf.sub(1, ss)), tf.mul(sx, slope));
          return [tf.mul(dy as tf.Tensor, tf.add(ss, ds))];
        }),
    };
  });
  return f(x);
}

/**
 * HF Conv1D: x [N, in] · W [in, out] + b, plus an optional residual r [N, out] (the block's
 * `x + attn(…)` and `x + mlp(…)`). With the native kernels on, bias and residual ride in the GEMM
 * (β = 1) and the gradient is the one autodiff gives matMul + adds: dx = dy·Wᵀ, dW = xᵀ·dy,
 * db = Σ rows of dy, dr = dy.
 */
export function linear(
  x: tf.Tensor2D,
  w: tf.Tensor,
  b: tf.Tensor,
  inference = false,
  residual?: tf.Tensor2D,
  frozen = false,
): tf.Tensor2D {
  const fused = fusedKernelsActive(x, w, b, ...(residual ? [residual] : []));
  if (frozen && !inference) return frozenLinear(x, w, b, fused, residual);
  if (!fused) {
    const y = tf.add(matmul(x, w), b) as tf.Tensor2D;
    return residual ? (tf.add(residual, y) as tf.Tensor2D) : y;
  }
  const inputs = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor, ri?: tf.Tensor): Record<string, tf.Tensor> =>
    ri ? { x: xi, w: wi, b: bi, r: ri } : { x: xi, w: wi, b: bi };
  if (inference) return runFused(FUSED_KERNELS.linear, inputs(x, w, b, residual)) as tf.Tensor2D;
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xi, wi, bi, ri] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor, tf.Tensor2D | undefined];
    save([xi, wi]);
    return {
      value: runFused(FUSED_KERNELS.linear, inputs(xi, wi, bi, ri)) as tf.Tensor,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const d = dy as tf.Tensor2D;
          const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
          const grads = [matmul(d, sw, false, true), matmul(sx, d, true, false), sumRows(d)];
          return ri ? [...grads, d] : grads;
        }),
    };
  });
  return (residual ? f(x, w, b, residual) : f(x, w, b)) as tf.Tensor2D;
}

/**
 * `linear` with frozen w and b (LoRA's base): a gradient for x (and the residual) only. w and b
 * are captured, not inputs, so the backward pass computes no dW or db (a customGrad yields every
 * input's gradient, and they would all be held until the backward pass ends).
 */
function frozenLinear(
  x: tf.Tensor2D,
  w: tf.Tensor,
  b: tf.Tensor,
  fused: boolean,
  residual?: tf.Tensor2D,
): tf.Tensor2D {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    args.pop(); // save: nothing to keep beyond the captured w
    const [xi, ri] = args as [tf.Tensor2D, tf.Tensor2D | undefined];
    let value: tf.Tensor;
    if (fused)
      value = runFused(FUSED_KERNELS.linear, ri ? { x: xi, w, b, r: ri } : { x: xi, w, b }) as tf.Tensor;
    else {
      const y = tf.add(matmul(xi, w), b);
      value = ri ? tf.add(ri, y) : y;
    }
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) =>
        tf.tidy(() => {
          const d = dy as tf.Tensor2D;
          const dx = matmul(d, w, false, true);
          return ri ? [dx, d] : [dx];
        }),
    };
  });
  return (residual ? f(x, residual) : f(x)) as tf.Tensor2D;
}

/**
 * Tensors a hand-written backward pass reads. Variables are read as they are (they outlive the
 * step: no copy); other tensors go through customGrad's `save` (a copy on wasm, whose Identity
 * kernel copies), each once however many times it is held.
 */
export class HeldTensors {
  readonly list: tf.Tensor[] = [];
  private readonly index = new Map<tf.Tensor, number>();

  hold(t: tf.Tensor): (saved: tf.Tensor[]) => tf.Tensor {
    if (t instanceof tf.Variable) return () => t;
    let i = this.index.get(t);
    if (i === undefined) {
      i = this.list.push(t) - 1;
      this.index.set(t, i);
    }
    const at = i;
    return (saved) => saved[at]!;
  }
}

/**
 * A customGrad over `inputs` whose backward pass runs in a tidy. tfjs keeps every gradient the
 * tape produces until the whole backward pass ends, and a customGrad's gradient function runs
 * outside any tidy, so without one its temporaries would live that long too. `forward` returns
 * the value and the gradients function (one gradient per input, in order); `held` are the
 * tensors the gradients read (see HeldTensors).
 */
export function fusedOp(
  inputs: tf.Tensor[],
  forward: (held: HeldTensors) => {
    value: tf.Tensor;
    gradients: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
  },
): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const held = new HeldTensors();
    const { value, gradients } = forward(held);
    save(held.list);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => gradients(dy as tf.Tensor, saved)),
    };
  });
  return f(...inputs);
}

/** scale · (dropout(x) · Aᵀ) · Bᵀ [N, out], and the [N, r] activation `low` its gradients read. */
export function lowRankForward(x: tf.Tensor, t: LowRankTerm): { value: tf.Tensor; low: tf.Tensor } {
  const input = t.dropout ? t.dropout(x) : x;
  const low = tf.mul(matmul(input, t.a, false, true), t.scale); // [N, r]
  return { value: matmul(low, t.b, false, true), low };
}

/**
 * Gradients [dx, dA, dB] of lowRankForward for dy [N, out], as autodiff of its ops gives them
 * (the dropout mask recomputed from its seed: the same mask).
 */
export function lowRankBackward(
  dy: tf.Tensor,
  x: tf.Tensor,
  low: tf.Tensor,
  t: LowRankTerm,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const [dlow, dB] = matmulGradients(low, t.b, dy, false, true);
  const dm = tf.mul(dlow!, t.scale);
  const input = t.dropout ? t.dropout(x) : x;
  const [dinput, dA] = matmulGradients(input, t.a, dm, false, true);
  return [t.dropout ? t.dropout(dinput!) : dinput!, dA!, dB!];
}

/**
 * y + scale · (dropout(x) · Aᵀ) · Bᵀ as one differentiable op: its backward pass reads x and the
 * [N, r] activation only (autodiff of the plain ops would keep copies of both addends, [N, out]
 * each, and every intermediate gradient until the backward pass ends).
 */
export function addLowRank(x: tf.Tensor2D, y: tf.Tensor2D, t: LowRankTerm): tf.Tensor2D {
  return fusedOp([y, x, t.a, t.b], (held) => {
    const { value, low } = lowRankForward(x, t);
    const [hx, hlow, ha, hb] = [held.hold(x), held.hold(low), held.hold(t.a), held.hold(t.b)];
    return {
      value: tf.add(y, value),
      gradients: (dy, saved) => {
        const term = { ...t, a: ha(saved), b: hb(saved) };
        const [dx, dA, dB] = lowRankBackward(dy, hx(saved), hlow(saved), term);
        return [dy, dx, dA, dB];
      },
    };
  }) as tf.Tensor2D;
}
