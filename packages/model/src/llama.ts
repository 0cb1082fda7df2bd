import { type Rng, StepcoderError, validate } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import {
  attentionBias,
  embedDifferentiable,
  type ForwardInput,
  type ForwardOutput,
  type LayerCache,
  type LowRankTerm,
  type ParamLookup,
} from './forward.js';
import { fusedOp, type HeldTensors, lowRankBackward, lowRankForward, sumRows } from './layers.js';
import { frozenProduct, matmul, matmulGradients } from './matmul.js';
import { FUSED_KERNELS, llamaKernelsActive, runFused } from './native.js';

/*
 * The Llama family (Llama 2/3, CodeLlama, DeepSeek-Coder, Qwen2/Qwen2.5-Coder): pre-norm decoder
 * blocks with RMSNorm, rotary position embeddings (HF's rotate_half convention), grouped-query
 * attention and a SwiGLU MLP, as transformers' modeling_llama.py / modeling_qwen2.py define them.
 * Parameter names and layouts are Hugging Face's (nn.Linear weights [out, in]), so checkpoints
 * load as they are. Every op of the backward pass has a kernel on the wasm backend: embeddings are
 * differentiated through a one-hot product, RMSNorm and SwiGLU have closed-form gradients, and
 * GQA groups the query heads per KV head instead of repeating K/V (no Tile gradient).
 */

/** Size and variant of a Llama-family decoder. `family: 'llama'` tells it from a `GPT2Config`. */
export interface LlamaConfig {
  family: 'llama';
  /** config.json `model_type` written on save: 'llama' (default) or 'qwen2' (q/k/v biases). */
  modelType?: 'llama' | 'qwen2';
  vocabSize: number;
  /** `max_position_embeddings`: the longest sequence the policy handles. */
  nPositions: number;
  hiddenSize: number;
  intermediateSize: number;
  nLayer: number;
  nHead: number;
  /** `num_key_value_heads` (grouped-query attention); default nHead. Must divide nHead. */
  nKvHead?: number;
  /** Per-head size; default hiddenSize / nHead. Must be even (rotary pairs). */
  headDim?: number;
  /** `rms_norm_eps`; default 1e-6. */
  rmsNormEps?: number;
  /** `rope_theta`; default 10000. */
  ropeTheta?: number;
  /** `rope_scaling`: linear (DeepSeek-Coder, CodeLlama-style) or llama3 (Llama 3.1+); default none. */
  ropeScaling?: RopeScaling | null;
  /**
   * Biases on q/k/v (and on o_proj for modelType 'llama', as HF's `attention_bias`). Qwen2 always
   * has q/k/v biases and no o_proj bias; default: true for qwen2, false for llama.
   */
  attentionBias?: boolean;
  /** LM head shares the embedding matrix (`tie_word_embeddings`); default false (HF's default). */
  tieWordEmbeddings?: boolean;
  /** Extra ids that end generation (generation_config.json's `eos_token_id` list). */
  eosTokenIds?: number[];
}

export interface ResolvedLlamaConfig {
  family: 'llama';
  modelType: 'llama' | 'qwen2';
  vocabSize: number;
  nPositions: number;
  hiddenSize: number;
  intermediateSize: number;
  nLayer: number;
  nHead: number;
  nKvHead: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
  eosTokenIds: number[];
}

/**
 * How rotary frequencies are rescaled for a longer context, as transformers' `rope_scaling`:
 * - `linear`: every inverse frequency divided by `factor` (positions interpolated; DeepSeek-Coder
 *   ships `{type: linear, factor: 4}`);
 * - `llama3`: wavelengths above `originalMaxPositionEmbeddings / lowFreqFactor` divided by
 *   `factor`, below `originalMaxPositionEmbeddings / highFreqFactor` kept, smoothly blended between
 *   (Llama 3.1 / 3.2).
 * The position-dependent variants (dynamic NTK, YaRN, LongRoPE) are not implemented.
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/** The rope_scaling types implemented, for error messages. */
export const SUPPORTED_ROPE_SCALING = ['default (none)', 'linear', 'llama3'] as const;

const ropeScalingSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('linear'), factor: z.number().positive() }).strict(),
  z
    .object({
      type: z.literal('llama3'),
      factor: z.number().positive(),
      lowFreqFactor: z.number().positive(),
      highFreqFactor: z.number().positive(),
      originalMaxPositionEmbeddings: z.number().int().positive(),
    })
    .strict()
    .refine((r) => r.highFreqFactor > r.lowFreqFactor, {
      message: 'highFreqFactor must be above lowFreqFactor',
      path: ['highFreqFactor'],
    }),
]);

export const llamaConfigSchema = z
  .object({
    family: z.literal('llama'),
    modelType: z.enum(['llama', 'qwen2']).optional(),
    vocabSize: z.number().int().positive(),
    nPositions: z.number().int().positive(),
    hiddenSize: z.number().int().positive(),
    intermediateSize: z.number().int().positive(),
    nLayer: z.number().int().positive(),
    nHead: z.number().int().positive(),
    nKvHead: z.number().int().positive().optional(),
    headDim: z.number().int().positive().optional(),
    rmsNormEps: z.number().positive().optional(),
    ropeTheta: z.number().positive().optional(),
    ropeScaling: ropeScalingSchema.nullable().optional(),
    attentionBias: z.boolean().optional(),
    tieWordEmbeddings: z.boolean().optional(),
    eosTokenIds: z.array(z.number().int().min(0)).optional(),
  })
  .strict()
  .refine((c) => c.nHead % (c.nKvHead ?? c.nHead) === 0, {
    message: 'nHead must be a multiple of nKvHead',
    path: ['nKvHead'],
  })
  .refine((c) => c.headDim !== undefined || c.hiddenSize % c.nHead === 0, {
    message: 'hiddenSize must be divisible by nHead (or give headDim)',
    path: ['nHead'],
  })
  .refine((c) => (c.headDim ?? c.hiddenSize / c.nHead) % 2 === 0, {
    message: 'the head size must be even (rotary embeddings rotate pairs)',
    path: ['headDim'],
  })
  .refine((c) => !(c.modelType === 'qwen2' && c.attentionBias === false), {
    message: 'qwen2 always has q/k/v biases',
    path: ['attentionBias'],
  });

