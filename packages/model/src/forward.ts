import * as tf from '@tensorflow/tfjs-core';
import type { ResolvedGPT2Config } from './config.js';
import { gelu, layerNorm, linear } from './layers.js';
import { frozenProduct, matmul } from './matmul.js';
import { FUSED_KERNELS, fusedKernelsActive, runFused } from './native.js';

/** One layer's cached keys and values, [B, H, S, headDim]. */
export interface LayerCache {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

export type ParamLookup = (name: string) => tf.Tensor;

export interface ForwardInput {
  /** int32 [B, T] */
  ids: tf.Tensor2D;
  /** int32 [B, T]: position of each token (left padding shifts them, as HF generation does). */
  positions: tf.Tensor2D;
  /** float32 [B, S] over past + current keys: 1 = attend, 0 = padding. */
  keyMask?: tf.Tensor2D;
  past?: LayerCache[];
  /**
   * Training path: embeddings are looked up with gather but differentiated with a one-hot
   * matMul, because the gather gradient (UnsortedSegmentSum) has no wasm kernel.
   */
  differentiable: boolean;
  /** Low-rank terms added to named linear layers (LoRA, see lora.ts); none by default. */
  adapter?: LinearAdapter;
}

/**
 * What a family forward calls around each linear layer it owns (attention and MLP projections):
 * `adapt(module, x, y)` returns the module's output `y` (for input rows `x`) plus the adapter's
 * term; `module` is the Hugging Face module name (`model.layers.0.self_attn.q_proj`,
 * `transformer.h.0.attn.c_attn`). With `frozenBase` the base weights get no gradient, and the
 * Llama forward then skips their weight gradients (dW) and the one-hot embedding product.
 */
export interface LinearAdapter {
  frozenBase: boolean;
  adapt(module: string, x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D;
  /**
   * The module's term as its parts, for a forward that fuses it into its own products (the Llama
   * training pass); undefined when the module has no adapter.
   */
  lowRank?(module: string): LowRankTerm | undefined;
}

/**
 * scale · (dropout(x) · Aᵀ) · Bᵀ, A [r, in], B [out, r]. `dropout` (absent: none) must give the
 * same mask at every call on a given module, so that a backward pass can recompute it.
 */
export interface LowRankTerm {
  a: tf.Tensor;
  b: tf.Tensor;
  scale: number;
  dropout?: (x: tf.Tensor) => tf.Tensor;
}

export interface ForwardOutput {
  /** [B, T, D] after the final LayerNorm. */
  hidden: tf.Tensor3D;
  present?: LayerCache[];
}

const NEG = -1e9;

/**
 * Row lookup whose gradient is oneHot(ids)ᵀ · dy: MatMul, a kernel every backend has. The ids
 * travel as a float input (exact below 2^24) so that `save` keeps them alive for the backward pass.
 */
export function embedDifferentiable(table: tf.Tensor, ids: tf.Tensor1D): tf.Tensor2D {
  const rows = table.shape[0]!;
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [w, idsF, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([idsF]);
    return {
      value: tf.gather(w, tf.cast(idsF, 'int32')),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const oneHot = oneHotFloat(tf.cast(saved[0]!, 'int32'), rows);
          return [matmul(oneHot, dy as tf.Tensor2D, true), tf.zerosLike(saved[0]!)];
        }),
    };
  });
  return f(table, tf.cast(ids, 'float32')) as tf.Tensor2D;
}

/**
 * One-hot as float32. tfjs-backend-wasm 4.22's OneHot kernel ignores the dtype argument and writes
 * int32 bits into a float32 tensor, so build it as int32 and cast.
 */
export function oneHotFloat(ids: tf.Tensor, depth: number): tf.Tensor {
  return tf.cast(tf.oneHot(ids as tf.Tensor1D, depth), 'float32');
}

