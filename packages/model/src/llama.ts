import { type Rng, StepcoderError, validate } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import {
  attentionBias,
  embedDifferentiable,
  type ForwardInput,
  type ForwardOutput,
  type LayerCache,
  type ParamLookup,
} from './forward.js';
import { sumRows } from './layers.js';
import { frozenProduct, matmul } from './matmul.js';
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
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
  eosTokenIds: number[];
}

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
  const forward = (xi: tf.Tensor, gi: tf.Tensor) => {
    if (native) {
      const [y, xhat, r] = runFused(
        FUSED_KERNELS.rmsNorm,
        { x: xi, g: gi },
        { eps, stats: true },
      ) as tf.Tensor[];
      return { y: y!, r: r!, xhat: xhat! };
    }
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xi), -1, true), eps));
    const xhat = tf.mul(xi, r);
    return { y: tf.mul(gi, xhat), r, xhat };
  };
  if (inference) return forward(x, g).y;
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, gi, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const { y, r, xhat } = forward(xi, gi);
    save([xhat, r, gi]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor;
        const [sx, sr, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dxhat = tf.mul(d, sg);
        const inner = tf.sub(dxhat, tf.mul(sx, tf.mean(tf.mul(dxhat, sx), -1, true)));
        return [tf.mul(inner, sr), sumRows(tf.mul(d, sx))];
      },
    };
  });
  return f(x, g);
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
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [gi, ui, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    let value: tf.Tensor;
    let s: tf.Tensor;
    let silu: tf.Tensor;
    if (native) {
      [value, s, silu] = runFused(FUSED_KERNELS.swiglu, { g: gi, u: ui }, { saved: true }) as [
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
      ];
    } else {
      s = tf.sigmoid(gi);
      silu = tf.mul(gi, s);
      value = tf.mul(silu, ui);
    }
    save([ui, s, silu]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor;
        const [su, ss, sl] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dsilu = tf.add(ss, tf.mul(sl, tf.sub(1, ss))); // σ + g·σ·(1 − σ)
        return [tf.mul(tf.mul(d, su), dsilu), tf.mul(d, sl)];
      },
    };
  });
  return f(gate, up);
}

/** nn.Linear: x [N, in] · Wᵀ (W [out, in]) + b. `frozen`: no gradient for W, see frozenProduct. */
export function denseOutIn(x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor, frozen = false): tf.Tensor2D {
  const y = (frozen ? frozenProduct(x, w) : matmul(x, w, false, true)) as tf.Tensor2D;
  return b ? (tf.add(y, b) as tf.Tensor2D) : y;
}

/**
 * LlamaRotaryEmbedding's inverse frequencies, in float32 as torch computes them:
 * 1 / θ^(2i/d) for i < d/2.
 */
export function ropeInverseFrequencies(headDim: number, theta: number): Float32Array {
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    const exponent = Math.fround(Math.fround(2 * i) / headDim);
    out[i] = Math.fround(1 / Math.fround(theta ** exponent));
  }
  return out;
}

/** cos and sin tables [B, T, 1, hd] for positions [B, T]: emb = cat(freqs, freqs). */
function ropeTables(positions: tf.Tensor2D, headDim: number, theta: number): [tf.Tensor, tf.Tensor] {
  const [b, t] = positions.shape;
  const inv = tf.tensor3d(ropeInverseFrequencies(headDim, theta), [1, 1, headDim / 2]);
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
  const [cos, sin] = ropeTables(input.positions, hd, c.ropeTheta);
  // The native kernels (RMSNorm, RoPE + head split + cache append, decode attention, SwiGLU).
  const native = llamaKernelsActive(x, cos);
  const scale = 1 / Math.sqrt(hd);
  const eps = c.rmsNormEps;
  const oBias = c.attentionBias && c.modelType === 'llama';
  const present: LayerCache[] = [];
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
    rope_scaling: null,
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

/** The model_type values this package implements, for error messages. */
export const SUPPORTED_MODEL_TYPES = ['gpt2', 'llama', 'qwen2'] as const;

/** Read a Llama/Qwen2 config.json object; rejects variants this decoder does not implement. */
export function fromHfLlamaConfig(json: Record<string, unknown>, where: string): ResolvedLlamaConfig {
  const type = json.model_type;
  const problems: string[] = [];
  if (type !== 'llama' && type !== 'qwen2') problems.push(`model_type is '${String(type)}'`);
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') problems.push(`hidden_act '${String(act)}' is not supported (silu only)`);
  const scaling = json.rope_scaling as { rope_type?: string; type?: string } | null | undefined;
  const scalingType = scaling ? (scaling.rope_type ?? scaling.type) : undefined;
  if (scaling && scalingType !== 'default')
    problems.push(`rope_scaling of type '${String(scalingType)}' is not supported (none only)`);
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
    attentionBias: type === 'qwen2' ? true : json.attention_bias === true,
    // HF's PretrainedConfig default is tied; LlamaConfig and Qwen2Config default to untied.
    tieWordEmbeddings: json.tie_word_embeddings === true,
  };
  for (const key of Object.keys(config) as Array<keyof LlamaConfig>)
    if (config[key] === undefined) delete config[key];
  return resolveLlamaConfig(config, where);
}