/** ≈354k parameters with the byte tokenizer (GQA 4:2, untied head): tests and demos. */
export const LLAMA_TINY: LlamaConfig = Object.freeze({
  family: 'llama',
  vocabSize: 258,
  nPositions: 256,
  hiddenSize: 96,
  intermediateSize: 256,
  nLayer: 3,
  nHead: 4,
  nKvHead: 2,
}) as LlamaConfig;

/** ≈9.6M parameters with the byte tokenizer (GQA 6:2, untied head): the Llama-shaped benchmark size. */
export const LLAMA_MINI: LlamaConfig = Object.freeze({
  family: 'llama',
  vocabSize: 258,
  nPositions: 512,
  hiddenSize: 384,
  intermediateSize: 1024,
  nLayer: 6,
  nHead: 6,
  nKvHead: 2,
}) as LlamaConfig;

export function isLlamaConfig(config: unknown): config is LlamaConfig | ResolvedLlamaConfig {
  return (config as { family?: unknown } | undefined)?.family === 'llama';
}

export function resolveLlamaConfig(config: LlamaConfig, where = 'LlamaConfig'): ResolvedLlamaConfig {
  const c = validate(llamaConfigSchema, config, where) as LlamaConfig;
  const modelType = c.modelType ?? 'llama';
  return {
    family: 'llama',
    modelType,
    vocabSize: c.vocabSize,
    nPositions: c.nPositions,
    hiddenSize: c.hiddenSize,
    intermediateSize: c.intermediateSize,
    nLayer: c.nLayer,
    nHead: c.nHead,
    nKvHead: c.nKvHead ?? c.nHead,
    headDim: c.headDim ?? c.hiddenSize / c.nHead,
    rmsNormEps: c.rmsNormEps ?? 1e-6,
    ropeTheta: c.ropeTheta ?? 10000,
    ropeScaling: c.ropeScaling ? { ...c.ropeScaling } : null,
    attentionBias: c.attentionBias ?? modelType === 'qwen2',
    tieWordEmbeddings: c.tieWordEmbeddings ?? false,
    eosTokenIds: [...(c.eosTokenIds ?? [])],
  };
}

const layerName = (l: number, suffix: string) => `model.layers.${l}.${suffix}`;

/** Shape of every parameter by its Hugging Face name (nn.Linear weights are [out, in]). */
export function llamaParameterShapes(c: ResolvedLlamaConfig): Map<string, number[]> {
  const d = c.hiddenSize;
  const q = c.nHead * c.headDim;
  const kv = c.nKvHead * c.headDim;
  const shapes = new Map<string, number[]>();
  shapes.set('model.embed_tokens.weight', [c.vocabSize, d]);
  const oBias = c.attentionBias && c.modelType === 'llama';
  for (let l = 0; l < c.nLayer; l++) {
    const n = (s: string) => layerName(l, s);
    shapes.set(n('self_attn.q_proj.weight'), [q, d]);
    if (c.attentionBias) shapes.set(n('self_attn.q_proj.bias'), [q]);
    shapes.set(n('self_attn.k_proj.weight'), [kv, d]);
    if (c.attentionBias) shapes.set(n('self_attn.k_proj.bias'), [kv]);
    shapes.set(n('self_attn.v_proj.weight'), [kv, d]);
    if (c.attentionBias) shapes.set(n('self_attn.v_proj.bias'), [kv]);
    shapes.set(n('self_attn.o_proj.weight'), [d, q]);
    if (oBias) shapes.set(n('self_attn.o_proj.bias'), [d]);
    shapes.set(n('mlp.gate_proj.weight'), [c.intermediateSize, d]);
    shapes.set(n('mlp.up_proj.weight'), [c.intermediateSize, d]);
    shapes.set(n('mlp.down_proj.weight'), [d, c.intermediateSize]);
    shapes.set(n('input_layernorm.weight'), [d]);
    shapes.set(n('post_attention_layernorm.weight'), [d]);
  }
  shapes.set('model.norm.weight', [d]);
  if (!c.tieWordEmbeddings) shapes.set('lm_head.weight', [c.vocabSize, d]);
  shapes.set('v_head.summary.weight', [1, d]);
  shapes.set('v_head.summary.bias', [1]);
  return shapes;
}

/** Parameter count (decoder, LM head when untied, value head). */
export function countLlamaParameters(config: LlamaConfig): number {
  let n = 0;
  for (const shape of llamaParameterShapes(resolveLlamaConfig(config)).values())
    n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * HF's initialisation for Llama (`initializer_range` 0.02 normal for linears and embeddings, zero
 * biases, unit RMSNorm weights), drawn from the seeded core Rng.
 */
export function llamaInitialWeight(name: string, shape: number[], rng: Rng): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  if (/(layernorm|norm)\.weight$/.test(name)) return out.fill(1);
  if (name.endsWith('.bias')) return out;
  const stream = rng.split(name);
  for (let i = 0; i < size; i++) out[i] = stream.normal() * 0.02;
  return out;
}

/**
 * RMSNorm as HF's LlamaRMSNorm: g · (x · rsqrt(mean(x²) + eps)). Backward (x̂ = x·r, dx̂ = dy·g):
 * dx = r · (dx̂ − x̂ · mean(dx̂ · x̂)), dg = Σ dy · x̂.
 */