/** Additive attention bias [B, 1, T, S]: causal over the last T of S keys, plus key padding. */
export function attentionBias(batch: number, t: number, s: number, keyMask?: tf.Tensor2D): tf.Tensor {
  const causal = new Float32Array(t * s);
  const offset = s - t;
  for (let i = 0; i < t; i++) {
    for (let j = offset + i + 1; j < s; j++) causal[i * s + j] = NEG;
  }
  const c = tf.tensor4d(causal, [1, 1, t, s]);
  if (!keyMask) return c;
  const pad = tf.mul(tf.sub(1, tf.reshape(keyMask, [batch, 1, 1, s])), NEG);
  return tf.add(c, pad);
}

export function gpt2Forward(config: ResolvedGPT2Config, p: ParamLookup, input: ForwardInput): ForwardOutput {
  const [batch, t] = input.ids.shape;
  const d = config.nEmbd;
  const h = config.nHead;
  const hd = d / h;
  const flatIds = tf.reshape(input.ids, [batch * t]) as tf.Tensor1D;
  const flatPos = tf.reshape(input.positions, [batch * t]) as tf.Tensor1D;
  const wte = p('transformer.wte.weight');
  const wpe = p('transformer.wpe.weight');
  // Frozen base (LoRA): no weight gradients, so the embeddings need none either (a plain gather).
  const frozen = input.differentiable && (input.adapter?.frozenBase ?? false);
  const embed = input.differentiable && !frozen;
  const tok = embed ? embedDifferentiable(wte, flatIds) : tf.gather(wte, flatIds);
  const pos = embed ? embedDifferentiable(wpe, flatPos) : tf.gather(wpe, flatPos);
  let x = tf.add(tok, pos) as tf.Tensor2D; // [B*T, D]
  const pastLen = input.past?.[0]?.k.shape[2] ?? 0;
  const s = pastLen + t;
  const bias = attentionBias(batch, t, s, input.keyMask);
  const scale = 1 / Math.sqrt(hd);
  const present: LayerCache[] = [];
  // No gradient will be taken (generation, scoring, a frozen reference): fused kernels skip
  // what only the backward pass needs.
  const inference = !input.differentiable;
  const eps = config.layerNormEpsilon;
  for (let l = 0; l < config.nLayer; l++) {
    const n = (suffix: string) => p(`transformer.h.${l}.${suffix}`);
    const adapt = (module: string, xin: tf.Tensor2D, y: tf.Tensor2D) =>
      input.adapter ? input.adapter.adapt(`transformer.h.${l}.${module}`, xin, y) : y;
    const a = layerNorm(x, n('ln_1.weight'), n('ln_1.bias'), eps, inference) as tf.Tensor2D;
    const qkv = adapt(
      'attn.c_attn',
      a,
      linear(a, n('attn.c_attn.weight'), n('attn.c_attn.bias'), inference, undefined, frozen),
    );
    const past = input.past?.[l];
    let q: tf.Tensor4D;
    let kh: tf.Tensor4D;
    let vh: tf.Tensor4D;
    if (fusedKernelsActive(qkv) && (inference || !past)) {
      // Head split (and KV-cache append when decoding) in one native kernel; in training its
      // registered gradient merges the heads back (wasm's SplitV of the 5-D transpose below took
      // ~6 ms a call, a quarter of a native step). The cache gets no gradient: never with `past`.
      [q, kh, vh] = runFused(
        FUSED_KERNELS.splitHeads,
        past ? { qkv, pastK: past.k, pastV: past.v } : { qkv },
        { batch, tokens: t, heads: h },
      ) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    } else {
      // One transpose [B, T, 3, H, hd] → [3, B, H, T, hd] for q, k and v together (not three).
      const split = tf.transpose(tf.reshape(qkv, [batch, t, 3, h, hd]), [2, 0, 3, 1, 4]);
      const [sq, sk, sv] = tf.split(split, 3, 0).map((m) => tf.reshape(m, [batch, h, t, hd]) as tf.Tensor4D);
      [q, kh, vh] = [sq!, sk!, sv!];
      if (past) {
        kh = tf.concat([past.k, kh], 2);
        vh = tf.concat([past.v, vh], 2);
      }
    }
    present.push({ k: kh, v: vh });
    let ctx: tf.Tensor; // [B, H, T, hd]
    if (t === 1 && inference && fusedKernelsActive(q, kh, vh, bias)) {
      // Cached decoding with the native kernels: one fused kernel per layer.
      ctx = runFused(
        FUSED_KERNELS.attendOne,
        { q: q, k: kh, v: vh, bias: tf.reshape(bias, [bias.shape[0]!, s]) },
        { scale },
      ) as tf.Tensor;
    } else if (t === 1) {
      // One new token (cached decoding): broadcast products instead of B·H tiny matMuls.
      const scores = tf.add(
        tf.mul(tf.sum(tf.mul(q, kh), -1), scale),
        tf.reshape(bias, [bias.shape[0]!, 1, s]),
      );
      const probs = tf.softmax(scores); // [B, H, S]
      ctx = tf.expandDims(tf.sum(tf.mul(tf.expandDims(probs, -1), vh), 2), 2);
    } else {
      const scores = tf.add(tf.mul(matmul(q, kh, false, true), scale), bias);
      ctx = matmul(tf.softmax(scores), vh);
    }
    // [B, H, T, hd] → [B·T, D]; with one token the transpose moves nothing.
    const merged = (
      t === 1 ? tf.reshape(ctx, [batch, d]) : tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [batch * t, d])
    ) as tf.Tensor2D;
    x = adapt(
      'attn.c_proj',
      merged,
      linear(merged, n('attn.c_proj.weight'), n('attn.c_proj.bias'), inference, x, frozen),
    );
    const m = layerNorm(x, n('ln_2.weight'), n('ln_2.bias'), eps, inference) as tf.Tensor2D;
    const fc = adapt(
      'mlp.c_fc',
      m,
      linear(m, n('mlp.c_fc.weight'), n('mlp.c_fc.bias'), inference, undefined, frozen),
    );
    const up = gelu(fc, inference) as tf.Tensor2D;
    x = adapt(
      'mlp.c_proj',
      up,
      linear(up, n('mlp.c_proj.weight'), n('mlp.c_proj.bias'), inference, x, frozen),
    );
  }
  const out = layerNorm(x, p('transformer.ln_f.weight'), p('transformer.ln_f.bias'), eps, inference);
  return { hidden: tf.reshape(out, [batch, t, d]) as tf.Tensor3D, present };
}