export function rmsNorm(x: tf.Tensor, g: tf.Tensor, eps: number, inference = false): tf.Tensor {
  // With the native kernels: one pass (6 wasm kernels otherwise), x̂ and r kept for the backward.
  const native = llamaKernelsActive(x, g);
  if (inference && native)
    return runFused(FUSED_KERNELS.rmsNorm, { x, g }, { eps, stats: false }) as tf.Tensor;
  if (inference) return rmsNormParts(x, g, eps, native).y;
  return fusedOp([x, g], (held) => {
    const { y, r, xhat } = rmsNormParts(x, g, eps, native);
    const [hx, hr, hg] = [held.hold(xhat), held.hold(r), held.hold(g)];
    return {
      value: y,
      gradients: (dy, saved) => {
        const { dx, dg } = rmsNormBackward(dy, hx(saved), hr(saved), hg(saved), true);
        return [dx, dg!];
      },
    };
  });
}

/** RMSNorm's output y and what its gradient reads: x̂ = x·r and r = rsqrt(mean(x²) + eps). */
function rmsNormParts(
  x: tf.Tensor,
  g: tf.Tensor,
  eps: number,
  native: boolean,
): { y: tf.Tensor; r: tf.Tensor; xhat: tf.Tensor } {
  if (native) {
    const [y, xhat, r] = runFused(FUSED_KERNELS.rmsNorm, { x, g }, { eps, stats: true }) as tf.Tensor[];
    return { y: y!, r: r!, xhat: xhat! };
  }
  const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps));
  const xhat = tf.mul(x, r);
  return { y: tf.mul(g, xhat), r, xhat };
}

/** RMSNorm's gradients for dy (dg only when `withG`). */
function rmsNormBackward(
  dy: tf.Tensor,
  xhat: tf.Tensor,
  r: tf.Tensor,
  g: tf.Tensor,
  withG: boolean,
): { dx: tf.Tensor; dg?: tf.Tensor } {
  const dxhat = tf.mul(dy, g);
  const inner = tf.sub(dxhat, tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), -1, true)));
  const dx = tf.mul(inner, r);
  return withG ? { dx, dg: sumRows(tf.mul(dy, xhat)) } : { dx };
}

/**
 * SwiGLU's gate: silu(g) · u = g · σ(g) · u. Backward (s = σ(g)):
 * dg = dy · u · s · (1 + g · (1 − s)), du = dy · g · s.
 */
export function swiglu(gate: tf.Tensor, up: tf.Tensor, inference = false): tf.Tensor {
  const native = llamaKernelsActive(gate, up);
  if (inference)
    return native
      ? (runFused(FUSED_KERNELS.swiglu, { g: gate, u: up }, { saved: false }) as tf.Tensor)
      : tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
  return fusedOp([gate, up], (held) => {
    const { value, s, silu } = swigluParts(gate, up, native);
    const [hu, hs, hl] = [held.hold(up), held.hold(s), held.hold(silu)];
    return {
      value,
      gradients: (dy, saved) => swigluBackward(dy, hu(saved), hs(saved), hl(saved)),
    };
  });
}

/** SwiGLU's value and what its gradient reads: s = σ(g), silu = g·s. */
function swigluParts(
  gate: tf.Tensor,
  up: tf.Tensor,
  native: boolean,
): { value: tf.Tensor; s: tf.Tensor; silu: tf.Tensor } {
  if (native) {
    const [value, s, silu] = runFused(
      FUSED_KERNELS.swiglu,
      { g: gate, u: up },
      { saved: true },
    ) as tf.Tensor[];
    return { value: value!, s: s!, silu: silu! };
  }
  const s = tf.sigmoid(gate);
  const silu = tf.mul(gate, s);
  return { value: tf.mul(silu, up), s, silu };
}

/** SwiGLU's gradients [dgate, dup] for dy. */
function swigluBackward(dy: tf.Tensor, up: tf.Tensor, s: tf.Tensor, silu: tf.Tensor): tf.Tensor[] {
  const dsilu = tf.add(s, tf.mul(silu, tf.sub(1, s))); // σ + g·σ·(1 − σ)
  return [tf.mul(tf.mul(dy, up), dsilu), tf.mul(dy, silu)];
}

/** nn.Linear: x [N, in] · Wᵀ (W [out, in]) + b. `frozen`: no gradient for W, see frozenProduct. */
export function denseOutIn(x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor, frozen = false): tf.Tensor2D {
  const y = (frozen ? frozenProduct(x, w) : matmul(x, w, false, true)) as tf.Tensor2D;
  return b ? (tf.add(y, b) as tf.Tensor2D) : y;
}

/**
 * LlamaRotaryEmbedding's inverse frequencies, in float32 as torch computes them:
 * 1 / θ^(2i/d) for i < d/2, then rescaled as `scaling` says (transformers' modeling_rope_utils:
 * `_compute_linear_scaling_rope_parameters`, `_compute_llama3_parameters`).
 */
export function ropeInverseFrequencies(
  headDim: number,
  theta: number,
  scaling: RopeScaling | null = null,
): Float32Array {
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    const exponent = Math.fround(Math.fround(2 * i) / headDim);
    out[i] = Math.fround(1 / Math.fround(theta ** exponent));
  }
  if (scaling?.type === 'linear') {
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]! / scaling.factor);
  } else if (scaling?.type === 'llama3') {
    const { factor, lowFreqFactor: low, highFreqFactor: high } = scaling;
    const context = scaling.originalMaxPositionEmbeddings;
    const lowFreqWavelen = context / low;
    const highFreqWavelen = context / high;
    for (let i = 0; i < out.length; i++) {
      const inv = out[i]!;
      const wavelen = (2 * Math.PI) / inv;
      if (wavelen > lowFreqWavelen) out[i] = Math.fround(inv / factor);
      else if (wavelen >= highFreqWavelen) {
        // Between the two wavelengths: blend the scaled and the original frequency.
        const smooth = (context / wavelen - low) / (high - low);
        out[i] = Math.fround(((1 - smooth) * inv) / factor + smooth * inv);
      }
    }
  }
  return out;
}

/** cos and sin tables [B, T, 1, hd] for positions [B, T]: emb = cat(freqs, freqs). */
function ropeTables(
  positions: tf.Tensor2D,
  headDim: number,
  theta: number,
  scaling: RopeScaling | null,
): [tf.Tensor, tf.Tensor] {
  const [b, t] = positions.shape;
  const inv = tf.tensor3d(ropeInverseFrequencies(headDim, theta, scaling), [1, 1, headDim / 2]);
  const freqs = tf.mul(tf.reshape(tf.cast(positions, 'float32'), [b, t, 1]), inv);
  const emb = tf.reshape(tf.concat([freqs, freqs], -1), [b, t, 1, headDim]);
  return [tf.cos(emb), tf.sin(emb)];
}

/** q·cos + rotate_half(q)·sin, rotate_half(x) = cat(−x₂, x₁) over the last axis. */
function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
  const rotated = tf.concat([tf.neg(x2), x1], -1);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

/** rotate_half's gradient through applyRope, as autodiff of its ops gives it: dx for dy. */
function applyRopeBackward(dy: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const [dneg, dx1] = tf.split(tf.mul(dy, sin), 2, -1) as [tf.Tensor, tf.Tensor];
  return tf.add(tf.mul(dy, cos), tf.concat([dx1, tf.neg(dneg)], -1));
}

/*
 * The training forward (differentiable, no cache) runs each decoder layer as two ops with
 * hand-written gradients, attention and MLP, residual included. tfjs's tape keeps a copy (wasm's
 * Identity copies) of every tensor a kernel's gradient reads, and every gradient it computes,
 * until the whole backward pass ends. Op by op, a LoRA step on a 4 × 128 batch of LLAMA_MINI
 * (bench:lora) peaked with ~300 MiB of such copies (scores and probabilities with their reshapes
 * several times over, both addends of every residual and LoRA add, a copy of each weight per
 * product in full fine-tuning) and ~440 MiB of gradients. Inside these ops the backward reads
 * only what it needs (x̂ and r of the norms, from which the normed inputs are recomputed; rotated
 * q, k, v; the probabilities; o_proj's input; gate and up, from which SwiGLU's activations are
 * recomputed; LoRA's [N, r] activations), weights are read as the variables they are, and the
 * intermediate gradients are freed as each op's backward ends: ~60 MiB saved, ~40 MiB of
 * gradients. The gradients are the ones autodiff of the op-by-op forward gives, kernel for kernel
 * and in the tape's order of accumulation (bit-identical when written; test/fused-training).
 */

/** One linear layer of a fused training op: x · Wᵀ (+ bias) (+ LoRA's term). */
interface Projection {
  /** [out, in] */
  w: tf.Tensor;
  bias?: tf.Tensor;
  /** W and the bias get gradients (full fine-tuning); else frozen. */
  train: boolean;
  lora?: LowRankTerm;
}

/** The op inputs a projection brings (what gets a gradient), in the order of its gradients. */
function projectionInputs(pr: Projection): tf.Tensor[] {
  const lora = pr.lora ? [pr.lora.a, pr.lora.b] : [];
  if (!pr.train) return lora;
  return [...lora, pr.w, ...(pr.bias ? [pr.bias] : [])];
}

/** Whether a projection's backward reads its input x (for dW, or LoRA's dA). */
function readsInput(pr: Projection): boolean {
  return pr.train || pr.lora !== undefined;
}

/**
 * A projection's forward inside a fused op; `back(dy, x, saved)` gives its input-gradient
 * contributions in the order the tape would accumulate them (LoRA's, then the base product's) and
 * the gradients of projectionInputs.
 */
function projectForward(
  x: tf.Tensor,
  pr: Projection,
  held: HeldTensors,
): {
  y: tf.Tensor;
  back: (
    dy: tf.Tensor,
    x: tf.Tensor | undefined,
    saved: tf.Tensor[],
  ) => { dx: tf.Tensor[]; grads: tf.Tensor[] };
} {
  let y = matmul(x, pr.w, false, true);
  if (pr.bias) y = tf.add(y, pr.bias);
  const hw = held.hold(pr.w);
  let lora: {
    low: (s: tf.Tensor[]) => tf.Tensor;
    a: (s: tf.Tensor[]) => tf.Tensor;
    b: (s: tf.Tensor[]) => tf.Tensor;
  };
  if (pr.lora) {
    const { value, low } = lowRankForward(x, pr.lora);
    y = tf.add(y, value);
    lora = { low: held.hold(low), a: held.hold(pr.lora.a), b: held.hold(pr.lora.b) };
  }
  return {
    y,
    back: (dy, xs, saved) => {
      const dx: tf.Tensor[] = [];
      const grads: tf.Tensor[] = [];
      if (pr.lora) {
        const term = { ...pr.lora, a: lora.a(saved), b: lora.b(saved) };
        const [dxl, dA, dB] = lowRankBackward(dy, xs!, lora.low(saved), term);
        dx.push(dxl);
        grads.push(dA, dB);
      }
      const w = hw(saved);
      dx.push(matmul(dy, w));
      if (pr.train) {
        grads.push(matmulGradients(xs!, w, dy, false, true, [false, true])[1]!);
        if (pr.bias) grads.push(tf.reshape(tf.sum(dy, 0), pr.bias.shape));
      }
      return { dx, grads };
    },
  };
}

/** Σ of gradient contributions in order (the tape's accumulation order). */
function accumulate(parts: tf.Tensor[]): tf.Tensor {
  let acc = parts[0]!;
  for (let i = 1; i < parts.length; i++) acc = tf.add(acc, parts[i]!);
  return acc;
}