/** Tied LM head: hidden [..., D] · wteᵀ → logits [..., V]. */
export function lmHead(p: ParamLookup, hidden: tf.Tensor, frozen = false): tf.Tensor {
  const shape = hidden.shape;
  const d = shape[shape.length - 1]!;
  const wte = p('transformer.wte.weight') as tf.Tensor2D;
  const flat = tf.reshape(hidden, [-1, d]) as tf.Tensor2D;
  const logits = frozen ? frozenProduct(flat, wte) : matmul(flat, wte, false, true);
  return tf.reshape(logits, [...shape.slice(0, -1), wte.shape[0]]);
}

/** Value head: hidden [..., D] → [...]. */
export function valueHead(p: ParamLookup, hidden: tf.Tensor): tf.Tensor {
  const shape = hidden.shape;
  const d = shape[shape.length - 1]!;
  const flat = tf.reshape(hidden, [-1, d]) as tf.Tensor2D;
  const v = tf.add(matmul(flat, p('v_head.summary.weight'), false, true), p('v_head.summary.bias'));
  return tf.reshape(v, shape.slice(0, -1));
}

/** HF generation's positions under left padding: cumsum(mask) − 1, clamped at 0 on pads. */
export function positionsFromMask(mask: number[][], start: number[] = []): number[][] {
  return mask.map((row, i) => {
    let c = start[i] ?? 0;
    return row.map((m) => {
      c += m;
      return Math.max(c - 1, 0);
    });
  });
}