/** What the fused training sublayers share within one forward. */
interface TrainingContext {
  c: ResolvedLlamaConfig;
  batch: number;
  t: number;
  native: boolean;
  cos: tf.Tensor;
  sin: tf.Tensor;
  /** [B|1, 1, 1, T, T] */
  bias5: tf.Tensor;
  /** Base weights frozen (LoRA): norms and linears get no gradient. */
  frozen: boolean;
  projection(l: number, module: string, bias?: tf.Tensor): Projection;
  param(l: number, suffix: string): tf.Tensor;
}

/** x + o_proj(attention(rmsNorm(x))) as one op. */
function trainingAttention(k: TrainingContext, l: number, x: tf.Tensor2D): tf.Tensor2D {
  const { c, batch, t, native } = k;
  const h = c.nHead;
  const kvh = c.nKvHead;
  const hd = c.headDim;
  const rep = h / kvh;
  const s = t;
  const scale = 1 / Math.sqrt(hd);
  const g = k.param(l, 'input_layernorm.weight');
  const opt = (suffix: string) => (c.attentionBias ? k.param(l, suffix) : undefined);
  const oBias = c.attentionBias && c.modelType === 'llama';
  const pq = k.projection(l, 'self_attn.q_proj', opt('self_attn.q_proj.bias'));
  const pk = k.projection(l, 'self_attn.k_proj', opt('self_attn.k_proj.bias'));
  const pv = k.projection(l, 'self_attn.v_proj', opt('self_attn.v_proj.bias'));
  const po = k.projection(l, 'self_attn.o_proj', oBias ? k.param(l, 'self_attn.o_proj.bias') : undefined);
  const projections = [pq, pk, pv, po];
  const inputs = [x, ...(k.frozen ? [] : [g]), ...projections.flatMap(projectionInputs)];
  return fusedOp(inputs, (held) => {
    const { y: a, r, xhat } = rmsNormParts(x, g, c.rmsNormEps, native);
    // [B·T, heads·hd] → [B, heads, T, hd], rotated (q, k)
    const heads = (y: tf.Tensor, count: number, rope: boolean) => {
      if (native)
        return runFused(
          FUSED_KERNELS.ropeSplit,
          { y, cos: k.cos, sin: k.sin },
          { batch, tokens: t, heads: count, rotate: rope },
        ) as tf.Tensor;
      let rr: tf.Tensor = tf.reshape(y, [batch, t, count, hd]);
      if (rope) rr = applyRope(rr, k.cos, k.sin);
      return tf.transpose(rr, [0, 2, 1, 3]);
    };
    const fq = projectForward(a, pq, held);
    const fk = projectForward(a, pk, held);
    const fv = projectForward(a, pv, held);
    const q = heads(fq.y, h, true);
    const kk = heads(fk.y, kvh, true);
    const v = heads(fv.y, kvh, false);
    // As the op-by-op forward: the rep query heads of a KV group stacked along the rows.
    const qg = tf.reshape(q, [batch, kvh, rep * t, hd]);
    const scores = tf.reshape(tf.mul(matmul(qg, kk, false, true), scale), [batch, kvh, rep, t, s]);
    const probs = tf.reshape(tf.softmax(tf.add(scores, k.bias5)), [batch, kvh, rep * t, s]);
    const ctx = tf.reshape(matmul(probs, v), [batch, h, t, hd]);
    const merged =
      t === 1
        ? tf.reshape(ctx, [batch, h * hd])
        : tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [batch * t, h * hd]);
    const fo = projectForward(merged, po, held);
    const value = tf.add(x, fo.y);
    const hxhat = held.hold(xhat);
    const hr = held.hold(r);
    const hg = held.hold(g);
    const hmerged = readsInput(po) ? held.hold(merged) : undefined;
    const [hq, hk, hv, hp] = [held.hold(q), held.hold(kk), held.hold(v), held.hold(probs)];
    const [hcos, hsin] = [held.hold(k.cos), held.hold(k.sin)];
    return {
      value,
      gradients: (dy, saved) => {
        // o_proj and the attention: dq, dk, dv [B·T, ·] and o_proj's gradients (temporaries freed here).
        const [dq, dk, dv, ...oGrads] = tf.tidy(() => {
          const cos = hcos(saved);
          const sin = hsin(saved);
          const bo = fo.back(dy, hmerged?.(saved), saved);
          const dmerged = accumulate(bo.dx);
          const dctx =
            t === 1
              ? tf.reshape(dmerged, [batch, h, t, hd])
              : tf.transpose(tf.reshape(dmerged, [batch, t, h, hd]), [0, 2, 1, 3]);
          const bk = batch * kvh;
          const P = hp(saved);
          const [dprobs, dv3] = matmulGradients(
            tf.reshape(P, [bk, rep * t, s]),
            tf.reshape(hv(saved), [bk, s, hd]),
            tf.reshape(dctx, [bk, rep * t, hd]),
          );
          // Softmax's gradient (tfjs's): y · dy − Σ(y · dy) · y over the keys.
          const p5 = tf.reshape(P, [batch, kvh, rep, t, s]);
          const dyTimesY = tf.mul(tf.reshape(dprobs!, [batch, kvh, rep, t, s]), p5);
          const dlogits = tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [-1], true), p5));
          const dproduct = tf.mul(tf.reshape(dlogits, [batch, kvh, rep * t, s]), scale);
          const [dqg, dk3] = matmulGradients(
            tf.reshape(hq(saved), [bk, rep * t, hd]),
            tf.reshape(hk(saved), [bk, s, hd]),
            tf.reshape(dproduct, [bk, rep * t, s]),
            false,
            true,
          );
          const unheads = (d: tf.Tensor, count: number, rope: boolean) => {
            if (native)
              return runFused(FUSED_KERNELS.ropeMerge, { d, cos, sin }, { rotate: rope }) as tf.Tensor;
            let dr = tf.transpose(d, [0, 2, 1, 3]);
            if (rope) dr = applyRopeBackward(dr, cos, sin);
            return tf.reshape(dr, [batch * t, count * hd]);
          };
          return [
            unheads(tf.reshape(dqg!, [batch, h, t, hd]), h, true),
            unheads(tf.reshape(dk3!, [batch, kvh, s, hd]), kvh, true),
            unheads(tf.reshape(dv3!, [batch, kvh, s, hd]), kvh, false),
            ...bo.grads,
          ];
        });
        // q/k/v and the norm. a = g·x̂ is recomputed: the product the norm's forward computed.
        const xh = hxhat(saved);
        const gs = hg(saved);
        const [da, ...qkvGrads] = tf.tidy(() => {
          const as = readsInput(pq) || readsInput(pk) || readsInput(pv) ? tf.mul(gs, xh) : undefined;
          const bq = fq.back(dq!, as, saved);
          const bkk = fk.back(dk!, as, saved);
          const bv = fv.back(dv!, as, saved);
          // a feeds q, k, v in that order: the tape adds v's contributions first.
          return [accumulate([...bv.dx, ...bkk.dx, ...bq.dx]), ...bq.grads, ...bkk.grads, ...bv.grads];
        });
        const norm = rmsNormBackward(da!, xh, hr(saved), gs, !k.frozen);
        return [tf.add(dy, norm.dx), ...(k.frozen ? [] : [norm.dg!]), ...qkvGrads, ...oGrads];
      },
    };
  }) as tf.Tensor2D;
}

/** x + down_proj(swiglu(gate_proj(m), up_proj(m))), m = rmsNorm(x), as one op. */
function trainingMlp(k: TrainingContext, l: number, x: tf.Tensor2D): tf.Tensor2D {
  const { c, native } = k;
  const g = k.param(l, 'post_attention_layernorm.weight');
  const pg = k.projection(l, 'mlp.gate_proj');
  const pu = k.projection(l, 'mlp.up_proj');
  const pd = k.projection(l, 'mlp.down_proj');
  const inputs = [x, ...(k.frozen ? [] : [g]), ...[pg, pu, pd].flatMap(projectionInputs)];
  return fusedOp(inputs, (held) => {
    const { y: m, r, xhat } = rmsNormParts(x, g, c.rmsNormEps, native);
    const fg = projectForward(m, pg, held);
    const fu = projectForward(m, pu, held);
    const gated = swigluParts(fg.y, fu.y, native).value;
    const fd = projectForward(gated, pd, held);
    const value = tf.add(x, fd.y);
    const hxhat = held.hold(xhat);
    const hr = held.hold(r);
    const hg = held.hold(g);
    // gate and up only: σ(gate), silu and the product are recomputed (the same kernels, the same values).
    const [hgate, hup] = [held.hold(fg.y), held.hold(fu.y)];
    return {
      value,
      gradients: (dy, saved) => {
        // down_proj and SwiGLU: dgate, dup and down_proj's gradients (temporaries freed here).
        const [dgate, dup, ...downGrads] = tf.tidy(() => {
          const up = hup(saved);
          const sw = swigluParts(hgate(saved), up, native);
          const bd = fd.back(dy, sw.value, saved);
          return [...swigluBackward(accumulate(bd.dx), up, sw.s, sw.silu), ...bd.grads];
        });
        // gate/up and the norm; m = g·x̂ recomputed as in trainingAttention.
        const xh = hxhat(saved);
        const gs = hg(saved);
        const [dm, ...gateUpGrads] = tf.tidy(() => {
          const ms = readsInput(pg) || readsInput(pu) ? tf.mul(gs, xh) : undefined;
          const bg = fg.back(dgate!, ms, saved);
          const bu = fu.back(dup!, ms, saved);
          return [accumulate([...bu.dx, ...bg.dx]), ...bg.grads, ...bu.grads];
        });
        const norm = rmsNormBackward(dm!, xh, hr(saved), gs, !k.frozen);
        return [tf.add(dy, norm.dx), ...(k.frozen ? [] : [norm.dg!]), ...gateUpGrads, ...downGrads];
      },
    };
  }) as tf.Tensor2D;
}

export function llamaForward(c: ResolvedLlamaConfig, p: ParamLookup, input: ForwardInput): ForwardOutput {
  const [batch, t] = input.ids.shape;
  const d = c.hiddenSize;
  const h = c.nHead;
  const kvh = c.nKvHead;
  const hd = c.headDim;
  const rep = h / kvh;
  const inference = !input.differentiable;
  // Frozen base (LoRA): no weight gradients, and the embeddings need none (a plain gather).
  const frozen = !inference && (input.adapter?.frozenBase ?? false);
  const flatIds = tf.reshape(input.ids, [batch * t]) as tf.Tensor1D;
  const table = p('model.embed_tokens.weight');
  let x = (
    inference || frozen ? tf.gather(table, flatIds) : embedDifferentiable(table, flatIds)
  ) as tf.Tensor2D;
  const pastLen = input.past?.[0]?.k.shape[2] ?? 0;
  const s = pastLen + t;
  const bias = attentionBias(batch, t, s, input.keyMask);
  // [B|1, 1, 1, T, S]: broadcast over KV heads and the query heads of each group.
  const bias5 = tf.reshape(bias, [bias.shape[0]!, 1, 1, t, s]);
  const [cos, sin] = ropeTables(input.positions, hd, c.ropeTheta, c.ropeScaling);
  // The native kernels (RMSNorm, RoPE + head split + cache append, decode attention, SwiGLU).
  const native = llamaKernelsActive(x, cos);
  const scale = 1 / Math.sqrt(hd);
  const eps = c.rmsNormEps;
  const oBias = c.attentionBias && c.modelType === 'llama';
  const present: LayerCache[] = [];
  // Training (no cache): each layer as two ops with hand-written gradients (see trainingAttention).
  // An adapter without lowRank (only `adapt`) keeps the op-by-op path.
  if (!inference && !input.past && (!input.adapter || input.adapter.lowRank)) {
    const lowRank = input.adapter?.lowRank?.bind(input.adapter);
    const k: TrainingContext = {
      c,
      batch,
      t,
      native,
      cos,
      sin,
      bias5,
      frozen,
      param: (l, suffix) => p(layerName(l, suffix)),
      projection: (l, module, b) => {
        const lora = lowRank?.(layerName(l, module));
        return {
          w: p(layerName(l, `${module}.weight`)),
          ...(b ? { bias: b } : {}),
          train: !frozen,
          ...(lora ? { lora } : {}),
        };
      },
    };
    for (let l = 0; l < c.nLayer; l++) x = trainingMlp(k, l, trainingAttention(k, l, x));
    const out = rmsNorm(x, p('model.norm.weight'), eps, inference);
    return { hidden: tf.reshape(out, [batch, t, d]) as tf.Tensor3D };
  }
  for (let l = 0; l < c.nLayer; l++) {
    const n = (suffix: string) => p(layerName(l, suffix));
    const opt = (suffix: string) => (c.attentionBias ? n(suffix) : undefined);
    // A linear layer by its HF module name, with the adapter's term (LoRA) when there is one.
    const proj = (xin: tf.Tensor2D, module: string, b?: tf.Tensor) => {
      const y = denseOutIn(xin, n(`${module}.weight`), b, frozen);
      return input.adapter ? input.adapter.adapt(layerName(l, module), xin, y) : y;
    };
    const a = rmsNorm(x, n('input_layernorm.weight'), eps, inference) as tf.Tensor2D;
    const past = input.past?.[l];
    // [B·T, heads·hd] → [B, T, heads, hd], rotated, → [B, heads, T, hd], after the cached positions
    const heads = (y: tf.Tensor2D, count: number, rope: boolean, cached?: tf.Tensor4D) => {
      if (native && (inference || !cached))
        // One native pass instead of ~10 kernels (its gradient is registered for training).
        return runFused(FUSED_KERNELS.ropeSplit, cached ? { y, cos, sin, past: cached } : { y, cos, sin }, {
          batch,
          tokens: t,
          heads: count,
          rotate: rope,
        }) as tf.Tensor4D;
      let r: tf.Tensor = tf.reshape(y, [batch, t, count, hd]);
      if (rope) r = applyRope(r, cos, sin);
      const split = tf.transpose(r, [0, 2, 1, 3]) as tf.Tensor4D;
      return cached ? (tf.concat([cached, split], 2) as tf.Tensor4D) : split;
    };
    const q = heads(proj(a, 'self_attn.q_proj', opt('self_attn.q_proj.bias')), h, true);
    const k = heads(proj(a, 'self_attn.k_proj', opt('self_attn.k_proj.bias')), kvh, true, past?.k);
    const v = heads(proj(a, 'self_attn.v_proj', opt('self_attn.v_proj.bias')), kvh, false, past?.v);
    present.push({ k, v });
    let ctx: tf.Tensor;
    if (t === 1 && inference && native) {
      // Cached decoding: one fused kernel per layer (query head j reads KV head ⌊j / rep⌋).
      ctx = runFused(
        FUSED_KERNELS.attendOne,
        { q, k, v, bias: tf.reshape(bias, [bias.shape[0]!, s]) },
        { scale, kvHeads: kvh },
      ) as tf.Tensor;
    } else {
      // GQA as HF's repeat_kv: query head j uses KV head ⌊j / rep⌋. The rep query heads of a
      // group are stacked along the rows, so one product per KV head serves them all.
      const qg = tf.reshape(q, [batch, kvh, rep * t, hd]);
      const scores = tf.reshape(tf.mul(matmul(qg, k, false, true), scale), [batch, kvh, rep, t, s]);
      const probs = tf.reshape(tf.softmax(tf.add(scores, bias5)), [batch, kvh, rep * t, s]);
      ctx = tf.reshape(matmul(probs, v), [batch, h, t, hd]);
    }
    const merged = (
      t === 1
        ? tf.reshape(ctx, [batch, h * hd])
        : tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [batch * t, h * hd])
    ) as tf.Tensor2D;
    x = tf.add(
      x,
      proj(merged, 'self_attn.o_proj', oBias ? n('self_attn.o_proj.bias') : undefined),
    ) as tf.Tensor2D;
    const m = rmsNorm(x, n('post_attention_layernorm.weight'), eps, inference) as tf.Tensor2D;
    const gated = swiglu(proj(m, 'mlp.gate_proj'), proj(m, 'mlp.up_proj'), inference) as tf.Tensor2D;
    x = tf.add(x, proj(gated, 'mlp.down_proj')) as tf.Tensor2D;
  }
  const out = rmsNorm(x, p('model.norm.weight'), eps, inference);
  return { hidden: tf.reshape(out, [batch, t, d]) as tf.Tensor3D, present };
}

/**
 * LM head: hidden [..., D] · Wᵀ (lm_head.weight, or the embeddings when tied) → [..., V].
 * `frozen`: no gradient for W (LoRA).
 */
export function llamaLmHead(
  c: ResolvedLlamaConfig,
  p: ParamLookup,
  hidden: tf.Tensor,
  frozen = false,
): tf.Tensor {
  const shape = hidden.shape;
  const w = p(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight') as tf.Tensor2D;
  const flat = tf.reshape(hidden, [-1, shape[shape.length - 1]!]) as tf.Tensor2D;
  const logits = frozen ? frozenProduct(flat, w) : matmul(flat, w, false, true);
  return tf.reshape(logits, [...shape.slice(0, -1), w.shape[0]]);
}

/** config.json as transformers' LlamaConfig / Qwen2Config read it. */
export function toHfLlamaConfig(
  config: LlamaConfig | ResolvedLlamaConfig,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const c = resolveLlamaConfig({ ...config, family: 'llama' } as LlamaConfig);
  const common = {
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.nLayer,
    num_attention_heads: c.nHead,
    num_key_value_heads: c.nKvHead,
    head_dim: c.headDim,
    max_position_embeddings: c.nPositions,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: toHfRopeScaling(c.ropeScaling),
    hidden_act: 'silu',
    attention_dropout: 0,
    initializer_range: 0.02,
    tie_word_embeddings: c.tieWordEmbeddings,
    use_cache: true,
    torch_dtype: 'float32',
  };
  const variant =
    c.modelType === 'qwen2'
      ? {
          architectures: ['Qwen2ForCausalLM'],
          model_type: 'qwen2',
          use_sliding_window: false,
          sliding_window: null,
          max_window_layers: c.nLayer,
        }
      : {
          architectures: ['LlamaForCausalLM'],
          model_type: 'llama',
          attention_bias: c.attentionBias,
          mlp_bias: false,
          pretraining_tp: 1,
        };
  return { ...variant, ...common, ...extra };
}

/** `rope_scaling` as config.json holds it; `type` beside `rope_type` for transformers before 4.43. */
function toHfRopeScaling(r: RopeScaling | null): Record<string, unknown> | null {
  if (!r) return null;
  if (r.type === 'linear') return { rope_type: 'linear', type: 'linear', factor: r.factor };
  return {
    rope_type: 'llama3',
    type: 'llama3',
    factor: r.factor,
    low_freq_factor: r.lowFreqFactor,
    high_freq_factor: r.highFreqFactor,
    original_max_position_embeddings: r.originalMaxPositionEmbeddings,
  };
}

/** config.json's `rope_scaling` as {@link RopeScaling}; a problem (unsupported, missing key) as text. */
function fromHfRopeScaling(json: unknown): { scaling: RopeScaling | null } | { problem: string } {
  if (json === undefined || json === null) return { scaling: null };
  if (typeof json !== 'object')
    return { problem: `rope_scaling must be an object or null, got ${JSON.stringify(json)}` };
  const r = json as Record<string, unknown>;
  const type = r.rope_type ?? r.type;
  const number = (key: string): number | string => {
    const v = r[key];
    return typeof v === 'number' && Number.isFinite(v) && v > 0
      ? v
      : `rope_scaling.${key} must be a positive number, got ${JSON.stringify(v)}`;
  };
  if (type === 'default') return { scaling: null };
  if (type === 'linear') {
    const factor = number('factor');
    return typeof factor === 'string' ? { problem: factor } : { scaling: { type: 'linear', factor } };
  }
  if (type === 'llama3') {
    const values = ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'].map(
      number,
    );
    const bad = values.filter((v): v is string => typeof v === 'string');
    if (bad.length > 0) return { problem: bad.join('; ') };
    const [factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings] = values as number[];
    return {
      scaling: {
        type: 'llama3',
        factor: factor!,
        lowFreqFactor: lowFreqFactor!,
        highFreqFactor: highFreqFactor!,
        originalMaxPositionEmbeddings: originalMaxPositionEmbeddings!,
      },
    };
  }
  return {
    problem: `rope_scaling of type '${String(type)}' is not supported (supported: ${SUPPORTED_ROPE_SCALING.join(', ')})`,
  };
}

/** The model_type values this package implements, for error messages. */
export const SUPPORTED_MODEL_TYPES = ['gpt2', 'llama', 'qwen2'] as const;

/** Read a Llama/Qwen2 config.json object; rejects variants this decoder does not implement. */
export function fromHfLlamaConfig(json: Record<string, unknown>, where: string): ResolvedLlamaConfig {
  const type = json.model_type;
  const problems: string[] = [];
  if (type !== 'llama' && type !== 'qwen2') problems.push(`model_type is '${String(type)}'`);
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') problems.push(`hidden_act '${String(act)}' is not supported (silu only)`);
  const rope = fromHfRopeScaling(json.rope_scaling);
  if ('problem' in rope) problems.push(rope.problem);
  if (json.mlp_bias === true) problems.push('mlp_bias is not supported');
  if (type === 'qwen2' && json.use_sliding_window === true)
    problems.push('use_sliding_window is not supported');
  if (problems.length > 0) {
    throw new StepcoderError(
      'CHECKPOINT',
      `Unsupported ${String(type)} config in ${where}: ${problems.join('; ')}`,
      {
        details: { where, problems },
      },
    );
  }
  const num = (key: string) =>
    json[key] === undefined || json[key] === null ? undefined : Number(json[key]);
  const config: LlamaConfig = {
    family: 'llama',
    modelType: type as 'llama' | 'qwen2',
    vocabSize: Number(json.vocab_size),
    nPositions: Number(json.max_position_embeddings),
    hiddenSize: Number(json.hidden_size),
    intermediateSize: Number(json.intermediate_size),
    nLayer: Number(json.num_hidden_layers),
    nHead: Number(json.num_attention_heads),
    nKvHead: num('num_key_value_heads'),
    headDim: num('head_dim'),
    rmsNormEps: num('rms_norm_eps'),
    ropeTheta: num('rope_theta'),
    ropeScaling: 'scaling' in rope ? rope.scaling : null,
    attentionBias: type === 'qwen2' ? true : json.attention_bias === true,
    // HF's PretrainedConfig default is tied; LlamaConfig and Qwen2Config default to untied.
    tieWordEmbeddings: json.tie_word_embeddings === true,
  };
  for (const key of Object.keys(config) as Array<keyof LlamaConfig>)
    if (config[key] === undefined) delete config[key];
  return resolveLlamaConfig(config, where);
}
